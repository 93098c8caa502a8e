#include "benchmark.h"

#include "textutil.h"

#include <algorithm>
#include <cmath>

namespace tapedeck::samples {

namespace {

// The knots of the best-so-far curve, (progress, geomean): the straight port runs a bit
// below Triton, the first day brings most of the gain, the rest is a long grind.
constexpr double kCurve[][2] = {
    {0.00, 0.92}, {0.04, 1.55}, {0.12, 2.90}, {0.25, 4.60}, {0.40, 6.10},
    {0.55, 7.30}, {0.70, 8.35}, {0.85, 9.20}, {1.00, 9.90},
};

double geometricMean(const std::array<double, Measurement::kWorkloads> &values)
{
    double product = 1;
    for (double v : values)
        product *= v;
    return std::sqrt(std::sqrt(std::sqrt(std::sqrt(product))));
}

} // namespace

Benchmark::Benchmark(Random rng)
    : m_rng(rng)
{
    m_finalFactor = m_rng.real(0.96, 1.01);
    for (size_t i = 0; i < Measurement::kWorkloads; ++i) {
        const Workload &w = workloads()[i];
        double affinity = m_rng.real(-0.15, 0.15);
        if (w.prefix >= 8192)
            affinity += 0.45; // split-KV and pipelining pay most on long prefixes
        if (w.qHeads / w.kvHeads >= 8)
            affinity += 0.25; // GQA sharing
        if (w.batch * w.extend <= 2048)
            affinity -= 0.3;  // small launches stay latency-bound
        m_affinity[i] = affinity;
    }
}

const std::array<Workload, Measurement::kWorkloads> &Benchmark::workloads()
{
    static const std::array<Workload, Measurement::kWorkloads> kWorkloads = {{
        {1, 512, 0, 32, 8},      {1, 2048, 0, 32, 8},     {4, 256, 1024, 32, 8},
        {4, 1024, 2048, 32, 8},  {8, 128, 4096, 32, 8},   {16, 64, 2048, 32, 8},
        {16, 256, 512, 32, 8},   {1, 4096, 4096, 32, 8},  {2, 512, 16384, 32, 8},
        {1, 512, 32768, 32, 8},  {4, 128, 8192, 64, 8},   {8, 512, 1024, 64, 8},
        {2, 1024, 8192, 32, 32}, {8, 256, 4096, 64, 8},   {16, 32, 4096, 16, 2},
        {4, 2048, 1024, 16, 2},
    }};
    return kWorkloads;
}

std::string Benchmark::describe(size_t workload)
{
    const Workload &w = workloads()[workload];
    return "wl " + std::to_string(workload) + " (b=" + std::to_string(w.batch) +
           " ext=" + std::to_string(w.extend) + " pre=" + std::to_string(w.prefix) + ")";
}

double Benchmark::target(double progress) const
{
    const double f = std::clamp(progress, 0.0, 1.0);
    for (size_t i = 1; i < std::size(kCurve); ++i) {
        if (f <= kCurve[i][0]) {
            const double t = (f - kCurve[i - 1][0]) / (kCurve[i][0] - kCurve[i - 1][0]);
            return (kCurve[i - 1][1] + t * (kCurve[i][1] - kCurve[i - 1][1])) * m_finalFactor;
        }
    }
    return kCurve[std::size(kCurve) - 1][1] * m_finalFactor;
}

Measurement Benchmark::measure(Kind kind, double progress)
{
    double geo = 0;
    switch (kind) {
    case Kind::Baseline:
        geo = m_rng.real(0.86, 1.02);
        m_best = geo;
        break;
    case Kind::NewBest: {
        // Close part of the gap to just above the curve: bounded however many new bests a
        // long run has, and the gains shrink as the curve flattens.
        const double ceiling = target(progress) * 1.02;
        geo = m_best < ceiling ? m_best + (ceiling - m_best) * m_rng.real(0.15, 0.8)
                               : m_best + 0.0005 + 0.002 * m_rng.unit();
        break;
    }
    case Kind::Regression:
        geo = m_best * m_rng.tail(0.965, 0.55); // mostly mild, sometimes a big drop
        break;
    case Kind::Plateau:
        geo = m_best * m_rng.real(0.975, 0.9995);
        break;
    }

    Measurement m;
    std::array<double, Measurement::kWorkloads> spread{};
    for (size_t i = 0; i < Measurement::kWorkloads; ++i)
        spread[i] = (1 + m_affinity[i] * progress) * m_rng.real(0.95, 1.05);
    const double spreadMean = geometricMean(spread);
    for (size_t i = 0; i < Measurement::kWorkloads; ++i) {
        const Workload &w = workloads()[i];
        // Triton's time: a fixed launch cost plus the attention FLOPs at ~20 TFLOP/s.
        const double flops = double(w.batch) * w.qHeads * w.extend * (w.prefix + w.extend / 2.0) * 512;
        m.tritonUs[i] = (28 + flops / 2e7) * m_rng.real(0.99, 1.01);
        m.speedup[i] = geo * spread[i] / spreadMean;
        m.oursUs[i] = m.tritonUs[i] / m.speedup[i];
        if (m.speedup[i] > m.speedup[m.fastest])
            m.fastest = i;
        if (m.speedup[i] < m.speedup[m.slowest])
            m.slowest = i;
    }
    m.geomean = geometricMean(m.speedup);
    if (kind == Kind::Baseline || (kind == Kind::NewBest && m.geomean > m_best))
        m_best = m.geomean;
    return m;
}

void Benchmark::appendTable(std::string &out, const Measurement &m)
{
    // The workload columns never change; they are formatted once.
    static const std::array<std::string, Measurement::kWorkloads> kRows = [] {
        std::array<std::string, Measurement::kWorkloads> rows;
        for (size_t i = 0; i < Measurement::kWorkloads; ++i) {
            const Workload &w = workloads()[i];
            appendPadded(rows[i], std::to_string(i), 3);
            appendPadded(rows[i], std::to_string(w.batch), 7);
            appendPadded(rows[i], std::to_string(w.extend), 8);
            appendPadded(rows[i], std::to_string(w.prefix), 8);
            appendPadded(rows[i], std::to_string(w.qHeads) + "/" + std::to_string(w.kvHeads), 13);
        }
        return rows;
    }();
    out.append(" id  batch  extend  prefix  heads(q/kv)  triton_us   ours_us  speedup\n");
    std::string number;
    const auto column = [&](double value, int decimals, size_t width) {
        number.clear();
        appendFixed(number, value, decimals);
        appendPadded(out, number, width);
    };
    for (size_t i = 0; i < Measurement::kWorkloads; ++i) {
        out.append(kRows[i]);
        column(m.tritonUs[i], 1, 11);
        column(m.oursUs[i], 1, 10);
        column(m.speedup[i], 2, 8);
        out.append("x\n");
    }
    out.append("\ngeomean speedup over triton baseline: ");
    appendFixed(out, m.geomean, 2);
    out.append("x\n");
}

} // namespace tapedeck::samples
