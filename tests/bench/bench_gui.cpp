// The desktop app on long runs. For the 35-hour sample session and for synthetic runs of
// 1k / 10k / 100k / 1M steps, each opened by a fresh process (so memory is its own), prints:
// time from process start to the first painted window with the summary, and to the step
// table filled; memory once open; jump to a random step until the inspector has painted
// it; frame time while scrolling the step table and zooming the timeline.
// Targets (issue 6): first paint < 1 s at 1M and within 3x of 1k; memory at 1M < 400 MB;
// jump-and-paint < 50 ms; scroll and zoom frames < 16 ms.
//
//   tapedeck-bench-gui [--scales session,1k,10k,100k,1M] [--dir DIR]
// Tapes are generated once into DIR (default /tmp/tapedeck-bench-gui) and reused.
#include "benchprocess.h"

#include "findingsmodel.h"
#include "findingspanel.h"
#include "inspectorview.h"
#include "mainwindow.h"
#include "metricsview.h"
#include "steptableview.h"
#include "timelineview.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/samples/kernelsession.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTimer>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>

using namespace tapedeck;
using Clock = std::chrono::steady_clock;

namespace {

// A synthetic run with the shape of a long agent session, for scales the sample generator
// would take an hour to write (it commits per step): three threads of model call, tool
// call, tool result turns over 35 hours, a context that grows and is compacted, failing
// tools now and then; content is short (the app reads summaries to open a tape; content is
// decoded one step at a time in the inspector). Written with appendBatch.
std::string writeSyntheticRun(const std::string &path, int64_t steps)
{
    formats::WriterOptions wo;
    wo.overwrite = true;
    auto writer = formats::TapeWriter::create(path, wo);
    if (!writer)
        return writer.error().message;
    formats::RunInfo run;
    run.name = "synthetic long run";
    run.agent = "bench";
    const int64_t t0 = 1767225600000000;
    const int64_t span = int64_t(35) * 3600 * 1000'000;
    run.startedUs = t0;
    auto runId = (*writer)->beginRun(run);
    if (!runId)
        return runId.error().message;
    auto branch = (*writer)->mainBranch(*runId);
    std::vector<formats::ThreadId> threads;
    for (const char *label : {"main", "subagent: tests", "subagent: profile"}) {
        formats::ThreadInfo t;
        t.branch = *branch;
        t.label = label;
        t.startedUs = t0;
        auto id = (*writer)->addThread(t);
        if (!id)
            return id.error().message;
        threads.push_back(*id);
    }
    const char *tools[] = {"bash", "edit_file", "read_file", "run_benchmark"};
    std::vector<std::vector<nlohmann::json>> context(threads.size());
    std::vector<formats::Step> batch;
    const int64_t gap = std::max<int64_t>(span / std::max<int64_t>(steps, 1), 1);
    std::string lastCall;
    formats::StepIndex lastModel{}, lastTool{};
    for (int64_t k = 0; k < steps; ++k) {
        const size_t th = size_t((k / 30) % 3 == 0 ? 0 : (k / 30) % 3);
        const int64_t at = t0 + k * gap;
        formats::Step s;
        s.thread = threads[th];
        s.startedUs = at;
        const int turn = int(k % 3);
        const int64_t n = k / 3;
        if (turn == 0) {
            s.kind = formats::StepKind::ModelCall;
            s.name = "claude-sonnet-4";
            if (context[th].size() > 60) // a compaction keeps the first and last messages
                context[th].erase(context[th].begin() + 1, context[th].end() - 10);
            if (context[th].empty())
                context[th].push_back({{"role", "user"}, {"content", "Make the kernel faster; TASK.md says how."}});
            context[th].push_back({{"role", "user"}, {"content", "result " + std::to_string(n)}});
            s.requestMessages = context[th];
            s.requestParams = {{"model", "claude-sonnet-4"}, {"max_tokens", 4096}};
            lastCall = "call_" + std::to_string(n);
            s.payload = {{"role", "assistant"},
                         {"content", "Trying idea " + std::to_string(n % 97)},
                         {"tool_calls", {{{"id", lastCall}, {"name", tools[n % 4]}, {"arguments", {{"n", n}}}}}}};
            context[th].push_back({{"role", "assistant"}, {"content", "Trying idea " + std::to_string(n % 97)}});
            s.firstTokenUs = at + gap / 5;
            s.endedUs = at + gap * 2 / 3;
            s.usage = {int64_t(context[th].size()) * 700, 180 + n % 300, int64_t(context[th].size()) * 300, 0};
            s.costUsd = 0.003 * double(context[th].size());
        } else if (turn == 1) {
            s.kind = formats::StepKind::ToolCall;
            s.name = tools[n % 4];
            s.callId = lastCall;
            s.payload = {{"n", n}};
            s.endedUs = at + 1000;
        } else {
            s.kind = formats::StepKind::ToolResult;
            s.name = tools[n % 4];
            s.callId = lastCall;
            const bool failed = n % 50 == 7;
            s.status = failed ? formats::StepStatus::Error : formats::StepStatus::Ok;
            s.payload = {{"output", failed ? "error: compilation failed at line " + std::to_string(n % 400)
                                           : "geomean speedup: " + std::to_string(1.0 + double(n % 900) / 100.0) + "x"},
                         {"is_error", failed}};
            s.endedUs = at + gap / 2;
        }
        batch.push_back(std::move(s));
        if (batch.size() == 2000 || k + 1 == steps) {
            auto done = (*writer)->appendBatch(batch);
            if (!done)
                return done.error().message;
            batch.clear();
        }
    }
    if (auto s = (*writer)->endRun(*runId, t0 + span, "exit 0"); !s)
        return s.error().message;
    return {};
}

struct Scale {
    std::string name;
    int64_t steps; // 0: the kernel session
};

double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The measuring child: opens the tape in the real window (offscreen) and prints one line
// "key=value ..." with what it measured.
int measure(int argc, char **argv, const std::string &tape, Clock::time_point started)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QStandardPaths::setTestModeEnabled(true);
    QApplication app(argc, argv);
    gui::MainWindow window;
    window.resize(1500, 950);
    window.show();
    double firstPaintMs = 0, filledMs = 0;
    QObject::connect(&window, &gui::MainWindow::summaryShown, [&] {
        window.repaint();
        firstPaintMs = msSince(started);
    });
    QSignalSpy opened(&window, &gui::MainWindow::tapeOpened);
    // The scans of the whole run that follow an open, for the frames to be measured after.
    QSignalSpy analyzed(window.findings()->model(), &gui::FindingsModel::analyzed);
    QSignalSpy metricsReady(window.metrics(), &gui::MetricsView::metricsReady);
    QSignalSpy regexReady(window.metrics(), &gui::MetricsView::regexSeriesReady);
    window.openTape(QString::fromStdString(tape));
    if (!opened.wait(600000)) {
        std::printf("error=not-opened\n");
        return 1;
    }
    window.repaint();
    filledMs = msSince(started);
    const long rss = bench::rssKb(getpid());
    auto index = window.state()->index();

