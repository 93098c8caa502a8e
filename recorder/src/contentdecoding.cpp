#include "contentdecoding.h"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>

namespace tapedeck::recorder {

namespace {

std::optional<std::string> inflateZlib(const std::string &body, size_t limit)
{
    z_stream z{};
    // 15 + 32: a zlib or a gzip header, found automatically.
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return std::nullopt;
    std::string out;
    char buffer[64 * 1024];
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(body.data()));
    z.avail_in = static_cast<uInt>(body.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef *>(buffer);
        z.avail_out = sizeof buffer;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buffer, sizeof buffer - z.avail_out);
        if (out.size() > limit || (rc == Z_BUF_ERROR && z.avail_in == 0))
            break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || out.size() > limit)
        return std::nullopt;
    return out;
}

std::optional<std::string> decodeBrotli(const std::string &body, size_t limit)
{
    BrotliDecoderState *state = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
    if (!state)
        return std::nullopt;
    std::string out;
    size_t availableIn = body.size();
    const uint8_t *nextIn = reinterpret_cast<const uint8_t *>(body.data());
    BrotliDecoderResult result = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
    while (result == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT && out.size() <= limit) {
        uint8_t buffer[64 * 1024];
        size_t availableOut = sizeof buffer;
        uint8_t *nextOut = buffer;
        result = BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut,
                                               &nextOut, nullptr);
        out.append(reinterpret_cast<char *>(buffer), sizeof buffer - availableOut);
    }
    BrotliDecoderDestroyInstance(state);
    if (result != BROTLI_DECODER_RESULT_SUCCESS || out.size() > limit)
        return std::nullopt;
    return out;
}

std::optional<std::string> decodeZstd(const std::string &body, size_t limit)
{
    ZSTD_DStream *stream = ZSTD_createDStream();
    if (!stream)
        return std::nullopt;
    std::string out;
    ZSTD_inBuffer in{body.data(), body.size(), 0};
    size_t rc = 1;
    for (;;) {
        char buffer[64 * 1024];
        ZSTD_outBuffer outBuffer{buffer, sizeof buffer, 0};
        rc = ZSTD_decompressStream(stream, &outBuffer, &in);
        if (ZSTD_isError(rc))
            break;
        out.append(buffer, outBuffer.pos);
        // Done when all input is read and the decoder had room to spare (nothing held back).
        if ((in.pos == in.size && outBuffer.pos < outBuffer.size) || out.size() > limit)
            break;
    }
    ZSTD_freeDStream(stream);
    if (ZSTD_isError(rc) || rc != 0 || out.size() > limit)
        return std::nullopt;
    return out;
}

} // namespace

std::optional<std::string> decodeContent(std::string_view encoding, const std::string &body,
                                         size_t limit)
{
    std::string e(encoding);
    std::transform(e.begin(), e.end(), e.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (e.empty() || e == "identity")
        return body;
    if (e == "gzip" || e == "x-gzip" || e == "deflate")
        return inflateZlib(body, limit);
    if (e == "br")
        return decodeBrotli(body, limit);
    if (e == "zstd")
        return decodeZstd(body, limit);
    return std::nullopt;
}

} // namespace tapedeck::recorder
