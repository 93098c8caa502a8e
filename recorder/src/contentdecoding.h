// Undoes a Content-Encoding (gzip, deflate, br, zstd) so that a compressed body can be read
// as JSON or server-sent events. The exact, still-encoded bytes are what the tape keeps
// as the wire body; this is only for the normalized form beside them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tapedeck::recorder {

// The decoded body; `body` itself when `encoding` is empty or "identity"; nullopt when the
// encoding is unknown or the bytes do not decode. Output is capped at `limit` bytes (a body
// that inflates past it is treated as not decodable).
std::optional<std::string> decodeContent(std::string_view encoding, const std::string &body,
                                         size_t limit = size_t(256) << 20);

} // namespace tapedeck::recorder
