// The metrics plots: series computed from hand-built indexes (known values in, known
// series out), the min/max pyramid and downsampling, the regex metric on a small tape and
// on the kernel session (its evaluations' speed-ups), and MetricsView offscreen: clicking a point
// selects its step, the regex field computes its series in a job.
#include "guitestutil.h"
#include "metricseries.h"
#include "metricsview.h"
#include "testutil.h"
#include "viewstate.h"

#include <QCheckBox>
#include <QLabel>
#include <QSignalSpy>
#include <QTest>

#include <cmath>
#include <set>

Q_DECLARE_METATYPE(tapedeck::gui::MetricUnit)
Q_DECLARE_METATYPE(std::vector<double>)

using namespace tapedeck;
using namespace tapedeck::gui;
using formats::StepKind;

namespace {

constexpr int64_t kT0 = testutil::kT0;

StepRow modelCall(int64_t step, int64_t startUs, int64_t durationUs, int64_t input, int64_t output,
                  int64_t cached, double cost = std::nan(""), int64_t firstTokenAfterUs = 0,
                  int64_t requestBytes = 0)
{
    StepRow r;
    r.index = formats::StepIndex{step};
    r.kind = StepKind::ModelCall;
    r.startedUs = startUs;
    r.endedUs = startUs + durationUs;
    r.firstTokenUs = firstTokenAfterUs ? startUs + firstTokenAfterUs : 0;
    r.inputTokens = input;
    r.outputTokens = output;
    r.cacheReadTokens = cached;
    r.costUsd = cost;
    r.requestBytes = requestBytes;
    return r;
}

StepRow step(int64_t index, StepKind kind, int64_t startUs, bool failed = false)
{
    StepRow r;
    r.index = formats::StepIndex{index};
    r.kind = kind;
    r.startedUs = startUs;
    r.endedUs = startUs + 100;
    r.status = failed ? formats::StepStatus::Error : formats::StepStatus::Ok;
    return r;
}

TapeIndex indexOf(std::vector<StepRow> rows)
{
    return TapeIndex("hand-built", formats::TapeSummary{}, std::move(rows), {});
}

std::vector<double> values(const MetricSeries &s)
{
    std::vector<double> v;
    for (const MetricPoint &p : s.points())
        v.push_back(p.value);
    return v;
}

std::vector<int64_t> rowsOf(const MetricSeries &s)
{
    std::vector<int64_t> v;
    for (const MetricPoint &p : s.points())
        v.push_back(p.row);
    return v;
}

bool near(const std::vector<double> &a, const std::vector<double> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::fabs(a[i] - b[i]) > 1e-9)
            return false;
    }
    return true;
}

std::string describe(const std::vector<double> &v)
{
    std::string s;
    for (double x : v)
        s += std::to_string(x) + " ";
    return s;
}

} // namespace

