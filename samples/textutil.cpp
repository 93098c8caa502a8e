#include "textutil.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace tapedeck::samples {

namespace {

// Whether any of the 8 bytes of `word` is a control character, '"' or '\\' (may say yes
// for a word that has none, never no for one that has one: the classic "has zero byte"
// bit trick, applied to the bytes XORed with each special value).
bool mayNeedEscape(uint64_t word)
{
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHighs = 0x8080808080808080ULL;
    const auto hasZero = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
    const uint64_t control = (word - kOnes * 0x20) & ~word & kHighs;
    return (control | hasZero(word ^ (kOnes * '"')) | hasZero(word ^ (kOnes * '\\'))) != 0;
}

} // namespace

void appendJsonString(std::string &out, std::string_view text)
{
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    const char *data = text.data();
    const size_t size = text.size();
    size_t plainFrom = 0;
    size_t i = 0;
    while (i < size) {
        // Skip plain text a word at a time; most of a conversation needs no escaping.
        if (i + 8 <= size) {
            uint64_t word;
            std::memcpy(&word, data + i, 8);
            if (!mayNeedEscape(word)) {
                i += 8;
                continue;
            }
        }
        const auto c = static_cast<unsigned char>(data[i]);
        if (c >= 0x20 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        out.append(data + plainFrom, i - plainFrom);
        plainFrom = ++i;
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\t': out.append("\\t"); break;
        case '\r': out.append("\\r"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default:
            out.append("\\u00");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    out.append(data + plainFrom, size - plainFrom);
    out.push_back('"');
}

void appendCompactJson(std::string &out, const nlohmann::json &value)
{
    switch (value.type()) {
    case nlohmann::json::value_t::object: {
        out.push_back('{');
        bool first = true;
        for (const auto &[key, member] : value.items()) {
            if (!first)
                out.push_back(',');
            first = false;
            appendJsonString(out, key);
            out.push_back(':');
            appendCompactJson(out, member);
        }
        out.push_back('}');
        break;
    }
    case nlohmann::json::value_t::array: {
        out.push_back('[');
        bool first = true;
        for (const nlohmann::json &element : value) {
            if (!first)
                out.push_back(',');
            first = false;
            appendCompactJson(out, element);
        }
        out.push_back(']');
        break;
    }
    case nlohmann::json::value_t::string:
        appendJsonString(out, value.get_ref<const std::string &>());
        break;
    case nlohmann::json::value_t::boolean:
        out.append(value.get<bool>() ? "true" : "false");
        break;
    case nlohmann::json::value_t::number_integer:
        out.append(std::to_string(value.get<int64_t>()));
        break;
    case nlohmann::json::value_t::number_unsigned:
        out.append(std::to_string(value.get<uint64_t>()));
        break;
    default: // null, floating point, binary, discarded: rare here, nlohmann knows best
        out.append(value.dump());
        break;
    }
}

void appendFixed(std::string &out, double value, int decimals)
{
    int64_t scale = 1;
    for (int i = 0; i < decimals; ++i)
        scale *= 10;
    int64_t units = std::llround(value * double(scale));
    if (units < 0) {
        out.push_back('-');
        units = -units;
    }
    char digits[24];
    const auto whole = std::to_chars(digits, digits + sizeof digits, units / scale);
    out.append(digits, whole.ptr);
    if (decimals > 0) {
        out.push_back('.');
        const auto frac = std::to_chars(digits, digits + sizeof digits, units % scale);
        out.append(size_t(decimals) - size_t(frac.ptr - digits), '0');
        out.append(digits, frac.ptr);
    }
}

std::string fixed(double value, int decimals)
{
    std::string out;
    appendFixed(out, value, decimals);
    return out;
}

void appendPadded(std::string &out, std::string_view value, size_t width)
{
    if (value.size() < width)
        out.append(width - value.size(), ' ');
    out.append(value);
}

namespace {

// Howard Hinnant's days_from_civil / civil_from_days: exact integer calendar arithmetic.
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil {
    int64_t year, month, day, hour, minute, second, micros, weekday;
};

Civil civilFromMicros(int64_t us)
{
    constexpr int64_t kDay = 86'400'000'000;
    int64_t days = us / kDay;
    int64_t rest = us % kDay;
    if (rest < 0) {
        rest += kDay;
        --days;
    }
    const int64_t weekday = ((days % 7) + 11) % 7; // 1970-01-01 was a Thursday (4)
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const int64_t year = yoe + era * 400 + (month <= 2);
    const int64_t seconds = rest / 1'000'000;
    return {year, month, day, seconds / 3600, seconds / 60 % 60, seconds % 60, rest % 1'000'000,
            weekday};
}

void appendTwoDigits(std::string &out, int64_t value)
{
    out.push_back(char('0' + value / 10 % 10));
    out.push_back(char('0' + value % 10));
}

} // namespace

int64_t unixMicros(int year, int month, int day, int hour, int minute, int second)
{
    const int64_t days = daysFromCivil(year, month, day);
    return ((days * 24 + hour) * 60 + minute) * 60'000'000 + int64_t(second) * 1'000'000;
}

void appendIsoTimestamp(std::string &out, int64_t us)
{
    const Civil c = civilFromMicros(us);
    out.append(std::to_string(c.year));
    out.push_back('-');
    appendTwoDigits(out, c.month);
    out.push_back('-');
    appendTwoDigits(out, c.day);
    out.push_back('T');
    appendTwoDigits(out, c.hour);
    out.push_back(':');
    appendTwoDigits(out, c.minute);
    out.push_back(':');
    appendTwoDigits(out, c.second);
    out.push_back('.');
    const std::string micros = std::to_string(c.micros);
    out.append(6 - micros.size(), '0');
    out.append(micros);
    out.push_back('Z');
}

std::string httpDate(int64_t us)
{
    static constexpr const char *kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char *kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const Civil c = civilFromMicros(us);
    std::string out = kDays[c.weekday];
    out.append(", ");
    appendTwoDigits(out, c.day);
    out.push_back(' ');
    out.append(kMonths[c.month - 1]);
    out.push_back(' ');
    out.append(std::to_string(c.year));
    out.push_back(' ');
    appendTwoDigits(out, c.hour);
    out.push_back(':');
    appendTwoDigits(out, c.minute);
    out.push_back(':');
    appendTwoDigits(out, c.second);
    out.append(" GMT");
    return out;
}

void appendFilled(std::string &out, std::string_view pattern, std::span<const Slot> slots)
{
    // Only "{identifier}" is a slot, so braces of code inside templates pass through.
    const auto isNameChar = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    };
    size_t from = 0;
    size_t scan = 0;
    while (true) {
        const size_t open = pattern.find('{', scan);
        if (open == std::string_view::npos)
            break;
        size_t close = open + 1;
        while (close < pattern.size() && isNameChar(pattern[close]))
            ++close;
        scan = open + 1;
        if (close == open + 1 || close >= pattern.size() || pattern[close] != '}')
            continue;
        const std::string_view name = pattern.substr(open + 1, close - open - 1);
        for (const auto &[key, value] : slots) {
            if (key == name) {
                out.append(pattern.substr(from, open - from));
                out.append(value);
                from = scan = close + 1;
                break;
            }
        }
    }
    out.append(pattern.substr(from));
}

std::string filled(std::string_view pattern, std::initializer_list<Slot> slots)
{
    std::string out;
    appendFilled(out, pattern, slots);
    return out;
}

} // namespace tapedeck::samples
