// Progress rules over the metric the tool outputs print (a speed-up, a score): new bests,
// regressions (points worse than the best by more than the noise band), and plateaus (a
// long stretch of points without a new best).
#include "findingtext.h"
#include "rules.h"

#include <cmath>

namespace tapedeck::analysis {

namespace {

bool better(double a, double b, bool higherIsBetter)
{
    return higherIsBetter ? a > b : a < b;
}

// How far `value` is behind `best`, as a fraction of the best (positive: worse).
double shortfall(double value, double best, bool higherIsBetter)
{
    const double scale = std::fabs(best) > 0 ? std::fabs(best) : 1;
    return (higherIsBetter ? best - value : value - best) / scale;
}

std::vector<size_t> pointSteps(const BranchSteps &steps, size_t first, size_t last)
{
    std::vector<size_t> positions;
    for (size_t i = first; i <= last; ++i)
        positions.push_back(steps.metric[i].result);
    return positions;
}

} // namespace

std::vector<MetricStanding> metricStandings(const BranchSteps &steps, const AnalysisOptions &options)
{
    std::vector<MetricStanding> out;
    double best = 0;
    for (size_t i = 0; i < steps.metric.size(); ++i) {
        const double v = steps.metric[i].value;
        if (i == 0) {
            out.push_back(MetricStanding::First);
            best = v;
        } else if (better(v, best, options.higherIsBetter)) {
            out.push_back(MetricStanding::NewBest);
            best = v;
        } else if (shortfall(v, best, options.higherIsBetter) > options.regressionFraction) {
            out.push_back(MetricStanding::Setback);
        } else {
            out.push_back(MetricStanding::Level);
        }
    }
    return out;
}

void findProgress(const BranchSteps &steps, const AnalysisOptions &options,
                  const std::vector<MetricStanding> &standings, std::vector<Finding> &out)
{
    const std::vector<MetricPoint> &points = steps.metric;
    if (points.empty())
        return;
    const bool higher = options.higherIsBetter;
    double best = points.front().value;
    size_t bestAt = 0;
    std::optional<size_t> setbackFrom;
    size_t sinceBest = 0; // the first point after the current best

    auto closeSetback = [&](size_t last, std::optional<size_t> recovered) {
        const size_t first = *setbackFrom;
        setbackFrom.reset();
        double worst = points[first].value;
        for (size_t i = first; i <= last; ++i)
            if (better(worst, points[i].value, higher))
                worst = points[i].value;
        Finding f = makeFinding(steps, FindingKind::Regression, Severity::Notice, pointSteps(steps, first, last));
        const double fell = shortfall(worst, best, higher);
        const size_t n = last - first + 1;
        f.title = n == 1 ? "regression: " + valueText(worst) + ", " + percentText(fell) + " worse than the best " + valueText(best)
                         : "regression: " + std::to_string(n) + " points worse than the best " + valueText(best) +
                               " (worst " + valueText(worst) + ", " + percentText(fell) + ")";
        f.detail = "the best so far was measured at " + stepText(steps.indexAt(points[bestAt].result)) + "; ";
        if (recovered)
            f.detail += (standings[*recovered] == MetricStanding::NewBest ? "a new best " : "back within " + percentText(options.regressionFraction) + " of it ") +
                        std::string("at ") + stepText(steps.indexAt(points[*recovered].result));
        else
            f.detail += "not recovered before the run ended";
        f.measures = {{"count", n}, {"worst", worst}, {"best", best}, {"shortfall", fell},
                      {"best_step", steps.indexAt(points[bestAt].result).value}};
        if (recovered)
            f.measures["recovered_step"] = steps.indexAt(points[*recovered].result).value;
        out.push_back(std::move(f));
    };
    auto closePlateau = [&](size_t end, bool endedByBest) { // points sinceBest .. end-1
        if (end <= sinceBest || int64_t(end - sinceBest) < options.plateauEvaluations)
            return;
        Finding f = makeFinding(steps, FindingKind::Plateau, Severity::Notice, pointSteps(steps, sinceBest, end - 1));
        const size_t n = end - sinceBest;
        f.title = "plateau: " + std::to_string(n) + " points without a new best (best " + valueText(best) + ")";
        f.detail = "the best was measured at " + stepText(steps.indexAt(points[bestAt].result)) + "; " +
                   (endedByBest ? "a new best came at " + stepText(steps.indexAt(points[end].result))
                                : std::string("no new best before the run ended"));
        f.measures = {{"count", n}, {"best", best}, {"best_step", steps.indexAt(points[bestAt].result).value}};
        if (f.endUs > f.startUs && f.startUs > 0)
            f.measures["span_us"] = f.endUs - f.startUs;
        out.push_back(std::move(f));
    };

    sinceBest = 1;
    for (size_t i = 1; i < points.size(); ++i) {
        const MetricStanding standing = standings[i];
        if (standing == MetricStanding::Setback) {
            if (!setbackFrom)
                setbackFrom = i;
            continue;
        }
        if (setbackFrom)
            closeSetback(i - 1, i);
        if (standing == MetricStanding::NewBest) {
            closePlateau(i, true);
            Finding f = makeFinding(steps, FindingKind::NewBest, Severity::Info, {points[i].result});
            const double gain = -shortfall(points[i].value, best, higher);
            f.title = "new best: " + valueText(points[i].value) + " (was " + valueText(best) + ", " +
                      (gain >= 0 ? "+" : "") + percentText(gain) + ")";
            f.detail = "the previous best was measured at " + stepText(steps.indexAt(points[bestAt].result)) + ", " +
                       std::to_string(i - bestAt) + " points earlier";
            f.measures = {{"value", points[i].value}, {"previous_best", best}, {"gain", gain},
                          {"previous_best_step", steps.indexAt(points[bestAt].result).value}};
            out.push_back(std::move(f));
            best = points[i].value;
            bestAt = i;
            sinceBest = i + 1;
        }
    }
    if (setbackFrom)
        closeSetback(points.size() - 1, std::nullopt);
    closePlateau(points.size(), false);
}

} // namespace tapedeck::analysis
