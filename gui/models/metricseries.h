// The metrics the plots draw: time series over a run, computed once per TapeIndex (one pass
// over its rows) or, for the regex metric, by reading the tool outputs in a background job.
// A series is a compact vector of {time, value, row} sorted by time, with a min/max pyramid
// built beside it, so that reducing any time window to a few hundred pixel columns costs
// the width of the plot and not the number of points.
//
// Everything here is a value: immutable once built, shareable between threads, no QObject.
#pragma once

#include "tapeindex.h"

#include <QRegularExpression>
#include <QString>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tapedeck::gui {

// What a series' values are, which decides how an axis labels them.
enum class MetricUnit {
    Count, // tokens
    Bytes,
    Duration, // microseconds
    Cost,     // US dollars
    Ratio,    // 0 .. 1, written as a percentage
    Number,   // whatever a regex found
};

// "12.3k", "4.5 MiB", "1.25 s", "$0.0123", "35%", "9.87".
QString formatMetricValue(double value, MetricUnit unit);

// 24 bytes a point: a series of a million points is 24 MB, a fraction of the index.
struct MetricPoint {
    int64_t timeUs = 0; // the step's start
    double value = 0;
    int64_t row = 0; // the step's row in the TapeIndex the series was computed from
};

// The points of one pixel column of a plot.
struct MetricColumn {
    int64_t count = 0; // 0: no point falls in this column; the other fields are NaN
    double first = std::nan("");
    double last = std::nan("");
    double min = std::nan("");
    double max = std::nan("");
};

class MetricSeries {
public:
    MetricSeries() = default;
    // Sorts the points by time (stably, so points of equal time keep their order) and
    // builds the min/max pyramid. Values must not be NaN.
    MetricSeries(std::vector<MetricPoint> points, MetricUnit unit);

    MetricUnit unit() const { return m_unit; }
    const std::vector<MetricPoint> &points() const { return m_points; }
    int64_t size() const { return int64_t(m_points.size()); }
    bool isEmpty() const { return m_points.empty(); }
    const MetricPoint &point(int64_t i) const { return m_points[size_t(i)]; }

    // The first point at or after `us` (size() when none), and the first after `us`.
    int64_t lowerBound(int64_t us) const;
    int64_t upperBound(int64_t us) const;
    // The point nearest to `us` in time (-1 for an empty series).
    int64_t nearest(int64_t us) const;
    // The point of `row`, found by its time (-1 when the series has no point for it).
    int64_t pointOfRow(const TapeIndex &index, int64_t row) const;

    // The smallest and largest value of points [first, last): NaN, NaN for an empty range.
    // O(log n) reads of the pyramid, whatever the length of the range.
    std::pair<double, double> minMax(int64_t first, int64_t last) const;

    // The window [startUs, endUs] cut into `width` equal columns (the last one includes
    // endUs), each reduced to its first, last, smallest and largest value. Costs
    // O(width · log n): a million points plotted into 800 columns cost 800 columns.
    std::vector<MetricColumn> downsample(int64_t startUs, int64_t endUs, int width) const;

    // The points that beat every earlier one (higher values when `higherIsBetter`, else
    // lower): the new bests of an optimisation run, in time order. The first point counts.
    std::vector<int64_t> newBests(bool higherIsBetter) const;

private:
    // Level k holds the min and max of blocks of kFanout^(k+1) points.
    static constexpr int64_t kFanout = 16;
    struct Extent {
        double min;
        double max;
    };
    Extent extentAt(size_t level, int64_t i) const;

    std::vector<MetricPoint> m_points;
    std::vector<std::vector<Extent>> m_pyramid;
    MetricUnit m_unit = MetricUnit::Number;
};

// Every series the plots draw that the index alone gives: one pass over the rows.
struct RunMetrics {
    // Per model call: input + cache-read tokens, the size of what the model was sent.
    // When no model call of the tape reports usage, request bytes instead (unit Bytes);
    // when some do, the calls that do not are left out rather than mixed in another unit.
    MetricSeries contextSize;
    MetricSeries inputTokens; // per model call that reports usage
    MetricSeries outputTokens;
    MetricSeries latency;          // per model call: start to end
    MetricSeries timeToFirstToken; // per streamed model call
    MetricSeries cumulativeCost;   // running total over the model calls whose cost is known
    // Per tool result: the share of errors among the last `errorWindow` tool results
    // (fewer at the start of the run).
    MetricSeries toolErrorRate;
    int errorWindow = 0;

    static RunMetrics compute(const TapeIndex &index, int errorWindow = kDefaultErrorWindow);
    static constexpr int kDefaultErrorWindow = 20;
};

// The regex metric suggested for a new tape: the geometric-mean speed-up the kernel
// session's evaluation script prints ("geomean speedup over triton baseline: 9.87x"), the
// shape of most benchmark harness summaries. Only evaluations that build and pass the
// correctness check print it: 378 of the sample session's 432 at seed 1.
inline constexpr char kSuggestedMetricRegex[] =
    R"(geomean speedup over triton baseline:\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)x)";

struct RegexMetric {
    MetricSeries series;      // unit Number
    int64_t resultsRead = 0;  // tool results whose output was searched
    int64_t unreadable = 0;   // tool results that could not be decoded (damaged tape)
    std::string firstProblem; // why the first of those could not be read
};

// Reads the output of every ToolResult step of `index` (only those of tool `toolName`
// when it is not empty), one step at a time, and takes from each the last match of
// `regex`: its first capture group when the regex has one, else the whole match, parsed
// as a number. The last match, because outputs that log progress end with their final
// figure. An output that is not a string is searched as its text parts (content blocks)
// or, failing that, as compact JSON.
//
// Meant to run in a JobRunner job: opens its own reader on `tapePath`, calls
// `progress(done, total)` now and then (on the calling thread), and stops with an error
// soon after `cancel` becomes true. An invalid regex or a tape that does not open is an
// error; a step that cannot be decoded is counted and skipped.
formats::Result<RegexMetric>
computeRegexMetric(const std::string &tapePath, const TapeIndex &index,
                   const QRegularExpression &regex, const std::string &toolName = {},
                   const std::atomic<bool> *cancel = nullptr,
                   const std::function<void(int64_t done, int64_t total)> &progress = {});

} // namespace tapedeck::gui
