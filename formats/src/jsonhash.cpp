#include "jsonhash.h"

#include <xxhash.h>

namespace tapedeck::formats {

static void feed(XXH3_state_t *state, const nlohmann::json &v)
{
    const char tag = char(v.type());
    XXH3_128bits_update(state, &tag, 1);
    switch (v.type()) {
    case nlohmann::json::value_t::object:
        for (auto it = v.begin(); it != v.end(); ++it) {
            const std::string &key = it.key();
            uint64_t n = key.size();
            XXH3_128bits_update(state, &n, sizeof n);
            XXH3_128bits_update(state, key.data(), key.size());
            feed(state, it.value());
        }
        break;
    case nlohmann::json::value_t::array: {
        uint64_t n = v.size();
        XXH3_128bits_update(state, &n, sizeof n);
        for (const auto &e : v)
            feed(state, e);
        break;
    }
    case nlohmann::json::value_t::string: {
        const auto &s = v.get_ref<const std::string &>();
        uint64_t n = s.size();
        XXH3_128bits_update(state, &n, sizeof n);
        XXH3_128bits_update(state, s.data(), s.size());
        break;
    }
    case nlohmann::json::value_t::boolean: {
        char b = v.get<bool>();
        XXH3_128bits_update(state, &b, 1);
        break;
    }
    case nlohmann::json::value_t::number_integer: {
        int64_t i = v.get<int64_t>();
        XXH3_128bits_update(state, &i, sizeof i);
        break;
    }
    case nlohmann::json::value_t::number_unsigned: {
        uint64_t u = v.get<uint64_t>();
        XXH3_128bits_update(state, &u, sizeof u);
        break;
    }
    case nlohmann::json::value_t::number_float: {
        double d = v.get<double>();
        XXH3_128bits_update(state, &d, sizeof d);
        break;
    }
    case nlohmann::json::value_t::binary:
        XXH3_128bits_update(state, v.get_binary().data(), v.get_binary().size());
        break;
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
        break;
    }
}

JsonHash jsonTreeHash(const nlohmann::json &value)
{
    XXH3_state_t *state = XXH3_createState();
    XXH3_128bits_reset(state);
    feed(state, value);
    XXH128_hash_t h = XXH3_128bits_digest(state);
    XXH3_freeState(state);
    return JsonHash{h.low64, h.high64};
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