    // Jump to random steps: select, wait until the inspector has the step, paint it.
    std::mt19937_64 rng(42);
    std::vector<double> jumps, loads, selects;
    for (int i = 0; i < 30; ++i) {
        const int64_t row = int64_t(rng() % uint64_t(index->rowCount()));
        QSignalSpy shown(window.inspector(), &gui::InspectorView::stepShown);
        const auto t0 = Clock::now();
        window.state()->setCurrentStep(index->row(row).index);
        QCoreApplication::sendPostedEvents(); // the views that follow, painted
        selects.push_back(msSince(t0));
        if (shown.isEmpty() && !shown.wait(10000)) {
            std::printf("error=jump-timeout\n");
            return 1;
        }
        loads.push_back(msSince(t0));
        window.repaint(); // every view follows the selection: table, timeline, inspector
        jumps.push_back(msSince(t0));
    }
    // Where a jump's time goes: one repaint of each view with the last step selected.
    auto paintTime = [](QWidget *w) {
        std::vector<double> t;
        for (int i = 0; i < 10; ++i) {
            const auto t0 = Clock::now();
            w->repaint();
            t.push_back(msSince(t0));
        }
        return bench::percentile(t, 0.5);
    };
    const double paintTimeline = paintTime(window.timeline());
    const double paintTable = paintTime(window.stepTable());
    const double paintInspector = paintTime(window.inspector());
    const double paintMetrics = paintTime(window.metrics());

