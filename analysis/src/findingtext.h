// Numbers and spans as the findings' titles and details print them: 1,234 · 12.3k ·
// 35h 02m · 4.2s · steps 12-40. Kept here rather than shared with the command line: the
// app shows the same titles.
#pragma once

#include <tapedeck/formats/tape.h>

#include <cstdint>
#include <string>

namespace tapedeck::analysis {

std::string countText(int64_t n);      // 1,234
std::string tokensText(int64_t n);     // 980, 12.3k, 1.2M
std::string durationText(int64_t us);  // 830ms, 4.2s, 12m 05s, 3h 02m
std::string valueText(double value);   // 9.65, 0.123, 1234
std::string percentText(double fraction); // 12%
std::string stepText(formats::StepIndex step); // "step 1,234"

} // namespace tapedeck::analysis
