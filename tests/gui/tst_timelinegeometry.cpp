// TimelineGeometry, the timeline's arithmetic, without painting: time <-> x, zooming
// around an anchor, panning and clamping, the minimum span, the axis ticks. Then the
// TimelineView over it, offscreen: its lanes, clicks and zooms against ViewState, a
// rendered image for a person to look at, and the time a paint of a large run takes.
#include "displayformat.h"
#include "guitestutil.h"
#include "timelinegeometry.h"
#include "timelineview.h"
#include "viewstate.h"

#include <QElapsedTimer>
#include <QImage>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTest>
#include <QToolTip>

#include <algorithm>
#include <cmath>

using namespace tapedeck;
using namespace tapedeck::gui;

namespace {

constexpr qint64 kMs = 1000; // qint64, not int64_t: the type the _data() columns hold
constexpr qint64 kSecond = 1000 * kMs;
constexpr qint64 kMinute = 60 * kSecond;
constexpr qint64 kHour = 60 * kMinute;
constexpr qint64 kT0 = qint64(1764547200) * kSecond; // 2025-12-01, a realistic epoch time

TimelineGeometry geometryOver(int64_t runSpan, int64_t windowStart, int64_t windowSpan,
                              double width = 1000)
{
    TimelineGeometry g;
    g.setRun(kT0, kT0 + runSpan);
    g.setWidth(width);
    g.setVisible(kT0 + windowStart, kT0 + windowStart + windowSpan);
    return g;
}

// A synthetic run of `steps` steps in `threads` threads over `span` µs: each thread a
// sequence of model call, tool call, tool result, some failing.
std::shared_ptr<const TapeIndex> syntheticIndex(int64_t steps, int threads, int64_t span)
{
    formats::TapeSummary summary;
    formats::RunInfo run;
    run.id = formats::RunId{1};
    run.name = "synthetic";
    summary.runs.push_back(run);
    formats::BranchInfo branch;
    branch.id = formats::BranchId{1};
    branch.run = run.id;
    summary.branches.push_back(branch);
    for (int t = 1; t <= threads; ++t) {
        formats::ThreadInfo info;
        info.id = formats::ThreadId{t};
        info.branch = branch.id;
        info.label = t == 1 ? "main" : "subagent " + std::to_string(t - 1);
        summary.threads.push_back(info);
    }
    std::vector<StepRow> rows;
    rows.reserve(size_t(steps));
    const int64_t perThread = steps / threads;
    const int64_t slot = span / std::max<int64_t>(1, perThread);
    for (int64_t i = 0; i < steps; ++i) {
        StepRow r;
        r.index = formats::StepIndex{i + 1};
        r.thread = int32_t(1 + i % threads);
        r.run = 1;
        r.branch = 1;
        const int64_t k = i / threads;
        r.startedUs = kT0 + k * slot;
        switch (k % 3) {
        case 0:
            r.kind = formats::StepKind::ModelCall;
            r.name = 0;
            r.endedUs = r.startedUs + slot * 8 / 10;
            r.firstTokenUs = r.startedUs + slot / 2;
            r.inputTokens = 1000 + k;
            r.outputTokens = 100;
            break;
        case 1:
            r.kind = formats::StepKind::ToolCall;
            r.name = 1 + int32_t(k % 2);
            r.endedUs = r.startedUs;
            break;
        default:
            r.kind = formats::StepKind::ToolResult;
            r.name = 1 + int32_t((k - 1) % 2);
            r.endedUs = r.startedUs + slot * 9 / 10;
            r.status = k % 97 == 2 ? formats::StepStatus::Error : formats::StepStatus::Ok;
            break;
        }
        rows.push_back(r);
    }
    summary.stepCount = steps;
    return std::make_shared<TapeIndex>(
        std::string(), std::move(summary), std::move(rows),
        std::vector<std::string>{"model-x", "run_shell_command", "read_file"});
}

void sendMouse(QWidget *w, QEvent::Type type, QPoint pos, Qt::MouseButton button,
               Qt::MouseButtons buttons)
{
    QMouseEvent event(type, QPointF(pos), w->mapToGlobal(QPointF(pos)), button, buttons,
                      Qt::NoModifier);
    QCoreApplication::sendEvent(w, &event);
}

} // namespace

