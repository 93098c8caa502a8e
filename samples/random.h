// A seeded random source whose every output is the same on every compiler and standard
// library, so that one seed gives byte-identical sessions everywhere.
#pragma once

#include <cstdint>
#include <iterator>
#include <random>

namespace tapedeck::samples {

// std::mt19937_64 is specified bit for bit by the standard; the std distributions are
// not (libstdc++ and libc++ turn the same engine output into different numbers), and
// log/exp/pow may differ in the last bit between libms. So every distribution here is
// written out with integer arithmetic and IEEE-exact double operations (+ - * / sqrt).
// Callers must not draw twice in one expression (f(rng.a()) + g(rng.b())): C++ leaves the
// order of evaluation of such operands open, and GCC and Clang do pick different orders.
class Random {
public:
    explicit Random(uint64_t seed) : m_engine(seed) {}

    uint64_t bits() { return m_engine(); }
    // A uniform integer in [lo, hi], both included, without modulo bias.
    int64_t between(int64_t lo, int64_t hi);
    // A uniform double in [0, 1).
    double unit() { return double(m_engine() >> 11) * 0x1.0p-53; }
    double real(double lo, double hi) { return lo + (hi - lo) * unit(); }
    // In [lo, hi), bunched towards the middle (the mean of three uniforms).
    double hump(double lo, double hi)
    {
        // One draw per statement: the operands of + are evaluated in an unspecified order.
        double sum = unit();
        sum += unit();
        sum += unit();
        return lo + (hi - lo) * sum / 3;
    }
    // In [lo, hi), mostly near lo with a long tail towards hi (durations, sizes).
    double tail(double lo, double hi)
    {
        const double u = unit();
        return lo + (hi - lo) * u * u * u;
    }
    bool chance(double p) { return unit() < p; }

    template <typename Container>
    const auto &pick(const Container &items)
    {
        return *(std::begin(items) + between(0, int64_t(std::size(items)) - 1));
    }

    // An independent generator for a separate stream of decisions, so that adding a draw
    // to one stream does not shift every later number of the others.
    Random split() { return Random(mix(m_engine())); }

private:
    static uint64_t mix(uint64_t x); // splitmix64 finalizer

    std::mt19937_64 m_engine;
};

} // namespace tapedeck::samples
