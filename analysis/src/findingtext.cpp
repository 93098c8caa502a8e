#include "findingtext.h"

#include <cmath>
#include <cstdio>

namespace tapedeck::analysis {

std::string countText(int64_t n)
{
    const std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

std::string tokensText(int64_t n)
{
    char buf[32];
    if (n < 1000)
        return std::to_string(n);
    if (n < 1000000)
        std::snprintf(buf, sizeof buf, "%.1fk", double(n) / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.2fM", double(n) / 1e6);
    return buf;
}

std::string durationText(int64_t us)
{
    char buf[48];
    if (us < 0)
        us = 0;
    const long long s = us / 1000000;
    if (us < 1000000)
        std::snprintf(buf, sizeof buf, "%lldms", (long long)(us / 1000));
    else if (s < 60)
        std::snprintf(buf, sizeof buf, "%.1fs", double(us) / 1e6);
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lldm %02llds", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lldh %02lldm", s / 3600, s / 60 % 60);
    return buf;
}

std::string valueText(double value)
{
    char buf[48];
    const double magnitude = std::fabs(value);
    if (magnitude >= 1000 || magnitude == std::floor(magnitude))
        std::snprintf(buf, sizeof buf, "%.0f", value);
    else if (magnitude >= 1)
        std::snprintf(buf, sizeof buf, "%.2f", value);
    else
        std::snprintf(buf, sizeof buf, "%.3g", value);
    return buf;
}

std::string percentText(double fraction)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f%%", fraction * 100);
    return buf;
}

std::string stepText(formats::StepIndex step)
{
    return "step " + countText(step.value);
}

} // namespace tapedeck::analysis
