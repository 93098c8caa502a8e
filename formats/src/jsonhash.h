// A 128-bit hash of a JSON value's structure and content, computed by walking the tree
// instead of serialising it. The writer uses it to recognise a message it stored before
// without dumping the whole conversation again on every request.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace tapedeck::formats {

struct JsonHash {
    uint64_t low = 0;
    uint64_t high = 0;
    bool operator==(const JsonHash &) const = default;
};

struct JsonHashHasher {
    size_t operator()(const JsonHash &h) const { return size_t(h.low); }
};

// Deeper nesting than this is refused on the way in: the walks over JSON (hashing,
// serialising, extracting text) recurse, and a hostile document must not overflow the stack.
inline constexpr size_t kMaxJsonDepth = 256;

// Nothing when `value` nests deeper than kMaxJsonDepth.
std::optional<JsonHash> jsonTreeHash(const nlohmann::json &value);

// Whether `a` and `b` are the same tree in every detail the hash and the serialised text
// see: unlike nlohmann's operator==, 1 and 1.0 differ, as do the bits of two doubles.
// A walk that stops at the first difference: how a writer finds that a request sends the
// parameters of the one before. Recurses no deeper than the shallower tree.
bool jsonIdentical(const nlohmann::json &a, const nlohmann::json &b);

// Whether `value` nests arrays and objects deeper than `limit` (walks without recursion).
bool jsonNestsDeeperThan(const nlohmann::json &value, size_t limit);

// Serialises `value` compactly; an error instead of an exception when a string in it is
// not UTF-8 or it nests too deep, with `error` saying which.
std::optional<std::string> safeDump(const nlohmann::json &value, std::string &error);

} // namespace tapedeck::formats
