// How long to wait before retrying a model call.
#pragma once

#include <string>

namespace tapedeck::agent {

// The longest wait a retry-after header may impose; a server asking for more is waited for
// this long, and the retry budget decides the rest.
inline constexpr double kMaxRetryWaitSeconds = 60;

// The wait before retry number `attempt` (0 for the first retry). A server's own advice wins:
// retry-after-ms (milliseconds), else retry-after (seconds, or an HTTP date). Without advice
// the wait is exponential: 0.5 s doubling up to 8 s, less up to a quarter of random jitter
// so that clients which failed together do not retry together.
double retryDelaySeconds(int attempt, const std::string &retryAfterMs,
                         const std::string &retryAfter);

} // namespace tapedeck::agent
