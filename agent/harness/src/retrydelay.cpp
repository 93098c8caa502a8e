#include "retrydelay.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <optional>
#include <random>

namespace tapedeck::agent {
namespace {

std::optional<double> parseNumber(const std::string &text)
{
    double value = 0;
    const char *end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || !std::isfinite(value) || value < 0)
        return std::nullopt;
    return value;
}

std::optional<double> serverAdvice(const std::string &retryAfterMs, const std::string &retryAfter)
{
    if (auto ms = parseNumber(retryAfterMs))
        return *ms / 1000.0;
    if (auto seconds = parseNumber(retryAfter))
        return *seconds;
    if (!retryAfter.empty()) {
        const time_t at = curl_getdate(retryAfter.c_str(), nullptr);
        if (at != -1)
            return std::max(0.0, std::difftime(at, std::time(nullptr)));
    }
    return std::nullopt;
}

} // namespace

double retryDelaySeconds(int attempt, const std::string &retryAfterMs,
                         const std::string &retryAfter)
{
    if (auto advice = serverAdvice(retryAfterMs, retryAfter))
        return std::min(*advice, kMaxRetryWaitSeconds);
    const double base = std::min(8.0, 0.5 * std::pow(2.0, std::clamp(attempt, 0, 10)));
    static thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.0, 0.25);
    return base * (1.0 - jitter(rng));
}

} // namespace tapedeck::agent
