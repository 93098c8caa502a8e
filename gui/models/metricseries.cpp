#include "metricseries.h"

#include "displayformat.h"

#include <QLocale>

#include <algorithm>
#include <limits>
#include <tuple>

namespace tapedeck::gui {

namespace {

// How many tool results go between two progress reports: a few per second on a large
// tape, and no report overhead worth speaking of.
constexpr int64_t kProgressEvery = 32;

bool byTime(const MetricPoint &a, const MetricPoint &b)
{
    return a.timeUs < b.timeUs;
}

void sortByTime(std::vector<MetricPoint> &points)
{
    if (!std::is_sorted(points.begin(), points.end(), byTime))
        std::stable_sort(points.begin(), points.end(), byTime);
}

// The text a regex is run over: the output string itself, the text parts of an output
// made of content blocks (MCP's [{"type": "text", "text": ...}]), or else the JSON.
std::string outputText(const nlohmann::json &payload)
{
    const nlohmann::json &output =
        payload.is_object() && payload.contains("output") ? payload["output"] : payload;
    if (output.is_string())
        return output.get<std::string>();
    if (output.is_null())
        return {};
    if (output.is_array()) {
        std::string text;
        bool any = false;
        for (const nlohmann::json &part : output) {
            const nlohmann::json *piece = &part;
            if (part.is_object() && part.contains("text"))
                piece = &part["text"];
            if (!piece->is_string())
                continue;
            if (any)
                text += '\n';
            text += piece->get_ref<const std::string &>();
            any = true;
        }
        if (any)
            return text;
    }
    return output.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

QString formatMetricValue(double value, MetricUnit unit)
{
    if (std::isnan(value))
        return QStringLiteral("—");
    switch (unit) {
    case MetricUnit::Count:
        return formatCount(std::llround(value));
    case MetricUnit::Bytes:
        return formatBytes(std::llround(value));
    case MetricUnit::Duration:
        return formatDuration(std::llround(value));
    case MetricUnit::Cost:
        return formatCost(value);
    case MetricUnit::Ratio: {
        const double percent = value * 100;
        return QString::number(percent, 'f', percent != 0 && std::fabs(percent) < 10 ? 1 : 0) +
               QLatin1Char('%');
    }
    case MetricUnit::Number:
        break;
    }
    const double a = std::fabs(value);
    if (a != 0 && (a >= 1e6 || a < 1e-3))
        return QString::number(value, 'g', 4);
    QString text = QString::number(value, 'f', a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3);
    // "2" and "2.5" on an axis, not "2.00" and "2.50".
    if (text.contains(QLatin1Char('.'))) {
        while (text.endsWith(QLatin1Char('0')))
            text.chop(1);
        if (text.endsWith(QLatin1Char('.')))
            text.chop(1);
    }
    return text;
}

MetricSeries::MetricSeries(std::vector<MetricPoint> points, MetricUnit unit)
    : m_points(std::move(points)), m_unit(unit)
{
    sortByTime(m_points);
    int64_t count = size();
    for (size_t level = 0; count >= kFanout; ++level) {
        std::vector<Extent> next;
        next.reserve(size_t((count + kFanout - 1) / kFanout));
        for (int64_t block = 0; block * kFanout < count; ++block) {
            Extent e = extentAt(level, block * kFanout);
            for (int64_t i = block * kFanout + 1; i < std::min(count, (block + 1) * kFanout); ++i) {
                const Extent x = extentAt(level, i);
                e.min = std::min(e.min, x.min);
                e.max = std::max(e.max, x.max);
            }
            next.push_back(e);
        }
        count = int64_t(next.size());
        m_pyramid.push_back(std::move(next));
    }
}

MetricSeries::Extent MetricSeries::extentAt(size_t level, int64_t i) const
{
    if (level == 0) {
        const double v = m_points[size_t(i)].value;
        return {v, v};
    }
    return m_pyramid[level - 1][size_t(i)];
}

int64_t MetricSeries::lowerBound(int64_t us) const
{
    auto it = std::lower_bound(m_points.begin(), m_points.end(), us,
                               [](const MetricPoint &p, int64_t t) { return p.timeUs < t; });
    return int64_t(it - m_points.begin());
}

int64_t MetricSeries::upperBound(int64_t us) const
{
    auto it = std::upper_bound(m_points.begin(), m_points.end(), us,
                               [](int64_t t, const MetricPoint &p) { return t < p.timeUs; });
    return int64_t(it - m_points.begin());
}

int64_t MetricSeries::nearest(int64_t us) const
{
    if (m_points.empty())
        return -1;
    const int64_t after = lowerBound(us);
    if (after == size())
        return after - 1;
    if (after == 0)
        return 0;
    return us - point(after - 1).timeUs <= point(after).timeUs - us ? after - 1 : after;
}

int64_t MetricSeries::pointOfRow(const TapeIndex &index, int64_t row) const
{
    if (row < 0 || row >= index.rowCount())
        return -1;
    const int64_t t = index.row(row).startedUs;
    for (int64_t i = lowerBound(t); i < size() && point(i).timeUs == t; ++i) {
        if (point(i).row == row)
            return i;
    }
    return -1;
}

std::pair<double, double> MetricSeries::minMax(int64_t first, int64_t last) const
{
    first = std::max<int64_t>(first, 0);
    last = std::min(last, size());
    if (first >= last)
        return {std::nan(""), std::nan("")};
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    const auto take = [&](size_t level, int64_t i) {
        const Extent e = extentAt(level, i);
        lo = std::min(lo, e.min);
        hi = std::max(hi, e.max);
    };
    // Climb the pyramid: at each level take the unaligned ends one by one and hand the
    // aligned middle to the coarser level, so no level is read more than 2·kFanout times.
    size_t level = 0;
    while (first < last) {
        if (level == m_pyramid.size() || last - first < kFanout) {
            for (int64_t i = first; i < last; ++i)
                take(level, i);
            break;
        }
        for (; first % kFanout; ++first)
            take(level, first);
        while (last % kFanout)
            take(level, --last);
        first /= kFanout;
        last /= kFanout;
        ++level;
    }
    return {lo, hi};
}

std::vector<MetricColumn> MetricSeries::downsample(int64_t startUs, int64_t endUs, int width) const
{
    std::vector<MetricColumn> columns(size_t(std::max(width, 0)));
    if (width <= 0 || endUs <= startUs || m_points.empty())
        return columns;
    const double span = double(endUs - startUs);
    int64_t begin = lowerBound(startUs);
    for (int c = 0; c < width; ++c) {
        const int64_t end = c + 1 == width
                                ? upperBound(endUs)
                                : lowerBound(startUs + std::llround(span * (c + 1) / width));
        if (end > begin) {
            MetricColumn &column = columns[size_t(c)];
            column.count = end - begin;
            column.first = point(begin).value;
            column.last = point(end - 1).value;
            std::tie(column.min, column.max) = minMax(begin, end);
        }
        begin = std::max(begin, end);
    }
    return columns;
}

std::vector<int64_t> MetricSeries::newBests(bool higherIsBetter) const
{
    std::vector<int64_t> bests;
    for (int64_t i = 0; i < size(); ++i) {
        const double v = point(i).value;
        if (bests.empty() ||
            (higherIsBetter ? v > point(bests.back()).value : v < point(bests.back()).value))
            bests.push_back(i);
    }
    return bests;
}

RunMetrics RunMetrics::compute(const TapeIndex &index, int errorWindow)
{
    using formats::StepKind;
    const auto &byKind = index.summary().stepsByKind;
    const size_t modelCalls = size_t(std::max<int64_t>(byKind[int(StepKind::ModelCall)], 0));
    const size_t toolResults = size_t(std::max<int64_t>(byKind[int(StepKind::ToolResult)], 0));

    std::vector<MetricPoint> contextTokens, contextBytes, input, output, latency, firstToken, cost,
        errors;
    for (auto *v : {&contextTokens, &contextBytes, &input, &output, &latency, &firstToken, &cost})
        v->reserve(modelCalls);
    errors.reserve(toolResults);

    for (int64_t r = 0; r < index.rowCount(); ++r) {
        const StepRow &row = index.row(r);
        if (row.startedUs <= 0)
            continue; // a step with no known time has no place on a time axis
        const int64_t t = row.startedUs;
        if (row.kind == StepKind::ToolResult) {
            errors.push_back({t, row.isError() ? 1.0 : 0.0, r});
            continue;
        }
        if (row.kind != StepKind::ModelCall)
            continue;
        const bool hasUsage = row.inputTokens || row.outputTokens || row.cacheReadTokens;
        if (hasUsage) {
            contextTokens.push_back({t, double(row.inputTokens + row.cacheReadTokens), r});
            input.push_back({t, double(row.inputTokens), r});
            output.push_back({t, double(row.outputTokens), r});
        }
        if (row.requestBytes > 0)
            contextBytes.push_back({t, double(row.requestBytes), r});
        if (row.endedUs >= t)
            latency.push_back({t, double(row.durationUs()), r});
        if (row.firstTokenUs >= t)
            firstToken.push_back({t, double(row.firstTokenUs - t), r});
        if (row.hasCost())
            cost.push_back({t, row.costUsd, r});
    }

    RunMetrics m;
    m.errorWindow = std::max(errorWindow, 1);
    m.contextSize = contextTokens.empty()
                        ? MetricSeries(std::move(contextBytes), MetricUnit::Bytes)
                        : MetricSeries(std::move(contextTokens), MetricUnit::Count);
    m.inputTokens = MetricSeries(std::move(input), MetricUnit::Count);
    m.outputTokens = MetricSeries(std::move(output), MetricUnit::Count);
    m.latency = MetricSeries(std::move(latency), MetricUnit::Duration);
    m.timeToFirstToken = MetricSeries(std::move(firstToken), MetricUnit::Duration);

    // Running totals follow time, not append order: sort first, then accumulate.
    sortByTime(cost);
    double total = 0;
    for (MetricPoint &p : cost)
        p.value = total += p.value;
    m.cumulativeCost = MetricSeries(std::move(cost), MetricUnit::Cost);

    sortByTime(errors);
    std::vector<bool> failed(errors.size());
    int64_t inWindow = 0;
    for (size_t i = 0; i < errors.size(); ++i) {
        failed[i] = errors[i].value != 0;
        inWindow += failed[i];
        if (i >= size_t(m.errorWindow))
            inWindow -= failed[i - size_t(m.errorWindow)];
        errors[i].value = double(inWindow) / double(std::min(i + 1, size_t(m.errorWindow)));
    }
    m.toolErrorRate = MetricSeries(std::move(errors), MetricUnit::Ratio);
    return m;
}

formats::Result<RegexMetric>
computeRegexMetric(const std::string &tapePath, const TapeIndex &index,
                   const QRegularExpression &regex, const std::string &toolName,
                   const std::atomic<bool> *cancel,
                   const std::function<void(int64_t done, int64_t total)> &progress)
{
    using formats::ErrorCode;
    if (!regex.isValid())
        return formats::Error{ErrorCode::InvalidArgument,
                              "regex: " + regex.errorString().toStdString() + " at offset " +
                                  std::to_string(regex.patternErrorOffset())};
    auto reader = formats::TapeReader::open(tapePath);
    if (!reader)
        return reader.error();

    const int32_t tool = toolName.empty() ? -1 : index.findName(toolName);
    const auto wanted = [&](const StepRow &row) {
        return row.kind == formats::StepKind::ToolResult &&
               (toolName.empty() || row.name == tool) && row.startedUs > 0;
    };
    if (!toolName.empty() && tool < 0)
        return RegexMetric{};
    const int64_t total = std::count_if(index.rows().begin(), index.rows().end(), wanted);

    RegexMetric metric;
    std::vector<MetricPoint> points;
    const bool hasGroup = regex.captureCount() >= 1;
    for (int64_t r = 0; r < index.rowCount(); ++r) {
        const StepRow &row = index.row(r);
        if (!wanted(row))
            continue;
        if (cancel && cancel->load())
            return formats::Error{ErrorCode::InvalidArgument, "regex metric cancelled"};
        if (progress && metric.resultsRead % kProgressEvery == 0)
            progress(metric.resultsRead, total);
        ++metric.resultsRead;
        auto step = (*reader)->step(row.index);
        if (!step) {
            if (metric.unreadable++ == 0)
                metric.firstProblem = step.error().message;
            continue;
        }
        const QString text = QString::fromStdString(outputText(step->payload));
        QRegularExpressionMatch last;
        for (auto it = regex.globalMatch(text); it.hasNext();)
            last = it.next();
        if (!last.hasMatch())
            continue;
        const int group = hasGroup && last.capturedStart(1) >= 0 ? 1 : 0;
        bool ok = false;
        const double value = QLocale::c().toDouble(last.capturedView(group).trimmed(), &ok);
        if (ok && std::isfinite(value))
            points.push_back({row.startedUs, value, r});
    }
    if (progress)
        progress(metric.resultsRead, total);
    metric.series = MetricSeries(std::move(points), MetricUnit::Number);
    return metric;
}

} // namespace tapedeck::gui
