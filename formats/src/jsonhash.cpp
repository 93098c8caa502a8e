#include "jsonhash.h"

#include <xxhash.h>

#include <bit>

namespace tapedeck::formats {

namespace {

template <typename T>
void appendRaw(std::string &out, const T &v)
{
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}

// Appends a self-delimiting encoding of `v` to `out` (each value's type, each string's and
// container's length ahead of it), so that different trees never encode alike. Hashing
// the encoding once costs a fraction of feeding a streaming hash its many small pieces.
// False when `v` nests deeper than `depthLeft` levels.
bool encode(std::string &out, const nlohmann::json &v, size_t depthLeft)
{
    out.push_back(char(v.type()));
    switch (v.type()) {
    case nlohmann::json::value_t::object:
        if (depthLeft == 0)
            return false;
        appendRaw(out, uint64_t(v.size()));
        for (auto it = v.begin(); it != v.end(); ++it) {
            const std::string &key = it.key();
            appendRaw(out, uint64_t(key.size()));
            out.append(key);
            if (!encode(out, it.value(), depthLeft - 1))
                return false;
        }
        break;
    case nlohmann::json::value_t::array:
        if (depthLeft == 0)
            return false;
        appendRaw(out, uint64_t(v.size()));
        for (const auto &e : v) {
            if (!encode(out, e, depthLeft - 1))
                return false;
        }
        break;
    case nlohmann::json::value_t::string: {
        const auto &str = v.get_ref<const std::string &>();
        appendRaw(out, uint64_t(str.size()));
        out.append(str);
        break;
    }
    case nlohmann::json::value_t::boolean:
        out.push_back(char(v.get<bool>()));
        break;
    case nlohmann::json::value_t::number_integer:
        appendRaw(out, v.get<int64_t>());
        break;
    case nlohmann::json::value_t::number_unsigned:
        appendRaw(out, v.get<uint64_t>());
        break;
    case nlohmann::json::value_t::number_float:
        appendRaw(out, v.get<double>());
        break;
    case nlohmann::json::value_t::binary: {
        const auto &b = v.get_binary();
        appendRaw(out, uint64_t(b.size()));
        out.append(reinterpret_cast<const char *>(b.data()), b.size());
        break;
    }
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
        break;
    }
    return true;
}

} // namespace

std::optional<JsonHash> jsonTreeHash(const nlohmann::json &value)
{
    // The buffer is kept between calls: a writer hashes every message of every request.
    thread_local std::string encoded;
    encoded.clear();
    if (!encode(encoded, value, kMaxJsonDepth))
        return std::nullopt;
    const XXH128_hash_t h = XXH3_128bits(encoded.data(), encoded.size());
    if (encoded.capacity() > (16u << 20))
        std::string().swap(encoded); // not kept after one huge message
    return JsonHash{h.low64, h.high64};
}

bool jsonIdentical(const nlohmann::json &a, const nlohmann::json &b)
{
    using value_t = nlohmann::json::value_t;
    if (a.type() != b.type())
        return false;
    switch (a.type()) {
    case value_t::object: {
        const auto &x = a.get_ref<const nlohmann::json::object_t &>();
        const auto &y = b.get_ref<const nlohmann::json::object_t &>();
        if (x.size() != y.size())
            return false;
        // Both maps are sorted by key: equal maps pair up in order.
        for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
            if (i->first != j->first || !jsonIdentical(i->second, j->second))
                return false;
        }
        return true;
    }
    case value_t::array: {
        const auto &x = a.get_ref<const nlohmann::json::array_t &>();
        const auto &y = b.get_ref<const nlohmann::json::array_t &>();
        if (x.size() != y.size())
            return false;
        for (size_t i = 0; i < x.size(); ++i) {
            if (!jsonIdentical(x[i], y[i]))
                return false;
        }
        return true;
    }
    case value_t::string:
        return a.get_ref<const std::string &>() == b.get_ref<const std::string &>();
    case value_t::boolean:
        return a.get<bool>() == b.get<bool>();
    case value_t::number_integer:
        return a.get<int64_t>() == b.get<int64_t>();
    case value_t::number_unsigned:
        return a.get<uint64_t>() == b.get<uint64_t>();
    case value_t::number_float:
        // Bit for bit, as the hash sees them: 0.0 and -0.0 differ, a NaN equals itself.
        return std::bit_cast<uint64_t>(a.get<double>()) == std::bit_cast<uint64_t>(b.get<double>());
    case value_t::binary:
        return a.get_binary() == b.get_binary();
    case value_t::null:
    case value_t::discarded:
        return true;
    }
    return false;
}

bool jsonNestsDeeperThan(const nlohmann::json &value, size_t limit)
{
    std::vector<std::pair<const nlohmann::json *, size_t>> stack{{&value, 0}};
    while (!stack.empty()) {
        auto [v, depth] = stack.back();
        stack.pop_back();
        if (!v->is_structured())
            continue;
        if (depth >= limit)
            return true;
        for (const auto &child : *v)
            stack.emplace_back(&child, depth + 1);
    }
    return false;
}

std::optional<std::string> safeDump(const nlohmann::json &value, std::string &error)
{
    if (jsonNestsDeeperThan(value, kMaxJsonDepth)) {
        error = "nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
        return std::nullopt;
    }
    try {
        return value.dump();
    } catch (const nlohmann::json::exception &e) {
        error = std::string("cannot be stored as JSON: ") + e.what();
        return std::nullopt;
    }
}

} // namespace tapedeck::formats
