#include "importtime.h"

#include <cmath>
#include <string>

namespace tapedeck::formats::import {

namespace {

bool digits(std::string_view text, size_t at, size_t count, int &out)
{
    if (at + count > text.size())
        return false;
    out = 0;
    for (size_t i = at; i < at + count; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        out = out * 10 + (text[i] - '0');
    }
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + int64_t(doe) - 719468;
}

} // namespace

std::optional<int64_t> parseIsoTime(std::string_view t)
{
    int year, month, day, hour, minute, second;
    if (!digits(t, 0, 4, year) || t.size() < 19 || t[4] != '-' || !digits(t, 5, 2, month) ||
        t[7] != '-' || !digits(t, 8, 2, day) || (t[10] != 'T' && t[10] != ' ' && t[10] != 't') ||
        !digits(t, 11, 2, hour) || t[13] != ':' || !digits(t, 14, 2, minute) || t[16] != ':' ||
        !digits(t, 17, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    size_t at = 19;
    int64_t micros = 0;
    if (at < t.size() && (t[at] == '.' || t[at] == ',')) {
        ++at;
        int64_t scale = 100000;
        const size_t start = at;
        while (at < t.size() && t[at] >= '0' && t[at] <= '9') {
            micros += (t[at] - '0') * scale;
            scale /= 10;
            ++at;
        }
        if (at == start)
            return std::nullopt;
    }
    int64_t offsetSeconds = 0;
    if (at < t.size()) {
        if (t[at] == 'Z' || t[at] == 'z') {
            ++at;
        } else if (t[at] == '+' || t[at] == '-') {
            const int sign = t[at] == '-' ? -1 : 1;
            int oh, om = 0;
            if (!digits(t, at + 1, 2, oh))
                return std::nullopt;
            size_t next = at + 3;
            if (next < t.size() && t[next] == ':')
                ++next;
            if (next < t.size()) {
                if (!digits(t, next, 2, om))
                    return std::nullopt;
                next += 2;
            }
            offsetSeconds = sign * (oh * 3600 + om * 60);
            at = next;
        }
    }
    if (at != t.size())
        return std::nullopt;
    const int64_t seconds = daysFromCivil(year, unsigned(month), unsigned(day)) * 86400 +
                            hour * 3600 + minute * 60 + second - offsetSeconds;
    return seconds * 1000000 + micros;
}

int64_t timeFromJson(const nlohmann::json *value)
{
    if (!value)
        return 0;
    if (value->is_string()) {
        const std::string &text = value->get_ref<const std::string &>();
        return parseIsoTime(text).value_or(0);
    }
    if (value->is_number()) {
        const double n = value->get<double>();
        if (!std::isfinite(n) || n <= 0)
            return 0;
        // Seconds until the year 5138; beyond that the number is taken as milliseconds.
        if (n < 1e11)
            return int64_t(std::llround(n * 1e6));
        return int64_t(std::llround(n * 1e3));
    }
    return 0;
}

} // namespace tapedeck::formats::import
