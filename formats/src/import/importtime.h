// The timestamps trajectory formats write, as microseconds since the Unix epoch.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace tapedeck::formats::import {

// ISO 8601 / RFC 3339 date-times: "2025-05-12T20:27:36.123456-04:00", "...Z", with or
// without fractional seconds, with "T" or a space between date and time; a time without
// an offset is taken as UTC. nullopt when the text is not one.
std::optional<int64_t> parseIsoTime(std::string_view text);

// A JSON value that holds a time: an ISO 8601 string, or a number of seconds since the
// epoch (milliseconds when it is larger than any plausible number of seconds). 0 when the
// value is absent or not a time.
int64_t timeFromJson(const nlohmann::json *value);

} // namespace tapedeck::formats::import
