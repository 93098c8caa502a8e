// Small text helpers shared by the generators: JSON string escaping, fixed-point numbers,
// timestamps. Everything appends to a caller's string so hot paths reuse one buffer.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace tapedeck::samples {

// Appends `text` as a quoted JSON string (RFC 8259 escaping; bytes >= 0x80 pass through).
void appendJsonString(std::string &out, std::string_view text);

// Appends `value` as compact JSON text. Same grammar as nlohmann::json::dump() (keys in the
// object's order), several times faster for the string-heavy messages of a conversation;
// strings are not validated as UTF-8 (the corpus is ASCII).
void appendCompactJson(std::string &out, const nlohmann::json &value);

// Appends `value` rounded to `decimals` places ("9.87"). Rounds through an integer so the
// text is the same on every C library.
void appendFixed(std::string &out, double value, int decimals);
std::string fixed(double value, int decimals);

// Appends `value` right-aligned in `width` columns.
void appendPadded(std::string &out, std::string_view value, size_t width);

// Microseconds since the Unix epoch of a UTC civil time.
int64_t unixMicros(int year, int month, int day, int hour, int minute, int second);
// "2026-05-12T08:00:03.123456Z"
void appendIsoTimestamp(std::string &out, int64_t us);
// "Tue, 12 May 2026 08:00:03 GMT" (the HTTP Date header)
std::string httpDate(int64_t us);

// Replaces each "{name}" in `pattern` by the value paired with `name`. Unknown names are
// kept as written, so a typo in a template shows up in the output instead of vanishing,
// and braces that do not enclose an identifier (code) pass through unchanged.
using Slot = std::pair<std::string_view, std::string_view>;
void appendFilled(std::string &out, std::string_view pattern, std::span<const Slot> slots);
inline void appendFilled(std::string &out, std::string_view pattern, std::initializer_list<Slot> slots)
{
    appendFilled(out, pattern, std::span<const Slot>(slots.begin(), slots.size()));
}
std::string filled(std::string_view pattern, std::initializer_list<Slot> slots);

} // namespace tapedeck::samples