class TestMetricSeries : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_kernelTape;
    std::shared_ptr<const TapeIndex> m_kernel;
    std::set<int64_t> m_measured; // the rows of the results of evaluations that passed

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_kernelTape = m_dir.filePath(QStringLiteral("kernel.tape")).toStdString();
        const std::string e = test::writeKernelSessionTape(m_kernelTape);
        QVERIFY2(e.empty(), e.c_str());
        std::string error;
        m_kernel = test::loadIndex(m_kernelTape, &error);
        QVERIFY2(m_kernel, error.c_str());

        // The evaluations, from the tool calls' arguments: what the regex should find.
        auto reader = formats::TapeReader::open(m_kernelTape);
        QVERIFY(reader);
        int64_t evaluations = 0;
        for (int64_t r = 0; r < m_kernel->rowCount(); ++r) {
            const StepRow &row = m_kernel->row(r);
            if (row.kind != StepKind::ToolResult)
                continue;
            auto call = (*reader)->step(formats::StepIndex{row.parent});
            QVERIFY(call);
            if (call->payload.value("command", "").rfind("python eval/run_eval.py", 0) != 0)
                continue;
            ++evaluations;
            if (!row.isError())
                m_measured.insert(r);
        }
        QCOMPARE(evaluations, int64_t(432));
        QVERIFY2(m_measured.size() > 300 && m_measured.size() < 432,
                 std::to_string(m_measured.size()).c_str());
    }

    // Known rows in, known series out: context = input + cached, a call without cost is
    // left out of the running total, time to first token only for streamed calls.
    void seriesFromRows()
    {
        const TapeIndex index = indexOf({
            modelCall(1, kT0 + 1000, 500, 100, 20, 50, 0.01, 100, 4000),
            step(2, StepKind::ToolCall, kT0 + 1600),
            step(3, StepKind::ToolResult, kT0 + 1700),
            modelCall(4, kT0 + 3000, 1000, 200, 30, 0),
            modelCall(5, kT0 + 5000, 2500, 300, 40, 100, 0.02, 200),
            step(6, StepKind::Annotation, kT0 + 6000),
        });
        const RunMetrics m = RunMetrics::compute(index);
        QCOMPARE(m.contextSize.unit(), MetricUnit::Count);
        QVERIFY(values(m.contextSize) == (std::vector<double>{150, 200, 400}));
        QVERIFY(rowsOf(m.contextSize) == (std::vector<int64_t>{0, 3, 4}));
        QVERIFY(values(m.inputTokens) == (std::vector<double>{100, 200, 300}));
        QVERIFY(values(m.outputTokens) == (std::vector<double>{20, 30, 40}));
        QCOMPARE(m.latency.unit(), MetricUnit::Duration);
        QVERIFY(values(m.latency) == (std::vector<double>{500, 1000, 2500}));
        QVERIFY(values(m.timeToFirstToken) == (std::vector<double>{100, 200}));
        QVERIFY(rowsOf(m.timeToFirstToken) == (std::vector<int64_t>{0, 4}));
        QVERIFY2(near(values(m.cumulativeCost), {0.01, 0.03}),
                 describe(values(m.cumulativeCost)).c_str());
        QVERIFY(rowsOf(m.cumulativeCost) == (std::vector<int64_t>{0, 4}));
        QVERIFY(values(m.toolErrorRate) == (std::vector<double>{0}));
        QCOMPARE(m.contextSize.point(1).timeUs, kT0 + 3000);
    }

    // Without usage anywhere, the context is measured in request bytes.
    void contextFallsBackToRequestBytes()
    {
        const TapeIndex index = indexOf({
            modelCall(1, kT0 + 1000, 10, 0, 0, 0, std::nan(""), 0, 4000),
            modelCall(2, kT0 + 2000, 10, 0, 0, 0, std::nan(""), 0, 9000),
        });
        const RunMetrics m = RunMetrics::compute(index);
        QCOMPARE(m.contextSize.unit(), MetricUnit::Bytes);
        QVERIFY(values(m.contextSize) == (std::vector<double>{4000, 9000}));
        QVERIFY(m.inputTokens.isEmpty());
        QVERIFY(m.cumulativeCost.isEmpty());
    }

    // Rows of two threads interleave out of time order: series (and running totals)
    // follow time, and each point keeps its row.
    void followsTimeNotAppendOrder()
    {
        const TapeIndex index = indexOf({
            modelCall(1, kT0 + 3000, 10, 10, 1, 0, 1.0),
            modelCall(2, kT0 + 1000, 10, 20, 1, 0, 2.0),
            modelCall(3, kT0 + 2000, 10, 30, 1, 0, 4.0),
        });
        const RunMetrics m = RunMetrics::compute(index);
        QVERIFY(values(m.cumulativeCost) == (std::vector<double>{2, 6, 7}));
        QVERIFY(rowsOf(m.cumulativeCost) == (std::vector<int64_t>{1, 2, 0}));
        QCOMPARE(m.contextSize.pointOfRow(index, 0), int64_t(2));
        QCOMPARE(m.contextSize.nearest(kT0 + 1400), int64_t(0));
        QCOMPARE(m.contextSize.nearest(kT0 + 1600), int64_t(1));
        QCOMPARE(m.contextSize.nearest(kT0 + 9000), int64_t(2));
    }

    // The share of errors among the last N tool results: 'E' a failed result, 'o' a good one.
    void toolErrorRate_data()
    {
        QTest::addColumn<QString>("results");
        QTest::addColumn<int>("window");
        QTest::addColumn<std::vector<double>>("expected");
        QTest::newRow("window 3") << "EoEoo" << 3
                                  << std::vector<double>{1, 0.5, 2.0 / 3, 1.0 / 3, 1.0 / 3};
        QTest::newRow("window 1") << "oEo" << 1 << std::vector<double>{0, 1, 0};
        QTest::newRow("all errors") << "EEEE" << 20 << std::vector<double>{1, 1, 1, 1};
        QTest::newRow("late error") << "oooE" << 2 << std::vector<double>{0, 0, 0, 0.5};
        QTest::newRow("window longer than run")
            << "oEoE" << 20 << std::vector<double>{0, 0.5, 1.0 / 3, 0.5};
    }

    void toolErrorRate()
    {
        QFETCH(QString, results);
        QFETCH(int, window);
        QFETCH(std::vector<double>, expected);
        std::vector<StepRow> rows;
        int64_t i = 0;
        for (QChar c : results) {
            rows.push_back(step(i + 1, StepKind::ToolCall, kT0 + i * 1000));
            rows.push_back(
                step(i + 2, StepKind::ToolResult, kT0 + i * 1000 + 500, c == QLatin1Char('E')));
            i += 2;
        }
        const TapeIndex index = indexOf(std::move(rows));
        const RunMetrics m = RunMetrics::compute(index, window);
        QCOMPARE(m.errorWindow, window);
        QCOMPARE(m.toolErrorRate.unit(), MetricUnit::Ratio);
        QVERIFY2(near(values(m.toolErrorRate), expected),
                 describe(values(m.toolErrorRate)).c_str());
        for (const MetricPoint &p : m.toolErrorRate.points())
            QCOMPARE(index.row(p.row).kind, StepKind::ToolResult);
    }

    // The pyramid's answer for any range is a plain scan's answer.
    void minMaxMatchesScan_data()
    {
        QTest::addColumn<qint64>("first");
        QTest::addColumn<qint64>("last");
        QTest::newRow("one point") << qint64(0) << qint64(1);
        QTest::newRow("one block") << qint64(0) << qint64(16);
        QTest::newRow("unaligned block") << qint64(5) << qint64(21);
        QTest::newRow("across levels") << qint64(15) << qint64(4097);
        QTest::newRow("everything") << qint64(0) << qint64(10007);
        QTest::newRow("all but the ends") << qint64(3) << qint64(10006);
        QTest::newRow("the ragged tail") << qint64(9990) << qint64(10007);
        QTest::newRow("past the end") << qint64(9000) << qint64(20000);
    }

    void minMaxMatchesScan()
    {
        QFETCH(qint64, first);
        QFETCH(qint64, last);
        testutil::Rng rng(7);
        std::vector<MetricPoint> points;
        for (int64_t i = 0; i < 10007; ++i)
            points.push_back({kT0 + i, double(rng.between(-1000000, 1000000)) / 7, i});
        const MetricSeries s(points, MetricUnit::Number);
        double lo = INFINITY, hi = -INFINITY;
        for (int64_t i = first; i < std::min<int64_t>(last, s.size()); ++i) {
            lo = std::min(lo, points[size_t(i)].value);
            hi = std::max(hi, points[size_t(i)].value);
        }
        const auto [mn, mx] = s.minMax(first, last);
        QCOMPARE(mn, lo);
        QCOMPARE(mx, hi);
        QVERIFY(std::isnan(s.minMax(last, first).first));
    }

    // A million points into 800 columns: every point lands in one column, and the
    // extremes (one-point spikes) survive.
    void downsampleKeepsExtremes()
    {
        constexpr int64_t n = 1000000;
        constexpr int64_t spikeUp = 123457, spikeDown = 876543;
        std::vector<MetricPoint> points;
        points.reserve(n);
        for (int64_t i = 0; i < n; ++i) {
            const double v = i == spikeUp ? 42 : i == spikeDown ? -42 : std::sin(double(i) / 1000);
            points.push_back({kT0 + i * 10, v, i});
        }
        const MetricSeries s(std::move(points), MetricUnit::Number);
        const int64_t start = kT0, end = kT0 + (n - 1) * 10;
        const std::vector<MetricColumn> columns = s.downsample(start, end, 800);
        QCOMPARE(columns.size(), size_t(800));
        int64_t total = 0;
        double lo = INFINITY, hi = -INFINITY;
        for (const MetricColumn &c : columns) {
            QVERIFY(c.count > 0);
            total += c.count;
            lo = std::min(lo, c.min);
            hi = std::max(hi, c.max);
        }
        QCOMPARE(total, n);
        QCOMPARE(hi, 42.0);
        QCOMPARE(lo, -42.0);
        const auto columnOf = [&](int64_t i) {
            return size_t(double(s.point(i).timeUs - start) / double(end - start) * 800);
        };
        QCOMPARE(columns[columnOf(spikeUp)].max, 42.0);
        QCOMPARE(columns[columnOf(spikeDown)].min, -42.0);
        QCOMPARE(columns.front().first, 0.0);
        QCOMPARE(columns.back().last, std::sin(double(n - 1) / 1000));

        // Zoomed in past the points' spacing, most columns are empty.
        const std::vector<MetricColumn> zoomed = s.downsample(kT0 + 500, kT0 + 600, 100);
        int64_t filled = 0, zoomedTotal = 0;
        for (const MetricColumn &c : zoomed) {
            filled += c.count > 0;
            zoomedTotal += c.count;
        }
        QCOMPARE(zoomedTotal, int64_t(11));
        QCOMPARE(filled, int64_t(11));
        QVERIFY(s.downsample(end, start, 100)[0].count == 0);
        QVERIFY(s.downsample(start, end, 0).empty());
    }

    void newBests()
    {
        const auto series = [](std::vector<double> v) {
            std::vector<MetricPoint> points;
            for (size_t i = 0; i < v.size(); ++i)
                points.push_back({kT0 + int64_t(i), v[i], int64_t(i)});
            return MetricSeries(std::move(points), MetricUnit::Number);
        };
        QVERIFY(series({1, 3, 2, 5, 5, 4, 6}).newBests(true) == (std::vector<int64_t>{0, 1, 3, 6}));
        QVERIFY(series({5, 3, 4, 1}).newBests(false) == (std::vector<int64_t>{0, 1, 3}));
        QVERIFY(series({}).newBests(true).empty());
    }

    void formatValues_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<MetricUnit>("unit");
        QTest::addColumn<QString>("text");
        QTest::newRow("tokens") << 1234.0 << MetricUnit::Count << "1.23k";
        QTest::newRow("ratio") << 0.25 << MetricUnit::Ratio << "25%";
        QTest::newRow("small ratio") << 0.05 << MetricUnit::Ratio << "5.0%";
        QTest::newRow("zero ratio") << 0.0 << MetricUnit::Ratio << "0%";
        QTest::newRow("round number") << 2.0 << MetricUnit::Number << "2";
        QTest::newRow("speed-up") << 9.87 << MetricUnit::Number << "9.87";
        QTest::newRow("half") << 2.5 << MetricUnit::Number << "2.5";
        QTest::newRow("large number") << 12345678.0 << MetricUnit::Number << "1.235e+07";
        QTest::newRow("duration") << 2.5e6 << MetricUnit::Duration << "2.50 s";
        QTest::newRow("cost") << 0.0123 << MetricUnit::Cost << "$0.0123";
    }

    void formatValues()
    {
        QFETCH(double, value);
        QFETCH(MetricUnit, unit);
        QFETCH(QString, text);
        QCOMPARE(formatMetricValue(value, unit), text);
    }

    // Outputs as a string (last match wins), as content blocks and as JSON; the first
    // group or the whole match; the tool filter; errors.
    void regexOnSmallTape()
    {
        const std::string path = m_dir.filePath(QStringLiteral("small.tape")).toStdString();
        {
            auto writer = formats::TapeWriter::create(path);
            QVERIFY(writer);
            auto scaffold = testutil::beginScaffold(**writer);
            QVERIFY(scaffold);
            const auto result = [&](int64_t at, const char *tool, nlohmann::json output) {
                formats::Step s;
                s.thread = scaffold->thread;
                s.kind = StepKind::ToolResult;
                s.name = tool;
                s.startedUs = kT0 + at;
                s.endedUs = kT0 + at + 10;
                s.payload = {{"output", std::move(output)}, {"is_error", false}};
                return s;
            };
            formats::Step note;
            note.thread = scaffold->thread;
            note.kind = StepKind::Annotation;
            note.startedUs = kT0 + 50;
            note.payload = {{"output", "score: 99"}};
            for (const formats::Step &s :
                 {result(100, "bench", "warmup\nscore: 1.5\nscore: 2.5\n"), note,
                  result(200, "mcp",
                         nlohmann::json::array({{{"type", "text"}, {"text", "score: 7"}}})),
                  result(300, "bench", nlohmann::json{{"score", 3}}),
                  result(400, "bench", "nothing here")})
                QVERIFY((*writer)->append(s));
        }
        std::string error;
        auto index = test::loadIndex(path, &error);
        QVERIFY2(index, error.c_str());
        const QRegularExpression score(QStringLiteral("score\"?:\\s*([0-9.]+)"));

        auto all = computeRegexMetric(path, *index, score);
        QVERIFY2(all, all ? "" : all.error().message.c_str());
        QVERIFY2(values(all->series) == (std::vector<double>{2.5, 7, 3}),
                 describe(values(all->series)).c_str());
        QCOMPARE(all->resultsRead, int64_t(4));
        QCOMPARE(all->unreadable, int64_t(0));
        for (const MetricPoint &p : all->series.points())
            QCOMPARE(index->row(p.row).kind, StepKind::ToolResult);
        QCOMPARE(all->series.point(0).timeUs, kT0 + 100);

        auto bench = computeRegexMetric(path, *index, score, "bench");
        QVERIFY(bench);
        QVERIFY(values(bench->series) == (std::vector<double>{2.5, 3}));
        QCOMPARE(bench->resultsRead, int64_t(3));

        auto none = computeRegexMetric(path, *index, score, "no such tool");
        QVERIFY(none);
        QVERIFY(none->series.isEmpty());
        QCOMPARE(none->resultsRead, int64_t(0));

        auto whole =
            computeRegexMetric(path, *index, QRegularExpression(QStringLiteral("[0-9]+\\.[0-9]+")));
        QVERIFY(whole);
        QVERIFY(values(whole->series) == (std::vector<double>{2.5}));

        auto invalid =
            computeRegexMetric(path, *index, QRegularExpression(QStringLiteral("score: (")));
        QVERIFY(!invalid);
        QCOMPARE(invalid.error().code, formats::ErrorCode::InvalidArgument);

        auto missing = computeRegexMetric(path + ".missing", *index, score);
        QVERIFY(!missing);
    }

    // The kernel session's evaluations: 432 runs of eval/run_eval.py, of which those that
    // pass the build and the correctness check (378 at seed 1) print a geometric-mean
    // speed-up; the 54 others (compile errors, wrong results) print no number. The
    // suggested regex finds exactly the ones that measured, climbing to ~10x.
    void regexFindsEvaluations()
    {
        std::vector<std::pair<int64_t, int64_t>> progress;
        auto metric = computeRegexMetric(
            m_kernelTape, *m_kernel, QRegularExpression(QString::fromLatin1(kSuggestedMetricRegex)),
            {}, nullptr, [&](int64_t done, int64_t total) { progress.emplace_back(done, total); });
        QVERIFY2(metric, metric ? "" : metric.error().message.c_str());
        const MetricSeries &s = metric->series;
        QCOMPARE(s.size(), int64_t(m_measured.size()));
        QCOMPARE(metric->unreadable, int64_t(0));
        const int64_t toolResults = m_kernel->summary().stepsByKind[int(StepKind::ToolResult)];
        QCOMPARE(metric->resultsRead, toolResults);
        QVERIFY(progress.size() > 2);
        QCOMPARE(progress.back(), std::make_pair(toolResults, toolResults));
        for (const MetricPoint &p : s.points()) {
            QVERIFY(m_measured.count(p.row));
            QCOMPARE(m_kernel->nameOf(m_kernel->row(p.row)), std::string("run_shell_command"));
            QCOMPARE(p.timeUs, m_kernel->row(p.row).startedUs);
        }
        const auto [lo, hi] = s.minMax(0, s.size());
        QVERIFY2(hi > 9 && hi < 11, std::to_string(hi).c_str());
        QVERIFY2(s.point(0).value < 1.5, std::to_string(s.point(0).value).c_str());
        QVERIFY(lo > 0);
        const std::vector<int64_t> bests = s.newBests(true);
        QVERIFY(bests.size() > 10);
        QCOMPARE(s.point(bests.back()).value, hi);

        auto shell = computeRegexMetric(
            m_kernelTape, *m_kernel, QRegularExpression(QString::fromLatin1(kSuggestedMetricRegex)),
            "run_shell_command");
        QVERIFY(shell);
        QCOMPARE(shell->series.size(), s.size());
    }

    // A raised cancel flag stops the scan within one step.
    void regexCancels()
    {
        std::atomic<bool> cancel = false;
        int64_t lastDone = 0;
        auto metric =
            computeRegexMetric(m_kernelTape, *m_kernel, QRegularExpression(QStringLiteral("x")), {},
                               &cancel, [&](int64_t done, int64_t) {
                                   lastDone = done;
                                   cancel = true;
                               });
        QVERIFY(!metric);
        QCOMPARE(lastDone, int64_t(0));
        QVERIFY(
            QString::fromStdString(metric.error().message).contains(QStringLiteral("cancelled")));
    }

    void viewHasItsPlots()
    {
        ViewState state;
        MetricsView view(&state);
        QCOMPARE(view.plotCount(), 6);
        view.resize(900, 700);
        view.show();
        QSignalSpy ready(&view, &MetricsView::metricsReady);
        state.setIndex(m_kernel);
        QVERIFY(ready.wait(10000));
        // Nothing is plotted for a row that is no point of the plot (a tool call).
        int64_t toolCall = 0;
        while (m_kernel->row(toolCall).kind != StepKind::ToolCall)
            ++toolCall;
        for (int plot = 0; plot < view.plotCount(); ++plot)
            QVERIFY(!view.pointPosition(plot, toolCall));
    }

    // Zoomed in (as the timeline would), a click on a point selects its step; a point
    // outside the window is not drawn until "Whole run" is on.
    void clickSelectsStep_data()
    {
        QTest::addColumn<int>("plot");
        QTest::addColumn<int>("series"); // 0 context, 1 latency, 2 cost, 3 tool error rate
        QTest::addColumn<int>("point");
        QTest::newRow("context") << 0 << 0 << 300;
        QTest::newRow("latency") << 2 << 1 << 700;
        QTest::newRow("cost") << 3 << 2 << 1000;
        QTest::newRow("tool error rate") << 4 << 3 << 500;
    }

    void clickSelectsStep()
    {
        QFETCH(int, plot);
        QFETCH(int, series);
        QFETCH(int, point);
        const RunMetrics m = RunMetrics::compute(*m_kernel);
        const MetricSeries *all[] = {&m.contextSize, &m.latency, &m.cumulativeCost,
                                     &m.toolErrorRate};
        const MetricPoint target = all[series]->point(point);
        const MetricPoint far = all[series]->point(10);

        ViewState state;
        MetricsView view(&state);
        view.resize(900, 700);
        view.show();
        QSignalSpy ready(&view, &MetricsView::metricsReady);
        state.setIndex(m_kernel);
        QVERIFY(ready.wait(10000));
        constexpr int64_t kMinutes = 60'000'000;
        state.setVisibleRange(target.timeUs - 20 * kMinutes, target.timeUs + 20 * kMinutes);

        const std::optional<QPoint> at = view.pointPosition(plot, target.row);
        QVERIFY(at);
        QWidget *canvas = view.childAt(*at);
        QVERIFY(canvas);
        QTest::mouseClick(canvas, Qt::LeftButton, {}, canvas->mapFrom(&view, *at));
        QCOMPARE(state.currentStep(), m_kernel->row(target.row).index);

        QVERIFY(!view.pointPosition(plot, far.row));
        auto *wholeRun = view.findChild<QCheckBox *>();
        QVERIFY(wholeRun);
        wholeRun->setChecked(true);
        QVERIFY(view.pointPosition(plot, far.row));
    }

    // The regex field's series is computed in a job: the suggestion finds the measured
    // evaluations, a second regex supersedes the first, an invalid one says why.
    void regexInTheView()
    {
        ViewState state;
        MetricsView view(&state);
        view.resize(900, 700);
        view.show();
        QSignalSpy ready(&view, &MetricsView::metricsReady);
        QSignalSpy regex(&view, &MetricsView::regexSeriesReady);
        state.setIndex(m_kernel);
        QVERIFY(ready.wait(10000));
        // The prefilled suggestion is computed as soon as the index is there.
        QVERIFY(regex.wait(30000));
        QCOMPARE(regex.takeLast().at(0).toInt(), int(m_measured.size()));

        view.setRegex(QStringLiteral("Exit Code: (\\d+)"));
        view.setRegex(QString::fromLatin1(kSuggestedMetricRegex));
        QVERIFY(regex.wait(30000));
        QCOMPARE(regex.count(), 1);
        QCOMPARE(regex.takeFirst().at(0).toInt(), int(m_measured.size()));
        auto *status = view.findChild<QLabel *>(QStringLiteral("regexStatus"));
        QVERIFY(status);
        const QString found = QStringLiteral("%1 points").arg(m_measured.size());
        QVERIFY2(status->text().startsWith(found), qPrintable(status->text()));

        int64_t evaluation = 0;
        while (evaluation < m_kernel->rowCount() && !view.pointPosition(5, evaluation))
            ++evaluation;
        QVERIFY(evaluation < m_kernel->rowCount());
        QCOMPARE(m_kernel->row(evaluation).kind, StepKind::ToolResult);

        view.setRegex(QStringLiteral("speedup: ("));
        QVERIFY2(status->text().contains(QStringLiteral("error")), qPrintable(status->text()));
        QVERIFY(!view.pointPosition(5, evaluation));
        QCOMPARE(regex.count(), 0);
    }

    // What the plots look like, for a person to look at: /tmp/metrics.png.
    void render()
    {
        ViewState state;
        MetricsView view(&state);
        view.resize(1000, 760);
        view.show();
        QSignalSpy regex(&view, &MetricsView::regexSeriesReady);
        state.setIndex(m_kernel);
        QVERIFY(regex.wait(30000));
        state.setCurrentStep(m_kernel->row(m_kernel->rowCount() / 2).index);
        auto *canvas = view.childAt(view.width() / 2, view.height() / 2);
        QVERIFY(canvas);
        QTest::mouseMove(canvas, QPoint(canvas->width() * 2 / 3, canvas->height() * 4 / 5));
        QVERIFY(view.grab().save(QStringLiteral("/tmp/metrics.png")));
    }
};

QTEST_MAIN(TestMetricSeries)
#include "tst_metricseries.moc"
