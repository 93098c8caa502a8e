#include "random.h"

namespace tapedeck::samples {

int64_t Random::between(int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    const uint64_t range = uint64_t(hi) - uint64_t(lo) + 1;
    if (range == 0) // the whole 64-bit range
        return int64_t(m_engine());
    // Reject the top partial block of the 64-bit range so that every value is equally likely.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t x = m_engine();
    while (x >= limit)
        x = m_engine();
    return int64_t(uint64_t(lo) + x % range);
}

uint64_t Random::mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

} // namespace tapedeck::samples
