#include "redactor.h"

#include "textutil.h"

#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace tapedeck::recorder {

namespace {

std::string placeholderFor(const std::string &secret)
{
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(XXH3_64bits(secret.data(), secret.size())));
    std::string out = "<redacted:";
    out.append(hex, 8);
    out += '>';
    return out;
}

} // namespace

formats::Result<Redactor> Redactor::create(const std::vector<std::string> &extraHeaders,
                                           const std::vector<std::string> &patterns)
{
    Redactor r;
    r.m_secretHeaders = {"authorization", "x-api-key",  "x-goog-api-key", "api-key",
                         "cookie",        "set-cookie", "proxy-authorization"};
    for (const std::string &name : extraHeaders)
        r.m_secretHeaders.push_back(lowercase(name));
    for (const std::string &pattern : patterns) {
        try {
            r.m_patterns.emplace_back(pattern, std::regex::ECMAScript | std::regex::optimize);
        } catch (const std::regex_error &e) {
            return formats::Error{formats::ErrorCode::InvalidArgument,
                                  "--redact '" + pattern + "' is not a valid regular expression: " +
                                      e.what()};
        }
    }
    return r;
}

bool Redactor::isSecretHeader(const std::string &name) const
{
    const std::string lower = lowercase(name);
    return std::find(m_secretHeaders.begin(), m_secretHeaders.end(), lower) != m_secretHeaders.end();
}

nlohmann::json Redactor::headers(const std::vector<std::pair<std::string, std::string>> &headers) const
{
    nlohmann::json out = nlohmann::json::object();
    for (const auto &[name, value] : headers) {
        const std::string lower = lowercase(name);
        const std::string stored = isSecretHeader(lower) ? std::string("<redacted>") : text(value);
        // A header sent twice keeps both values, joined as HTTP allows.
        if (out.contains(lower))
            out[lower] = out[lower].get<std::string>() + ", " + stored;
        else
            out[lower] = stored;
    }
    return out;
}

std::string Redactor::text(const std::string &input) const
{
    std::vector<formats::StreamChunk> none;
    return text(input, none);
}

std::string Redactor::text(const std::string &body, std::vector<formats::StreamChunk> &chunks) const
{
    if (m_patterns.empty())
        return body;
    // Where each chunk ends in the current text; moved along with every replacement.
    std::vector<size_t> ends;
    size_t offset = 0;
    for (const formats::StreamChunk &chunk : chunks)
        ends.push_back(offset += chunk.length);

    std::string current = body;
    for (const std::regex &pattern : m_patterns) {
        std::string next;
        size_t last = 0;
        size_t endIndex = 0;
        // Ends up to `upTo` in `current` are unchanged text: they move by the growth so far.
        auto carryEnds = [&](size_t upTo, size_t to) {
            for (; endIndex < ends.size() && ends[endIndex] <= upTo; ++endIndex)
                ends[endIndex] = to == std::string::npos ? next.size() - (upTo - ends[endIndex])
                                                         : to;
        };
        for (auto it = std::sregex_iterator(current.begin(), current.end(), pattern);
             it != std::sregex_iterator(); ++it) {
            const auto &match = *it;
            if (match.length(0) == 0)
                continue;
            const size_t start = static_cast<size_t>(match.position(0));
            const size_t stop = start + static_cast<size_t>(match.length(0));
            next.append(current, last, start - last);
            carryEnds(start, std::string::npos);
            next += placeholderFor(match.str(0));
            carryEnds(stop - 1, next.size()); // a chunk that ends inside the match keeps it all
            last = stop;
        }
        next.append(current, last, std::string::npos);
        carryEnds(current.size(), std::string::npos);
        current = std::move(next);
    }
    size_t previous = 0;
    for (size_t i = 0; i < chunks.size(); ++i) {
        chunks[i].length = static_cast<uint32_t>(ends[i] - previous);
        previous = ends[i];
    }
    return current;
}

void Redactor::strings(nlohmann::json &value) const
{
    if (m_patterns.empty())
        return;
    if (value.is_string()) {
        value = text(value.get_ref<const std::string &>());
    } else if (value.is_structured()) {
        for (nlohmann::json &item : value)
            strings(item);
    }
}

} // namespace tapedeck::recorder
