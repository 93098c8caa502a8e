// What eval/run_eval.py measures: sixteen workloads, and a geometric-mean speed-up that
// climbs noisily towards ~10x over the run.
#pragma once

#include "random.h"

#include <array>
#include <string>

namespace tapedeck::samples {

struct Workload {
    int batch, extend, prefix, qHeads, kvHeads;
};

// One run of the evaluation script's benchmark.
struct Measurement {
    static constexpr size_t kWorkloads = 16;
    std::array<double, kWorkloads> tritonUs{};
    std::array<double, kWorkloads> oursUs{};
    std::array<double, kWorkloads> speedup{};
    double geomean = 0;
    size_t fastest = 0; // the workload with the highest speed-up
    size_t slowest = 0;
};

// The speed-up model. The best geomean follows a fixed curve of the run's progress (fast
// early gains, then a long tail of small ones) that ends near 10x; an outcome planned by the
// story places a measurement against it: a new best lands between the current best and the
// curve, a regression well below the best, a plateau within noise of it. How the geomean
// spreads over workloads drifts with progress (long prefixes and GQA gain most later on).
// Geometric means use products and square roots only (16 = 2^4 workloads), which are exact
// IEEE operations, so the printed numbers are the same everywhere.
class Benchmark {
public:
    explicit Benchmark(Random rng);

    static const std::array<Workload, Measurement::kWorkloads> &workloads();
    static std::string describe(size_t workload); // "wl 9 (b=1 ext=512 pre=32768)"

    enum class Kind { Baseline, NewBest, Regression, Plateau };
    Measurement measure(Kind kind, double progress);

    double best() const { return m_best; }

    // The evaluation table and geomean line, as run_eval.py prints them.
    static void appendTable(std::string &out, const Measurement &m);

private:
    double target(double progress) const;

    Random m_rng;
    double m_best = 0;
    double m_finalFactor = 1; // where this seed's curve ends, around 10x
    std::array<double, Measurement::kWorkloads> m_affinity{};
};

} // namespace tapedeck::samples
