// What a model call costs.
#pragma once

#include <tapedeck/formats/tape.h>

namespace tapedeck::samples {

// US dollars per million tokens. Cached input is billed at a fifth of fresh input, as the
// provider's context cache does.
struct PriceTable {
    double inputPerMillion;
    double cachedInputPerMillion;
    double outputPerMillion;
};

inline constexpr PriceTable kQwenMaxPrices{1.20, 0.24, 6.00};

inline double callCost(const formats::Usage &usage, const PriceTable &prices)
{
    const double fresh = double(usage.inputTokens - usage.cacheReadTokens);
    return (fresh * prices.inputPerMillion + double(usage.cacheReadTokens) * prices.cachedInputPerMillion +
            double(usage.outputTokens) * prices.outputPerMillion) /
           1e6;
}

} // namespace tapedeck::samples
