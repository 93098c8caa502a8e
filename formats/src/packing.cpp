#include "packing.h"

namespace tapedeck::formats {

uint64_t zigzag(int64_t v)
{
    return (uint64_t(v) << 1) ^ uint64_t(v >> 63);
}

int64_t unzigzag(uint64_t v)
{
    return int64_t(v >> 1) ^ -int64_t(v & 1);
}

void appendVarint(std::string &out, uint64_t v)
{
    while (v >= 0x80) {
        out += char(v | 0x80);
        v >>= 7;
    }
    out += char(v);
}

bool readVarint(std::string_view in, size_t &pos, uint64_t &v)
{
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= in.size())
            return false;
        uint8_t b = uint8_t(in[pos++]);
        v |= uint64_t(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

std::string packIds(const std::vector<int64_t> &ids)
{
    std::string out;
    out.reserve(ids.size() + 4);
    int64_t prev = 0;
    for (int64_t id : ids) {
        appendVarint(out, zigzag(id - prev));
        prev = id;
    }
    return out;
}

std::optional<std::vector<int64_t>> unpackIds(std::string_view packed)
{
    size_t pos = 0;
    std::vector<int64_t> ids;
    int64_t prev = 0;
    while (pos < packed.size()) {
        uint64_t d;
        if (!readVarint(packed, pos, d))
            return std::nullopt;
        prev += unzigzag(d);
        ids.push_back(prev);
    }
    return ids;
}

std::string packChunks(const std::vector<StreamChunk> &chunks, int64_t startUs)
{
    std::string out;
    appendVarint(out, chunks.size());
    int64_t prev = startUs;
    for (const StreamChunk &c : chunks) {
        appendVarint(out, c.length);
        appendVarint(out, zigzag(c.atUs - prev));
        prev = c.atUs;
    }
    return out;
}

std::optional<std::vector<StreamChunk>> unpackChunks(std::string_view packed, int64_t startUs)
{
    size_t pos = 0;
    uint64_t n;
    if (!readVarint(packed, pos, n) || n > packed.size())
        return std::nullopt;
    std::vector<StreamChunk> chunks;
    chunks.reserve(n);
    int64_t prev = startUs;
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t len, dt;
        if (!readVarint(packed, pos, len) || !readVarint(packed, pos, dt) || len > UINT32_MAX)
            return std::nullopt;
        prev += unzigzag(dt);
        chunks.push_back(StreamChunk{uint32_t(len), prev});
    }
    if (pos != packed.size())
        return std::nullopt;
    return chunks;
}

std::string packWireMeta(const WireMeta &meta, int64_t startUs)
{
    std::string out;
    for (const nlohmann::json *headers : {&meta.requestHeaders, &meta.responseHeaders}) {
        std::string text = headers->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        appendVarint(out, text.size());
        out += text;
    }
    out += packChunks(meta.chunks, startUs);
    return out;
}

std::optional<WireMeta> unpackWireMeta(std::string_view packed, int64_t startUs)
{
    WireMeta meta;
    size_t pos = 0;
    for (nlohmann::json *headers : {&meta.requestHeaders, &meta.responseHeaders}) {
        uint64_t n;
        if (!readVarint(packed, pos, n) || n > packed.size() - pos)
            return std::nullopt;
        *headers = nlohmann::json::parse(packed.substr(pos, n), nullptr, false);
        if (headers->is_discarded())
            return std::nullopt;
        pos += n;
    }
    auto chunks = unpackChunks(packed.substr(pos), startUs);
    if (!chunks)
        return std::nullopt;
    meta.chunks = std::move(*chunks);
    return meta;
}

} // namespace tapedeck::formats
