// Human-readable numbers for terminal output: 1,234,567 · 12.3 MiB · 35h 02m · 2026-05-12 08:00:00.
#pragma once

#include <cstdint>
#include <string>

namespace tapedeck::cli {

std::string withCommas(int64_t n);
std::string humanBytes(int64_t bytes);
std::string humanCount(int64_t n);              // 1.2k, 3.4M
std::string humanDuration(int64_t micros);
std::string times(double factor);               // 9.65x      // 35h 02m 11s, 4.2s, 830ms
std::string utcTime(int64_t micros);            // 2026-05-12 08:00:00Z, or "-" for 0
std::string oneLine(const std::string &text, size_t width); // newlines folded, cut with …

} // namespace tapedeck::cli
