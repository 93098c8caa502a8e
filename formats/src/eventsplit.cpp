#include "eventsplit.h"

#include "packing.h"

#include <algorithm>
#include <vector>

namespace tapedeck::formats {

namespace {

constexpr std::string_view kEventEnd = "\n\n";

std::vector<std::string_view> eventsOf(std::string_view body)
{
    std::vector<std::string_view> events;
    size_t from = 0;
    while (from < body.size()) {
        size_t end = body.find(kEventEnd, from);
        end = end == std::string_view::npos ? body.size() : end + kEventEnd.size();
        events.push_back(body.substr(from, end - from));
        from = end;
    }
    return events;
}

} // namespace

size_t countEvents(std::string_view body)
{
    size_t n = 0;
    for (size_t from = 0; from < body.size(); ++n) {
        size_t end = body.find(kEventEnd, from);
        from = end == std::string_view::npos ? body.size() : end + kEventEnd.size();
    }
    return n;
}

// Layout: varint event count; then three columns of as many varints: the prefix lengths
// and the suffix lengths, each as the zigzag of its difference from the previous event's
// (0 while the framing stays the same), and the middle lengths; then the middles,
// concatenated. Columns compress better than rows: each holds one kind of number.
std::string splitEvents(std::string_view body)
{
    const std::vector<std::string_view> events = eventsOf(body);
    std::string prefixes, suffixes, lengths, middles;
    std::string_view previous;
    int64_t lastPrefix = 0, lastSuffix = 0;
    for (std::string_view e : events) {
        const size_t limit = std::min(previous.size(), e.size());
        size_t prefix = 0;
        while (prefix < limit && previous[prefix] == e[prefix])
            ++prefix;
        size_t suffix = 0;
        while (suffix < limit - prefix &&
               previous[previous.size() - 1 - suffix] == e[e.size() - 1 - suffix])
            ++suffix;
        appendVarint(prefixes, zigzag(int64_t(prefix) - lastPrefix));
        appendVarint(suffixes, zigzag(int64_t(suffix) - lastSuffix));
        lastPrefix = int64_t(prefix);
        lastSuffix = int64_t(suffix);
        appendVarint(lengths, e.size() - prefix - suffix);
        middles.append(e.substr(prefix, e.size() - prefix - suffix));
        previous = e;
    }
    std::string out;
    out.reserve(10 + prefixes.size() + suffixes.size() + lengths.size() + middles.size());
    appendVarint(out, events.size());
    out.append(prefixes).append(suffixes).append(lengths).append(middles);
    return out;
}

std::optional<std::string> joinEvents(std::string_view split, size_t size)
{
    size_t pos = 0;
    uint64_t count;
    // Every event takes at least three bytes of the split form.
    if (!readVarint(split, pos, count) || count > split.size())
        return std::nullopt;
    std::vector<uint64_t> columns(3 * count);
    for (uint64_t &v : columns) {
        if (!readVarint(split, pos, v))
            return std::nullopt;
    }
    // Prefix and suffix lengths from their differences, each kept within the body.
    for (uint64_t column = 0; column < 2; ++column) {
        int64_t last = 0;
        for (uint64_t i = 0; i < count; ++i) {
            uint64_t &v = columns[column * count + i];
            const int64_t d = unzigzag(v);
            if (d > int64_t(size) || d < -int64_t(size) || last + d < 0 ||
                last + d > int64_t(size))
                return std::nullopt;
            last += d;
            v = uint64_t(last);
        }
    }
    std::string out;
    out.reserve(size);
    size_t previousAt = 0, previousSize = 0;
    for (uint64_t i = 0; i < count; ++i) {
        const uint64_t prefix = columns[i], suffix = columns[count + i],
                       middle = columns[2 * count + i];
        // Checked one by one, so that no sum can wrap.
        if (prefix > previousSize || suffix > previousSize - prefix ||
            middle > split.size() - pos || middle > size - out.size() ||
            prefix + suffix > size - out.size() - middle)
            return std::nullopt;
        const size_t at = out.size();
        out.append(out, previousAt, prefix);
        out.append(split.substr(pos, middle));
        out.append(out, previousAt + previousSize - suffix, suffix);
        pos += middle;
        previousAt = at;
        previousSize = out.size() - at;
    }
    if (pos != split.size() || out.size() != size)
        return std::nullopt;
    return out;
}

} // namespace tapedeck::formats
