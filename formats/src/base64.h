// Base64 (RFC 4648, with padding) for wire bytes in the JSONL interchange that are not
// valid UTF-8 and so cannot be JSON strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tapedeck::formats {

std::string base64Encode(std::string_view bytes);
// Empty optional on any character outside the alphabet or a wrong length.
std::optional<std::string> base64Decode(std::string_view text);
bool isValidUtf8(std::string_view bytes);

} // namespace tapedeck::formats
