// A 128-bit hash of a JSON value's structure and content, computed by walking the tree
// instead of serialising it. The writer uses it to recognise a message it stored before
// without dumping the whole conversation again on every request.
#pragma once

#include <nlohmann/json.hpp>

namespace tapedeck::formats {

struct JsonHash {
    uint64_t low = 0;
    uint64_t high = 0;
    bool operator==(const JsonHash &) const = default;
};

struct JsonHashHasher {
    size_t operator()(const JsonHash &h) const { return size_t(h.low); }
};

JsonHash jsonTreeHash(const nlohmann::json &value);

} // namespace tapedeck::formats