    // Scrolling the table a page at a time, and zooming the timeline in and out. A frame
    // is the change and the paint of everything it made dirty, in every view that follows
    // (the metrics follow the timeline's window), as the event loop would paint it.
    // Measured once the app is idle, so that a scan of the whole run landing mid-scroll
    // (the findings, the metrics) is not counted as a scroll frame.
    for (QSignalSpy *done : {&analyzed, &metricsReady, &regexReady}) {
        if (done->isEmpty() && !done->wait(600000)) {
            std::printf("error=background-work-timeout\n");
            return 1;
        }
    }
    const auto paintDirty = [] { QCoreApplication::sendPostedEvents(); };
    paintDirty();
    QTableView *table = window.stepTable()->table();
    QScrollBar *bar = table->verticalScrollBar();
    std::vector<double> scroll, zoom;
    bar->setValue(0);
    for (int i = 0; i < 60; ++i) {
        const auto t0 = Clock::now();
        bar->setValue(int(uint64_t(bar->maximum()) * uint64_t(i) / 60));
        paintDirty();
        scroll.push_back(msSince(t0));
    }
    gui::TimelineView *timeline = window.timeline();
    for (int i = 0; i < 60; ++i) {
        const auto t0 = Clock::now();
        timeline->zoomBy(i < 30 ? 1.5 : 1 / 1.5, timeline->width() * 0.4);
        paintDirty();
        zoom.push_back(msSince(t0));
    }
    std::printf("steps=%lld first_paint_ms=%.1f filled_ms=%.1f rss_kb=%ld select_p50_ms=%.2f load_p50_ms=%.2f paint_timeline_ms=%.2f "
                "paint_table_ms=%.2f paint_inspector_ms=%.2f paint_metrics_ms=%.2f jump_p50_ms=%.2f jump_max_ms=%.2f "
                "scroll_p50_ms=%.2f scroll_max_ms=%.2f zoom_p50_ms=%.2f zoom_max_ms=%.2f\n",
                (long long)index->rowCount(), firstPaintMs, filledMs, rss, bench::percentile(selects, 0.5), bench::percentile(loads, 0.5),
                paintTimeline, paintTable, paintInspector, paintMetrics, bench::percentile(jumps, 0.5),
                bench::percentile(jumps, 1.0), bench::percentile(scroll, 0.5), bench::percentile(scroll, 1.0),
                bench::percentile(zoom, 0.5), bench::percentile(zoom, 1.0));
    return 0;
}

std::string runChild(const std::string &self, const std::string &tape)
{
    std::string out;
    FILE *p = popen(("'" + self + "' --measure '" + tape + "' 2>/dev/null").c_str(), "r");
    if (!p)
        return out;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p))
        out += buf;
    pclose(p);
    return out;
}

double field(const std::string &line, const std::string &key)
{
    const auto at = line.find(key + "=");
    return at == std::string::npos ? -1 : std::atof(line.c_str() + at + key.size() + 1);
}

} // namespace

