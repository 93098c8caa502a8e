// Compact binary encodings for lists that every step stores: the message ids of a request
// and the chunk map of a stream. Both are varint sequences (FORMAT.md, "Packed lists"),
// small before compression and smaller after it, since consecutive requests mostly list
// ascending ids one apart.
#pragma once

#include "tapedeck/formats/tape.h"

#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::formats {

void appendVarint(std::string &out, uint64_t v);
// Reads one varint at `pos`, advancing it; false on a truncated or overlong encoding.
bool readVarint(std::string_view in, size_t &pos, uint64_t &v);

// Signed numbers as unsigned ones that stay small when the number is near zero.
uint64_t zigzag(int64_t v);
int64_t unzigzag(uint64_t v);

// Ids as zigzag deltas from the previous id (the first from 0), up to the end: no count
// in front, so that the list of a request starts with the bytes of the previous request's
// list and is stored as a delta against it.
std::string packIds(const std::vector<int64_t> &ids);
std::optional<std::vector<int64_t>> unpackIds(std::string_view packed);

// Chunks as (length, microseconds since the previous chunk or since `startUs`).
std::string packChunks(const std::vector<StreamChunk> &chunks, int64_t startUs);
std::optional<std::vector<StreamChunk>> unpackChunks(std::string_view packed, int64_t startUs);

// What a wire exchange says besides its bodies, in one blob: both header objects as JSON
// and the chunk map (FORMAT.md, "Wire metadata").
struct WireMeta {
    nlohmann::json requestHeaders;
    nlohmann::json responseHeaders;
    std::vector<StreamChunk> chunks;
};
std::string packWireMeta(const WireMeta &meta, int64_t startUs);
std::optional<WireMeta> unpackWireMeta(std::string_view packed, int64_t startUs);

} // namespace tapedeck::formats