class TestTimelineGeometry : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::shared_ptr<const TapeIndex> m_kernel;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const std::string tape = m_dir.filePath(QStringLiteral("kernel.tape")).toStdString();
        const std::string e = test::writeKernelSessionTape(tape);
        QVERIFY2(e.empty(), e.c_str());
        std::string error;
        m_kernel = test::loadIndex(tape, &error);
        QVERIFY2(m_kernel, error.c_str());
    }

    // ----------------------------------------------------------------------------------
    // Geometry

    void roundTrip_data()
    {
        QTest::addColumn<qint64>("runSpan");
        QTest::addColumn<qint64>("windowStart");
        QTest::addColumn<qint64>("windowSpan");
        QTest::addColumn<double>("width");
        QTest::addColumn<qint64>("at"); // offset into the run

        QTest::newRow("35 h, fitted, start")
            << 35 * kHour << qint64(0) << 35 * kHour << 1000.0 << qint64(0);
        QTest::newRow("35 h, fitted, end")
            << 35 * kHour << qint64(0) << 35 * kHour << 1000.0 << 35 * kHour;
        QTest::newRow("35 h, fitted, odd µs")
            << 35 * kHour << qint64(0) << 35 * kHour << 1317.0 << 12 * kHour + 345'677;
        QTest::newRow("1 s window deep in the run")
            << 35 * kHour << 20 * kHour << kSecond << 1000.0 << 20 * kHour + 250'001;
        QTest::newRow("1 ms window")
            << 35 * kHour << 30 * kHour << kMs << 800.0 << 30 * kHour + 777;
        QTest::newRow("outside the window, left")
            << 35 * kHour << 10 * kHour << kHour << 1000.0 << 2 * kHour + 1;
        QTest::newRow("a 2 s run")
            << 2 * kSecond << qint64(0) << 2 * kSecond << 640.0 << qint64(1'234'567);
    }

    void roundTrip()
    {
        QFETCH(qint64, runSpan);
        QFETCH(qint64, windowStart);
        QFETCH(qint64, windowSpan);
        QFETCH(double, width);
        QFETCH(qint64, at);
        const TimelineGeometry g = geometryOver(runSpan, windowStart, windowSpan, width);
        QCOMPARE(g.startUs(), kT0 + windowStart);
        QCOMPARE(g.endUs(), kT0 + windowStart + windowSpan);
        const double x = g.mapTimeToX(double(kT0 + at));
        QCOMPARE(g.mapXToTime(x), kT0 + at);
        // And the edges of the window are the edges of the plot.
        QCOMPARE(g.mapTimeToX(double(g.startUs())), 0.0);
        QVERIFY(std::abs(g.mapTimeToX(double(g.endUs())) - width) < 1e-6);
        QCOMPARE(g.mapXToTime(0), g.startUs());
        QCOMPARE(g.mapXToTime(width), g.endUs());
    }

    void zoomKeepsAnchor_data()
    {
        QTest::addColumn<qint64>("windowStart");
        QTest::addColumn<qint64>("windowSpan");
        QTest::addColumn<double>("factor");
        QTest::addColumn<double>("anchorX");

        QTest::newRow("in x2 at the centre") << qint64(0) << 35 * kHour << 2.0 << 500.0;
        QTest::newRow("in x2 at the left edge") << qint64(0) << 35 * kHour << 2.0 << 0.0;
        QTest::newRow("in x2 at the right edge") << qint64(0) << 35 * kHour << 2.0 << 1000.0;
        QTest::newRow("in x10 off centre") << 5 * kHour << 2 * kHour << 10.0 << 137.5;
        QTest::newRow("out x2 mid-run") << 10 * kHour << kHour << 0.5 << 620.0;
        QTest::newRow("in x1000 at 1 s") << 17 * kHour << kSecond << 1000.0 << 333.0;
        QTest::newRow("in past the minimum") << 17 * kHour << 10 * kMs << 1e6 << 250.0;
    }

    void zoomKeepsAnchor()
    {
        QFETCH(qint64, windowStart);
        QFETCH(qint64, windowSpan);
        QFETCH(double, factor);
        QFETCH(double, anchorX);
        TimelineGeometry g = geometryOver(35 * kHour, windowStart, windowSpan);
        const double before = g.mapXToTimeExact(anchorX);
        g.zoom(factor, anchorX);
        QVERIFY2(
            std::abs(g.mapXToTimeExact(anchorX) - before) < 0.5,
            qPrintable(
                QStringLiteral("anchor moved by %1 µs").arg(g.mapXToTimeExact(anchorX) - before)));
        const double expected =
            std::max(double(windowSpan) / factor, double(TimelineGeometry::kMinSpanUs));
        QVERIFY(std::abs(g.spanUs() - expected) < 1e-3 * expected);
    }

    // From the whole 35 hours down to a second and on to the minimum, around one point,
    // and back out: the point stays put all the way and the way out ends at the fit.
    void zoomAllTheWayAndBack()
    {
        TimelineGeometry g = geometryOver(35 * kHour, 0, 35 * kHour);
        const double anchorX = 713;
        const double t = g.mapXToTimeExact(anchorX);
        int steps = 0;
        bool passedOneSecond = false;
        while (g.spanUs() > TimelineGeometry::kMinSpanUs) {
            g.zoom(1.25, anchorX);
            ++steps;
            QVERIFY(std::abs(g.mapXToTimeExact(anchorX) - t) < 0.5);
            passedOneSecond = passedOneSecond || g.spanUs() <= kSecond;
        }
        QVERIFY(passedOneSecond);
        QCOMPARE(g.spanUs(), double(TimelineGeometry::kMinSpanUs));
        QVERIFY(steps > 50);
        for (int i = 0; i < steps + 20; ++i)
            g.zoom(1 / 1.25, anchorX);
        QCOMPARE(g.spanUs(), double(35 * kHour) + 2 * g.marginUs());
        g.fit();
        QCOMPARE(g.startUs(), kT0);
        QCOMPARE(g.endUs(), kT0 + 35 * kHour);
    }

    void panClamps_data()
    {
        QTest::addColumn<qint64>("windowStart");
        QTest::addColumn<qint64>("windowSpan");
        QTest::addColumn<double>("dx");
        QTest::addColumn<qint64>("expectedStart"); // offset into the run; -1: not clamped

        QTest::newRow("a little right") << 10 * kHour << kHour << -100.0 << 10 * kHour + kHour / 10;
        QTest::newRow("a little left") << 10 * kHour << kHour << 250.0 << 10 * kHour - kHour / 4;
        // The margin is 2 % of the run: 42 min for 35 h.
        QTest::newRow("far left stops at the margin")
            << kHour << kHour << 1e7 << -(35 * kHour / 50);
        QTest::newRow("far right stops at the margin")
            << 30 * kHour << kHour << -1e7 << 34 * kHour + 35 * kHour / 50;
        QTest::newRow("fitted, left") << qint64(0) << 35 * kHour << 1e4 << -(35 * kHour / 50);
        QTest::newRow("1 ms at the end, right")
            << 35 * kHour - kMs << kMs << -1e10 << 35 * kHour + 35 * kHour / 50 - kMs;
    }

    void panClamps()
    {
        QFETCH(qint64, windowStart);
        QFETCH(qint64, windowSpan);
        QFETCH(double, dx);
        QFETCH(qint64, expectedStart);
        TimelineGeometry g = geometryOver(35 * kHour, windowStart, windowSpan);
        g.pan(dx);
        QCOMPARE(g.startUs(), kT0 + expectedStart);
        QCOMPARE(g.endUs() - g.startUs(), windowSpan);
        QVERIFY(double(g.startUs()) >= double(kT0) - g.marginUs() - 1);
        QVERIFY(double(g.endUs()) <= double(kT0 + 35 * kHour) + g.marginUs() + 1);
    }

    void minimumSpan_data()
    {
        QTest::addColumn<qint64>("runSpan");
        QTest::addColumn<qint64>("askStart");
        QTest::addColumn<qint64>("askSpan");
        QTest::addColumn<qint64>("expectedStart");
        QTest::addColumn<qint64>("expectedSpan");

        QTest::newRow("an instant keeps its centre")
            << 35 * kHour << 3 * kHour << qint64(0) << 3 * kHour - 500 << kMs;
        QTest::newRow("100 µs keeps its centre")
            << 35 * kHour << 3 * kHour << qint64(100) << 3 * kHour - 450 << kMs;
        QTest::newRow("wider than the run: the run and its margins")
            << 35 * kHour << -100 * kHour << 300 * kHour << -(35 * kHour / 50)
            << 35 * kHour + 2 * (35 * kHour / 50);
        QTest::newRow("an empty run still shows 1 ms")
            << qint64(0) << qint64(0) << qint64(0) << qint64(-500) << kMs;
        QTest::newRow("a 10 µs run")
            << qint64(10) << qint64(0) << qint64(10) << qint64(-495) << kMs;
    }

    void minimumSpan()
    {
        QFETCH(qint64, runSpan);
        QFETCH(qint64, askStart);
        QFETCH(qint64, askSpan);
        QFETCH(qint64, expectedStart);
        QFETCH(qint64, expectedSpan);
        TimelineGeometry g;
        g.setRun(kT0, kT0 + runSpan);
        g.setVisible(kT0 + askStart, kT0 + askStart + askSpan);
        QCOMPARE(g.startUs(), kT0 + expectedStart);
        QCOMPARE(g.endUs() - g.startUs(), expectedSpan);
        g.zoom(1e12, 10);
        QCOMPARE(g.spanUs(), double(TimelineGeometry::kMinSpanUs));
        g.zoom(1e-12, 10);
        QCOMPARE(g.spanUs(), double(runSpan) + 2 * g.marginUs());
        g.zoom(0, 10); // nonsense factors change nothing
        g.zoom(std::nan(""), 10);
        QCOMPARE(g.spanUs(), double(runSpan) + 2 * g.marginUs());
    }

    void ticks_data()
    {
        QTest::addColumn<qint64>("windowStart");
        QTest::addColumn<qint64>("windowSpan");
        QTest::addColumn<qint64>("spacing");
        QTest::addColumn<QString>("firstLabel");

        // 1000 px, ticks at least 90 px apart: the spacing is the first nice one >= 9 % of
        // the window.
        QTest::newRow("35 h") << qint64(0) << 35 * kHour << 4 * kHour << QStringLiteral("+0:00:00");
        QTest::newRow("1 h") << 2 * kHour + 7 * kMinute << kHour << 10 * kMinute
                             << QStringLiteral("+2:10:00");
        QTest::newRow("1 min") << 5 * kHour + 30 * kSecond + 1 << kMinute << 10 * kSecond
                               << QStringLiteral("+5:00:40");
        QTest::newRow("1 s") << 20 * kHour + 3 * kMinute + 4 * kSecond + 50 * kMs << kSecond
                             << 100 * kMs << QStringLiteral("+20:03:04.1");
        QTest::newRow("1 ms") << 7 * kHour + 12 * kSecond + 345'250 << kMs << qint64(100)
                              << QStringLiteral("+7:00:12.345300");
        QTest::newRow("10 min") << kHour << 10 * kMinute << 1 * kMinute
                                << QStringLiteral("+1:00:00");
        QTest::newRow("20 ms") << kHour + 10 * kMs << 20 * kMs << 2 * kMs
                               << QStringLiteral("+1:00:00.010");
    }

    void ticks()
    {
        QFETCH(qint64, windowStart);
        QFETCH(qint64, windowSpan);
        QFETCH(qint64, spacing);
        QFETCH(QString, firstLabel);
        const TimelineGeometry g = geometryOver(35 * kHour, windowStart, windowSpan);
        const TimelineTicks t = g.ticks(90);
        QCOMPARE(t.spacingUs, spacing);
        QVERIFY(t.ticks.size() >= 4);
        QVERIFY(t.ticks.size() <= 12);
        QCOMPARE(t.ticks.front().label, firstLabel);
        for (size_t i = 0; i < t.ticks.size(); ++i) {
            const TimelineTick &tick = t.ticks[i];
            QVERIFY(tick.us >= g.startUs() && tick.us <= g.endUs());
            QCOMPARE((tick.us - kT0) % spacing, qint64(0));
            QVERIFY(std::abs(tick.x - g.mapTimeToX(double(tick.us))) < 1e-9);
            if (i > 0) {
                QVERIFY(tick.x - t.ticks[i - 1].x >= 90 - 1e-9);
                QVERIFY(tick.label != t.ticks[i - 1].label); // precise enough to tell apart
            }
        }
        // The next finer spacing would crowd the ticks.
        QVERIFY(double(spacing) / g.usPerPixel() < 90 * 2.5 + 1e-9);
    }

    // ----------------------------------------------------------------------------------
    // The widget

    void lanesAreThreads()
    {
        ViewState state;
        TimelineView view(&state);
        QCOMPARE(view.laneCount(), 0);
        state.setIndex(m_kernel);
        QCOMPARE(view.laneCount(), int(m_kernel->summary().threads.size()));
        QVERIFY(view.laneCount() >= 3);
        QCOMPARE(view.laneLabel(0), QStringLiteral("main"));
        for (int i = 0; i < view.laneCount(); ++i)
            QVERIFY(!view.laneLabel(i).isEmpty());
        QCOMPARE(view.laneLabel(view.laneCount()), QString());
        QCOMPARE(view.geometry().startUs(), m_kernel->firstUs());
        QCOMPARE(view.geometry().endUs(), m_kernel->lastUs());
    }

    // Clicking the middle of a step's bar selects it, fitted and zoomed in.
    void clickSelects_data()
    {
        QTest::addColumn<bool>("zoomIn");
        QTest::newRow("fitted") << false;
        QTest::newRow("zoomed to the step") << true;
    }

    void clickSelects()
    {
        QFETCH(bool, zoomIn);
        ViewState state;
        TimelineView view(&state);
        view.resize(1200, 260);
        state.setIndex(m_kernel);
        // The longest step of a sub-agent thread: wide enough to hit when fitted.
        const int32_t thread = int32_t(m_kernel->summary().threads.back().id.value);
        int64_t best = -1;
        for (int64_t r = 0; r < m_kernel->rowCount(); ++r)
            if (m_kernel->row(r).thread == thread &&
                (best < 0 || m_kernel->row(r).durationUs() > m_kernel->row(best).durationUs()))
                best = r;
        QVERIFY(best >= 0);
        const StepRow &row = m_kernel->row(best);
        if (zoomIn)
            state.setVisibleRange(row.startedUs - row.durationUs(), row.endedUs + row.durationUs());
        const int lane = view.laneCount() - 1;
        QCOMPARE(view.laneLabel(lane),
                 QString::fromStdString(m_kernel->summary().threads.back().label));
        const QRect laneRect = view.laneRect(lane);
        const double mid = double(row.startedUs + row.endedUs) / 2;
        const QPoint at(laneRect.left() + int(std::lround(view.geometry().mapTimeToX(mid))),
                        laneRect.center().y());
        QVERIFY(laneRect.contains(at));
        QTest::mouseClick(&view, Qt::LeftButton, {}, at);
        QCOMPARE(state.currentStep(), row.index);
    }

    void zoomAndPanSetTheVisibleRange()
    {
        ViewState state;
        TimelineView view(&state);
        view.resize(1000, 240);
        state.setIndex(m_kernel);
        QSignalSpy spy(&state, &ViewState::visibleRangeChanged);
        const int64_t span = state.visibleEndUs() - state.visibleStartUs();

        view.zoomBy(4, view.geometry().width() / 2);
        QCOMPARE(spy.count(), 1);
        QVERIFY(std::abs(double(state.visibleEndUs() - state.visibleStartUs()) - span / 4.0) < 2);
        QCOMPARE(state.visibleStartUs(), view.geometry().startUs());

        const int64_t before = state.visibleStartUs();
        view.panBy(-100); // content left: later times
        QCOMPARE(spy.count(), 2);
        QVERIFY(state.visibleStartUs() > before);

        // Keys: + zooms in, - out, 0 fits, arrows pan.
        QTest::keyClick(&view, Qt::Key_Plus);
        QVERIFY(state.visibleEndUs() - state.visibleStartUs() < span / 4);
        QTest::keyClick(&view, Qt::Key_Left);
        QTest::keyClick(&view, Qt::Key_0);
        QCOMPARE(state.visibleStartUs(), m_kernel->firstUs());
        QCOMPARE(state.visibleEndUs(), m_kernel->lastUs());

        // The wheel zooms around the pointer.
        const QPoint pointer(view.laneRect(0).left() + 300, view.laneRect(0).center().y());
        const double under = view.geometry().mapXToTimeExact(300);
        QWheelEvent wheel(QPointF(pointer), view.mapToGlobal(QPointF(pointer)), QPoint(),
                          QPoint(0, 360), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(&view, &wheel);
        QVERIFY(state.visibleEndUs() - state.visibleStartUs() < span / 1.5);
        QVERIFY(std::abs(view.geometry().mapXToTimeExact(300) - under) < 1);

        // Dragging pans: content follows the pointer.
        const int64_t startBefore = state.visibleStartUs();
        const double usPerPx = view.geometry().usPerPixel();
        sendMouse(&view, QEvent::MouseButtonPress, pointer, Qt::LeftButton, Qt::LeftButton);
        sendMouse(&view, QEvent::MouseMove, pointer + QPoint(60, 0), Qt::NoButton, Qt::LeftButton);
        sendMouse(&view, QEvent::MouseMove, pointer + QPoint(120, 0), Qt::NoButton, Qt::LeftButton);
        sendMouse(&view, QEvent::MouseButtonRelease, pointer + QPoint(120, 0), Qt::LeftButton,
                  Qt::NoButton);
        QVERIFY(std::abs(double(startBefore - state.visibleStartUs()) - 120 * usPerPx) < 2);
        QCOMPARE(state.currentStep(), formats::StepIndex{}); // a drag is not a click
    }

    void followsTheVisibleRange()
    {
        ViewState state;
        TimelineView view(&state);
        view.resize(1000, 240);
        state.setIndex(m_kernel);
        const int64_t t = m_kernel->firstUs() + 3 * kHour;
        state.setVisibleRange(t, t + kMinute);
        QCOMPARE(view.geometry().startUs(), t);
        QCOMPARE(view.geometry().endUs(), t + kMinute);
        // Narrower than the view allows: the view shows 1 ms and says so.
        state.setVisibleRange(t, t + 10);
        QCOMPARE(view.geometry().spanUs(), double(TimelineGeometry::kMinSpanUs));
        QCOMPARE(state.visibleEndUs() - state.visibleStartUs(), TimelineGeometry::kMinSpanUs);
    }

    void selectionOutsideTheWindowScrollsToIt()
    {
        ViewState state;
        TimelineView view(&state);
        view.resize(1000, 240);
        state.setIndex(m_kernel);
        const int64_t t = m_kernel->firstUs();
        state.setVisibleRange(t, t + 10 * kMinute);
        const StepRow &last = m_kernel->row(m_kernel->rowCount() - 1);
        state.setCurrentStep(last.index);
        QVERIFY(state.visibleStartUs() <= last.endedUs);
        QVERIFY(state.visibleEndUs() >= last.startedUs);
        QCOMPARE(state.visibleEndUs() - state.visibleStartUs(), 10 * kMinute);
    }

    void minimapMovesTheWindow()
    {
        ViewState state;
        TimelineView view(&state);
        view.resize(1000, 240);
        state.setIndex(m_kernel);
        view.zoomBy(10, 0);
        const QRect mini = view.minimapRect();
        const QPoint at(mini.left() + mini.width() * 3 / 4, mini.center().y());
        QTest::mouseClick(&view, Qt::LeftButton, {}, at);
        const double centre = double(state.visibleStartUs() + state.visibleEndUs()) / 2;
        const double expected =
            double(m_kernel->firstUs()) + 0.75 * double(m_kernel->lastUs() - m_kernel->firstUs());
        QVERIFY2(std::abs(centre - expected) <
                     double(m_kernel->lastUs() - m_kernel->firstUs()) / 200,
                 qPrintable(QStringLiteral("centre off by %1 s").arg((centre - expected) / 1e6)));
    }

    void doubleClickZoomsToTheStep()
    {
        ViewState state;
        TimelineView view(&state);
        view.resize(1000, 240);
        state.setIndex(m_kernel);
        const int32_t thread = int32_t(m_kernel->summary().threads.front().id.value);
        int64_t best = -1;
        for (int64_t r = 0; r < m_kernel->rowCount(); ++r)
            if (m_kernel->row(r).thread == thread &&
                (best < 0 || m_kernel->row(r).durationUs() > m_kernel->row(best).durationUs()))
                best = r;
        const StepRow &row = m_kernel->row(best);
        const QRect lane = view.laneRect(0);
        const QPoint at(
            lane.left() + int(view.geometry().mapTimeToX(double(row.startedUs + row.endedUs) / 2)),
            lane.center().y());
        QTest::mouseDClick(&view, Qt::LeftButton, {}, at);
        QCOMPARE(state.currentStep(), row.index);
        QVERIFY(state.visibleStartUs() <= row.startedUs && state.visibleEndUs() >= row.endedUs);
        QVERIFY(state.visibleEndUs() - state.visibleStartUs() < row.durationUs() * 2);
    }

    // The benchmark runs through run_shell_command ("python eval/run_eval.py"): its 432
    // results get diamonds, found off the GUI thread.
    void findsTheEvaluations()
    {
        ViewState state;
        TimelineView view(&state);
        state.setIndex(m_kernel);
        QTRY_COMPARE_WITH_TIMEOUT(view.evaluationCount(), int64_t(432), 30000);
    }

    // Hovering a step tells what it is: kind, name, duration, tokens.
    void tooltipNamesTheStep()
    {
        ViewState state;
        TimelineView view(&state);
        view.resize(1000, 240);
        state.setIndex(m_kernel);
        int64_t model = -1;
        for (int64_t r = 0; r < m_kernel->rowCount() && model < 0; ++r)
            if (m_kernel->row(r).kind == formats::StepKind::ModelCall &&
                m_kernel->row(r).outputTokens > 0)
                model = r;
        QVERIFY(model >= 0);
        const StepRow &row = m_kernel->row(model);
        state.setVisibleRange(row.startedUs - row.durationUs(), row.endedUs + row.durationUs());
        const QRect lane = view.laneRect(0);
        const QPoint at(
            lane.left() + int(view.geometry().mapTimeToX(double(row.startedUs + row.endedUs) / 2)),
            lane.center().y());
        QHelpEvent help(QEvent::ToolTip, at, view.mapToGlobal(at));
        QCoreApplication::sendEvent(&view, &help);
        const QString text = QToolTip::text();
        QVERIFY2(text.contains(QStringLiteral("model call")), qPrintable(text));
        QVERIFY2(text.contains(QString::fromStdString(m_kernel->nameOf(row))), qPrintable(text));
        QVERIFY2(text.contains(formatDuration(row.durationUs())), qPrintable(text));
        QVERIFY2(text.contains(formatCount(row.outputTokens) + QStringLiteral(" out")),
                 qPrintable(text));
        QToolTip::hideText();
    }

    // Steps the filter drops are drawn faint, one by one and in merged columns alike.
    void filterDimsWhatItDrops_data()
    {
        QTest::addColumn<bool>("fitted");
        QTest::newRow("zoomed to a model call") << false;
        QTest::newRow("fitted: merged columns") << true;
    }

    void filterDimsWhatItDrops()
    {
        QFETCH(bool, fitted);
        ViewState state;
        TimelineView view(&state);
        view.resize(1000, 240);
        state.setIndex(m_kernel);
        // The longest model call of the main thread, in the middle of the view.
        int64_t best = -1;
        for (int64_t r = 0; r < m_kernel->rowCount(); ++r) {
            const StepRow &row = m_kernel->row(r);
            if (row.kind == formats::StepKind::ModelCall && row.thread == m_kernel->row(0).thread &&
                (best < 0 || row.durationUs() > m_kernel->row(best).durationUs()))
                best = r;
        }
        const StepRow &row = m_kernel->row(best);
        if (!fitted)
            state.setVisibleRange(row.startedUs - row.durationUs(), row.endedUs + row.durationUs());
        const QRect lane = view.laneRect(0);
        // Zoomed in, the streaming part of the bar; fitted, the column the call ends in.
        const int x = lane.left() + int(view.geometry().mapTimeToX(double(row.endedUs) - 1)) -
                      (fitted ? 0 : 2);
        const QPoint at(x, lane.center().y());
        const QColor background = view.grab().toImage().pixelColor(lane.left() + 1, lane.top());
        const QColor shown = view.grab().toImage().pixelColor(at);
        QVERIFY2(shown != background, qPrintable(shown.name()));
        StepFilter filter;
        filter.kinds = {formats::StepKind::Compaction};
        state.setFilter(filter);
        const QColor dim = view.grab().toImage().pixelColor(at);
        auto distance = [](const QColor &a, const QColor &b) {
            return std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) +
                   std::abs(a.blue() - b.blue());
        };
        QVERIFY2(distance(dim, background) < distance(shown, background) / 2,
                 qPrintable(QStringLiteral("%1 -> %2 over %3")
                                .arg(shown.name(), dim.name(), background.name())));
        state.setFilter(StepFilter{});
        QCOMPARE(view.grab().toImage().pixelColor(at), shown);
    }

    // For a person to look at: the whole run, and zoomed in to an evaluation.
    void renders()
    {
        ViewState state;
        TimelineView view(&state);
        view.resize(1400, 230);
        state.setIndex(m_kernel);
        QTRY_COMPARE_WITH_TIMEOUT(view.evaluationCount(), int64_t(432), 30000);
        state.setCursorUs(m_kernel->firstUs() + 20 * kHour);
        state.setCurrentStep(m_kernel->row(m_kernel->rowCount() / 2).index);
        QImage whole = view.grab().toImage();
        QVERIFY(!whole.isNull());
        QVERIFY(whole.save(QStringLiteral("/tmp/timeline.png")));
        const StepRow &selected = m_kernel->row(m_kernel->rowCount() / 2);
        state.setVisibleRange(selected.startedUs - 5 * kMinute, selected.startedUs + 5 * kMinute);
        QVERIFY(view.grab().toImage().save(QStringLiteral("/tmp/timeline-10min.png")));
        state.setVisibleRange(selected.startedUs - 2 * kHour, selected.startedUs + 2 * kHour);
        QVERIFY(view.grab().toImage().save(QStringLiteral("/tmp/timeline-4h.png")));
        for (int64_t r = 0; r < m_kernel->rowCount(); ++r)
            if (m_kernel->row(r).kind == formats::StepKind::Compaction) {
                const int64_t t = m_kernel->row(r).startedUs;
                state.setVisibleRange(t - 3 * kMinute, t + 3 * kMinute);
                QVERIFY(view.grab().toImage().save(QStringLiteral("/tmp/timeline-compaction.png")));
                break;
            }
        // Something was drawn in every lane.
        for (int lane = 0; lane < view.laneCount(); ++lane) {
            state.setVisibleRange(m_kernel->firstUs(), m_kernel->lastUs());
            const QImage image = view.grab().toImage();
            const QRect r = view.laneRect(lane);
            const QColor background = image.pixelColor(r.left() + 1, r.top());
            int painted = 0;
            for (int x = r.left(); x < r.right(); ++x)
                painted += image.pixelColor(x, r.center().y()) != background ? 1 : 0;
            QVERIFY2(painted > 5,
                     qPrintable(QStringLiteral("lane %1: %2 px").arg(lane).arg(painted)));
        }
    }

    // A paint costs O(width), not O(steps): the whole of a 150,000-step run, fitted.
    void paintsALargeRunQuickly()
    {
        auto index = syntheticIndex(150'000, 3, 35 * kHour);
        ViewState state;
        QElapsedTimer build;
        build.start();
        TimelineView view(&state);
        view.resize(1400, 240);
        state.setIndex(index);
        qInfo("timeline: lanes for %lld steps built in %lld ms", (long long)index->rowCount(),
              (long long)build.elapsed());
        QCOMPARE(view.laneCount(), 3);
        QImage image(view.size(), QImage::Format_ARGB32_Premultiplied);
        auto paintMs = [&] {
            double best = 1e9;
            for (int i = 0; i < 5; ++i) {
                QElapsedTimer t;
                t.start();
                view.render(&image);
                best = std::min(best, double(t.nsecsElapsed()) / 1e6);
            }
            return best;
        };
        const double fitted = paintMs();
        view.zoomBy(40, 700);
        const double zoomed = paintMs();
        view.zoomBy(2000, 700);
        const double deep = paintMs();
        qInfo("timeline: paint of %lld steps: fitted %.2f ms, x40 %.2f ms, x80000 %.2f ms",
              (long long)index->rowCount(), fitted, zoomed, deep);
        // Generous bounds for a loaded machine; a paint that visited every step would be
        // an order of magnitude above them.
        QVERIFY(fitted < 50);
        QVERIFY(zoomed < 50);
        QVERIFY(deep < 50);
    }
};

QTEST_MAIN(TestTimelineGeometry)
#include "tst_timelinegeometry.moc"
