#include "format.h"

#include <cstdio>
#include <ctime>

namespace tapedeck::cli {

std::string withCommas(int64_t n)
{
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

std::string humanBytes(int64_t bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%lld B", (long long)bytes);
    else
        std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : "%.1f %s", v, units[u]);
    return buf;
}

std::string humanCount(int64_t n)
{
    char buf[32];
    if (n < 10000)
        return withCommas(n);
    if (n < 1000000)
        std::snprintf(buf, sizeof buf, "%.1fk", double(n) / 1e3);
    else if (n < 1000000000)
        std::snprintf(buf, sizeof buf, "%.1fM", double(n) / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.2fG", double(n) / 1e9);
    return buf;
}

std::string humanDuration(int64_t micros)
{
    char buf[48];
    if (micros < 0)
        micros = 0;
    if (micros < 1000000) {
        std::snprintf(buf, sizeof buf, "%lldms", (long long)(micros / 1000));
        return buf;
    }
    int64_t s = micros / 1000000;
    if (s < 60) {
        std::snprintf(buf, sizeof buf, "%.1fs", double(micros) / 1e6);
    } else if (s < 3600) {
        std::snprintf(buf, sizeof buf, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
    } else {
        std::snprintf(buf, sizeof buf, "%lldh %02lldm %02llds", (long long)(s / 3600),
                      (long long)(s / 60 % 60), (long long)(s % 60));
    }
    return buf;
}

std::string times(double factor)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fx", factor);
    return buf;
}

std::string utcTime(int64_t micros)
{
    if (micros <= 0)
        return "-";
    std::time_t t = std::time_t(micros / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

std::string oneLine(const std::string &text, size_t width)
{
    std::string out;
    bool space = false;
    size_t chars = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = text[i];
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = true;
            continue;
        }
        if (space && !out.empty()) {
            out += ' ';
            ++chars;
        }
        space = false;
        // Cut only before the first byte of a character, never inside one.
        if (chars >= width && (c & 0xc0) != 0x80)
            return out + "…";
        out += char(c);
        if ((c & 0xc0) != 0x80)
            ++chars;
    }
    return out;
}

} // namespace tapedeck::cli
