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
    if (m_patterns.empty())
        return input;
    std::string current = input;
    for (const std::regex &pattern : m_patterns) {
        std::string next;
        auto begin = std::sregex_iterator(current.begin(), current.end(), pattern);
        size_t last = 0;
        for (auto it = begin; it != std::sregex_iterator(); ++it) {
            const auto &match = *it;
            if (match.length(0) == 0)
                continue;
            next.append(current, last, static_cast<size_t>(match.position(0)) - last);
            next += placeholderFor(match.str(0));
            last = static_cast<size_t>(match.position(0) + match.length(0));
        }
        next.append(current, last, std::string::npos);
        current = std::move(next);
    }
    return current;
}

} // namespace tapedeck::recorder