int main(int argc, char **argv)
{
    const auto started = Clock::now();
    std::vector<Scale> all = {{"session", 0}, {"1k", 1000}, {"10k", 10000}, {"100k", 100000}, {"1M", 1000000}};
    std::string dir = "/tmp/tapedeck-bench-gui";
    std::vector<Scale> scales = all;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--measure" && i + 1 < argc)
            return measure(argc, argv, argv[i + 1], started);
        if (a == "--dir" && i + 1 < argc) {
            dir = argv[++i];
        } else if (a == "--scales" && i + 1 < argc) {
            scales.clear();
            std::stringstream list(argv[++i]);
            for (std::string name; std::getline(list, name, ',');) {
                auto it = std::find_if(all.begin(), all.end(), [&](const Scale &s) { return s.name == name; });
                if (it == all.end()) {
                    std::fprintf(stderr, "tapedeck-bench-gui: unknown scale %s (session, 1k, 10k, 100k, 1M)\n",
                                 name.c_str());
                    return 2;
                }
                scales.push_back(*it);
            }
        } else {
            std::fprintf(stderr, "usage: tapedeck-bench-gui [--scales session,1k,10k,100k,1M] [--dir DIR]\n");
            return 2;
        }
    }
    std::filesystem::create_directories(dir);
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();

    std::printf("tapedeck-gui on long runs: each tape opened by a fresh process, offscreen, 1500x950\n"
                "(the session is the 35-hour sample; the others are synthetic runs with the same step mix)\n\n");
    std::printf("%-8s %9s %12s %12s %9s %16s %16s %16s\n", "scale", "steps", "first paint", "table full",
                "RSS MB", "jump p50/max ms", "scroll p50/max", "zoom p50/max");
    double firstPaint1k = 0;
    std::vector<std::pair<std::string, double>> ratios;
    std::vector<std::pair<std::string, std::string>> breakdown;
    for (const Scale &s : scales) {
        const std::string tape = dir + "/" + s.name + ".tape";
        bool have = false;
        if (auto reader = formats::TapeReader::open(tape))
            have = s.steps == 0 ? (*reader)->stepCount() > 3000 : (*reader)->stepCount() == s.steps;
        if (!have) {
            std::fprintf(stderr, "writing %s ...\n", tape.c_str());
            std::string e;
            if (s.steps == 0) {
                formats::WriterOptions wo;
                wo.overwrite = true;
                auto writer = formats::TapeWriter::create(tape, wo);
                if (!writer) {
                    e = writer.error().message;
                } else if (auto stats = samples::writeKernelSession(**writer, {}); !stats) {
                    e = stats.error().message;
                }
            } else {
                e = writeSyntheticRun(tape, s.steps);
            }
            if (!e.empty()) {
                std::printf("%-8s error: %s\n", s.name.c_str(), e.c_str());
                continue;
            }
        }
        const std::string line = runChild(self, tape);
        if (line.find("steps=") == std::string::npos) {
            std::printf("%-8s error: %s\n", s.name.c_str(), line.empty() ? "the measuring process failed" : line.c_str());
            continue;
        }
        char jump[32], scroll[32], zoom[32];
        std::snprintf(jump, sizeof jump, "%.1f / %.1f", field(line, "jump_p50_ms"), field(line, "jump_max_ms"));
        std::snprintf(scroll, sizeof scroll, "%.1f / %.1f", field(line, "scroll_p50_ms"), field(line, "scroll_max_ms"));
        std::snprintf(zoom, sizeof zoom, "%.1f / %.1f", field(line, "zoom_p50_ms"), field(line, "zoom_max_ms"));
        std::printf("%-8s %9.0f %9.0f ms %9.0f ms %9.1f %16s %16s %16s\n", s.name.c_str(), field(line, "steps"),
                    field(line, "first_paint_ms"), field(line, "filled_ms"), field(line, "rss_kb") / 1024, jump,
                    scroll, zoom);
        std::fflush(stdout);
        breakdown.emplace_back(s.name, line);
        if (s.name == "1k")
            firstPaint1k = field(line, "first_paint_ms");
        else if (firstPaint1k > 0 && s.steps > 1000)
            ratios.emplace_back(s.name, field(line, "first_paint_ms") / firstPaint1k);
    }
    std::printf("\nwhere a jump goes (p50 ms): the views following the selection, the inspector's load until "
                "it has the step, then one repaint of each view\n%-8s %10s %10s %10s %10s %10s %10s\n", "scale",
                "select", "load", "timeline", "table", "inspector", "metrics");
    for (const auto &[name, line] : breakdown)
        std::printf("%-8s %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f\n", name.c_str(), field(line, "select_p50_ms"),
                    field(line, "load_p50_ms"),
                    field(line, "paint_timeline_ms"), field(line, "paint_table_ms"), field(line, "paint_inspector_ms"),
                    field(line, "paint_metrics_ms"));
    for (const auto &[name, ratio] : ratios)
        std::printf("ratio %s/1k: first paint %.2fx\n", name.c_str(), ratio);
    return 0;
}
