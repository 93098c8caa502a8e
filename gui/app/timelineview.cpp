#include "timelineview.h"

#include "displayformat.h"

#include <QApplication>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QRegularExpression>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace tapedeck::gui {

using formats::StepKind;

namespace {

constexpr int kAxisHeight = 24;
constexpr int kMinimapHeight = 30;
constexpr int kMinimapGap = 6;
constexpr int kMinLaneHeight = 14;
constexpr int kMaxLaneHeight = 44;
constexpr int kMinLabelWidth = 80;
constexpr int kMaxLabelWidth = 220;
constexpr int kMinimapBins = 2048;
constexpr int kFindingsHeight = 9; // the band of findings between the axis and the lanes
constexpr double kMinFindingPx = 3; // a finding of one step still shows
// Up to this many steps starting in one pixel column are drawn one by one; more make one
// merged mark. Small enough that a paint stays O(width), large enough that a column with
// a tool call and its result (a few ms apart) still shows both as they are.
constexpr ptrdiff_t kExactPerColumn = 3;
constexpr int64_t kMinGapUs = 60 * 1000'000; // idle gaps shorter than this are not marked
constexpr double kGapShareOfWindow = 0.02;   // nor ones narrower than 2 % of the window
constexpr double kHoverPx = 4;
constexpr double kZoomStep = 1.5;
constexpr double kPanStep = 0.1; // of the plot's width, per arrow key
const QString kEvaluationJob = QStringLiteral("timeline-evaluations");

// A stable colour per tool name (FNV-1a, not qHash, whose seed changes per process), in
// the oranges, yellows, greens and cyans: away from the error red, the model calls' blue and
// the compactions' purple. Saturation and value vary too, so that neighbours in hue differ.
QColor toolColor(const std::string &name)
{
    uint32_t h = 2166136261u;
    for (unsigned char c : name) {
        h ^= c;
        h *= 16777619u;
    }
    return QColor::fromHsv(28 + int(h % 163), 130 + int((h >> 8) % 100), 140 + int((h >> 16) % 80));
}

// A tick spacing in its own unit: "3 h", "30 min", "10 s", "200 ms", "50 µs". Every
// spacing the geometry picks is a whole number of one of these.
QString formatSpacing(int64_t us)
{
    struct Unit {
        int64_t us;
        const char *name;
    };
    static constexpr Unit kUnits[] = {
        {3600'000'000, "h"}, {60'000'000, "min"}, {1000'000, "s"}, {1000, "ms"}};
    for (const Unit &u : kUnits)
        if (us >= u.us && us % u.us == 0)
            return QStringLiteral("%1 %2").arg(us / u.us).arg(QLatin1String(u.name));
    return QStringLiteral("%1 µs").arg(us);
}

QColor dimmed(QColor c)
{
    c.setAlpha(50);
    return c;
}

// How a tool's calls are recognised as benchmark evaluations. The kernel session runs its
// benchmark through the shell tool (run_shell_command: "python eval/run_eval.py ..."), so
// for a shell tool the command decides; a tool named for benchmarking counts whole.
enum class EvalTool : char { No, Shell, Dedicated };

EvalTool evalToolKind(const std::string &name)
{
    const QString n = QString::fromStdString(name).toLower();
    if (n.contains(QLatin1String("bench")) || n.contains(QLatin1String("eval")))
        return EvalTool::Dedicated;
    for (const char *shell : {"shell", "bash", "exec", "command", "terminal"})
        if (n.contains(QLatin1String(shell)))
            return EvalTool::Shell;
    return EvalTool::No;
}

// Recognises a command that runs an evaluation or benchmark ("python eval/run_eval.py ...",
// "./bench.sh", "cargo bench", "pytest --benchmark-only"), not one that merely names such a
// file ("cat eval/run_eval.py", "git add bench/"): in each part of the command line, the
// first word after any launchers (python, uv run, timeout 600, ...) is what runs, and only
// it or an option may say "eval" or "bench". One per job: it is used on one thread.
class EvaluationMatcher {
public:
    bool matches(const QString &command) const
    {
        for (const QString &part : command.split(m_parts, Qt::SkipEmptyParts)) {
            bool programSeen = false;
            for (const QString &word : part.split(m_words, Qt::SkipEmptyParts)) {
                if (word.startsWith(QLatin1Char('-'))) {
                    if (m_evalWord.match(word.mid(word.startsWith(QLatin1String("--")) ? 2 : 1))
                            .hasMatch())
                        return true;
                    continue;
                }
                if (programSeen)
                    continue; // an argument: a mention of eval/ or bench/ does not count
                bool number = false;
                word.toDouble(&number);
                if (number || word.contains(QLatin1Char('=')) || m_launchers.contains(word))
                    continue; // a launcher, its argument or an environment variable
                if (m_evalWord.match(word.startsWith(QLatin1String("./")) ? word.mid(2) : word)
                        .hasMatch())
                    return true;
                programSeen = true;
            }
        }
        return false;
    }

private:
    QRegularExpression m_parts{QStringLiteral(R"(&&|\|\||[;|&\n])")};
    QRegularExpression m_words{QStringLiteral(R"(\s+)")};
    QRegularExpression m_evalWord{
        QStringLiteral(R"((^|[/_.-])(eval|evaluate|evaluation|bench|benchmark)s?([/_.=-]|$))"),
        QRegularExpression::CaseInsensitiveOption};
    QStringList m_launchers = {
        QStringLiteral("python"),   QStringLiteral("python3"), QStringLiteral("uv"),
        QStringLiteral("run"),      QStringLiteral("bash"),    QStringLiteral("sh"),
        QStringLiteral("exec"),     QStringLiteral("env"),     QStringLiteral("time"),
        QStringLiteral("timeout"),  QStringLiteral("nice"),    QStringLiteral("sudo"),
        QStringLiteral("torchrun"), QStringLiteral("cargo"),   QStringLiteral("go"),
        QStringLiteral("make"),     QStringLiteral("npm"),     QStringLiteral("pnpm"),
        QStringLiteral("yarn"),     QStringLiteral("node"),
    };
};

QString commandOf(const nlohmann::json &arguments)
{
    for (const char *key : {"command", "cmd", "script"}) {
        auto it = arguments.find(key);
        if (it == arguments.end())
            continue;
        if (it->is_string())
            return QString::fromStdString(it->get<std::string>());
        if (it->is_array()) {
            QStringList parts;
            for (const auto &part : *it)
                if (part.is_string())
                    parts << QString::fromStdString(part.get<std::string>());
            return parts.join(QLatin1Char(' '));
        }
    }
    return {};
}

template <typename T>
size_t firstAtLeast(const std::vector<T> &v, size_t from, size_t to, double value)
{
    return size_t(std::lower_bound(v.begin() + ptrdiff_t(from), v.begin() + ptrdiff_t(to), value,
                                   [](T a, double b) { return double(a) < b; }) -
                  v.begin());
}

// The same, searching outward from `from` first (1, 2, 4, ... items on): when the answer
// is near, as the end of one pixel column's steps is, it stays within a few cache lines
// of a 1,000,000-item array instead of probing all over it.
template <typename T>
size_t firstAtLeastNear(const std::vector<T> &v, size_t from, size_t to, double value)
{
    size_t lo = from; // every item in [from, lo) is below value
    size_t hi = from;
    for (size_t step = 1; hi < to && double(v[hi]) < value; step *= 2) {
        lo = hi + 1;
        hi = lo + step;
    }
    return firstAtLeast(v, lo, std::min(hi, to), value);
}

template <typename T>
size_t firstAbove(const std::vector<T> &v, size_t from, size_t to, double value)
{
    return size_t(std::upper_bound(v.begin() + ptrdiff_t(from), v.begin() + ptrdiff_t(to), value,
                                   [](double a, T b) { return a < double(b); }) -
                  v.begin());
}

} // namespace

// Sums over a lane's items 0 .. i-1: the sum over a range of items is two reads, which is
// what lets a merged pixel column know its colour, whether it holds an error and whether
// the filter keeps any of it, without visiting its steps. Kept together, so that a column
// costs one cache line here, not four.
struct LanePrefix {
    int64_t modelUs = 0; // time in model calls
    int64_t otherUs = 0; // time in every other step
    int32_t errors = 0;  // failed steps
    int32_t matches = 0; // steps the filter keeps (when there is a filter)
};

// One thread's steps in start order, as parallel arrays (a binary search touches only the
// array it searches). About 36 bytes a step.
struct TimelineView::Lane {
    QString label;
    QString tooltip;
    std::vector<int64_t> starts;
    std::vector<int64_t> maxEnds; // the latest end over items 0..i: never decreases
    std::vector<int32_t> rows;    // into the index
    std::vector<LanePrefix> sums; // one more than the items
    bool filtered = false;        // sums[].matches counts something
    // Benchmark evaluation results, by end time, and their items.
    std::vector<int64_t> evalEnds;
    std::vector<int32_t> evalItems;
    // Compactions, by start: few, and drawn as markers at every zoom.
    std::vector<int64_t> compactionStarts;

    size_t size() const { return starts.size(); }
    int64_t endOf(const TapeIndex &index, size_t i) const
    {
        const StepRow &r = index.row(rows[i]);
        return std::max(r.endedUs, r.startedUs);
    }
};

TimelineView::TimelineView(ViewState *state, QWidget *parent)
    : QWidget(parent), m_state(state), m_jobs(new JobRunner(this, JobRunner::Lane::Background))
{
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_OpaquePaintEvent);
    connect(m_state, &ViewState::indexChanged, this, &TimelineView::rebuild);
    connect(m_state, &ViewState::filterChanged, this, [this] {
        rebuildFilter();
        invalidateLayer();
    });
    connect(m_state, &ViewState::visibleRangeChanged, this, &TimelineView::followRange);
    connect(m_state, &ViewState::currentStepChanged, this, &TimelineView::revealCurrentStep);
    connect(m_state, &ViewState::cursorChanged, this, qOverload<>(&QWidget::update));
    rebuild();
}

TimelineView::~TimelineView() = default;

int TimelineView::laneCount() const
{
    return int(m_lanes.size());
}

QString TimelineView::laneLabel(int lane) const
{
    return lane >= 0 && lane < laneCount() ? m_lanes[size_t(lane)].label : QString();
}

QSize TimelineView::sizeHint() const
{
    const int lanes = std::max(1, laneCount());
    return {900, lanesTop() + lanes * 30 + kMinimapGap + kMinimapHeight + 2};
}

QSize TimelineView::minimumSizeHint() const
{
    return {300, kAxisHeight + 2 * kMinLaneHeight + kMinimapGap + kMinimapHeight + 2};
}

// ---------------------------------------------------------------------------------------
// Building, once per index

void TimelineView::rebuild()
{
    m_jobs->cancel(kEvaluationJob);
    m_index = m_state->index();
    m_lanes.clear();
    m_laneOfThread.clear();
    m_gaps.clear();
    m_density.assign(kMinimapBins, 0);
    m_errorDensity.assign(kMinimapBins, 0);
    m_evaluationCount = 0;
    m_nameColors.clear();
    m_laneScroll = 0;
    if (!m_index) {
        m_geometry.setRun(0, 0);
        updateWidth();
        invalidateLayer();
        return;
    }
    const TapeIndex &index = *m_index;

    std::unordered_map<int32_t, int> laneOf;
    auto addLane = [&](int32_t thread) {
        Lane lane;
        const formats::ThreadInfo *info = index.thread(thread);
        lane.label = info && !info->label.empty() ? QString::fromStdString(info->label)
                                                  : tr("thread %1").arg(thread);
        lane.tooltip = lane.label;
        const formats::BranchInfo *branch =
            info ? index.branch(int32_t(info->branch.value)) : nullptr;
        if (branch && branch->parent) {
            lane.label += tr(" · branch %1").arg(branch->id.value);
            if (!branch->description.empty())
                lane.tooltip =
                    lane.label + QLatin1Char('\n') + QString::fromStdString(branch->description);
        }
        if (const formats::RunInfo *run = branch ? index.run(int32_t(branch->run.value)) : nullptr)
            lane.tooltip +=
                QLatin1Char('\n') + tr("run: %1").arg(QString::fromStdString(run->name));
        laneOf.emplace(thread, int(m_lanes.size()));
        m_lanes.push_back(std::move(lane));
    };
    for (const formats::ThreadInfo &t : index.summary().threads)
        addLane(int32_t(t.id.value));

    // Rows come in long runs of one thread, so remembering the last lookup saves most of
    // the hashing.
    int32_t lastThread = -1;
    Lane *lastLane = nullptr;
    for (int64_t r = 0; r < index.rowCount(); ++r) {
        const StepRow &row = index.row(r);
        if (row.startedUs <= 0)
            continue; // no place in time
        if (row.thread != lastThread || !lastLane) {
            auto it = laneOf.find(row.thread);
            if (it == laneOf.end()) {
                addLane(row.thread); // a step of a thread the summary lost (a damaged tape)
                it = laneOf.find(row.thread);
            }
            lastThread = row.thread;
            lastLane = &m_lanes[size_t(it->second)];
        }
        lastLane->rows.push_back(int32_t(r));
    }
    for (auto &[thread, lane] : laneOf)
        m_laneOfThread.emplace_back(thread, lane);
    std::sort(m_laneOfThread.begin(), m_laneOfThread.end());

    for (Lane &lane : m_lanes) {
        auto byStart = [&](int32_t a, int32_t b) {
            return index.row(a).startedUs < index.row(b).startedUs;
        };
        if (!std::is_sorted(lane.rows.begin(), lane.rows.end(), byStart))
            std::stable_sort(lane.rows.begin(), lane.rows.end(), byStart);
        const size_t n = lane.rows.size();
        lane.starts.resize(n);
        lane.maxEnds.resize(n);
        lane.sums.assign(n + 1, {});
        int64_t maxEnd = std::numeric_limits<int64_t>::min();
        for (size_t i = 0; i < n; ++i) {
            const StepRow &row = index.row(lane.rows[i]);
            lane.starts[i] = row.startedUs;
            maxEnd = std::max({maxEnd, row.endedUs, row.startedUs});
            lane.maxEnds[i] = maxEnd;
            const bool model = row.kind == StepKind::ModelCall;
            LanePrefix &sum = lane.sums[i + 1];
            sum.modelUs = lane.sums[i].modelUs + (model ? row.durationUs() : 0);
            sum.otherUs = lane.sums[i].otherUs + (model ? 0 : row.durationUs());
            const bool failed = row.isError() || row.kind == StepKind::Error;
            sum.errors = lane.sums[i].errors + (failed ? 1 : 0);
            if (row.kind == StepKind::Compaction)
                lane.compactionStarts.push_back(row.startedUs);
        }
    }

    // Idle gaps: times when no lane is busy, the intersection of every lane's own idle
    // stretches (a stretch shorter than the threshold cannot hold a longer common one).
    const int64_t runStart = index.firstUs();
    const int64_t runEnd = index.lastUs();
    m_gaps = {{runStart, runEnd}};
    for (const Lane &lane : m_lanes) {
        std::vector<Gap> idle;
        int64_t busyUntil = runStart;
        for (size_t i = 0; i < lane.size(); ++i) {
            if (lane.starts[i] - busyUntil >= kMinGapUs)
                idle.push_back({busyUntil, lane.starts[i]});
            busyUntil = std::max(busyUntil, lane.maxEnds[i]);
        }
        if (runEnd - busyUntil >= kMinGapUs)
            idle.push_back({busyUntil, runEnd});
        std::vector<Gap> common;
        for (size_t a = 0, b = 0; a < m_gaps.size() && b < idle.size();) {
            const int64_t s = std::max(m_gaps[a].startUs, idle[b].startUs);
            const int64_t e = std::min(m_gaps[a].endUs, idle[b].endUs);
            if (e - s >= kMinGapUs)
                common.push_back({s, e});
            (m_gaps[a].endUs < idle[b].endUs ? a : b)++;
        }
        m_gaps = std::move(common);
    }

    // The minimap's density, at a fixed resolution that each paint resamples to its width.
    const double binScale =
        double(kMinimapBins) / double(std::max<int64_t>(1, runEnd - runStart + 1));
    for (const Lane &lane : m_lanes)
        for (size_t i = 0; i < lane.size(); ++i) {
            const int bin =
                std::clamp(int(double(lane.starts[i] - runStart) * binScale), 0, kMinimapBins - 1);
            ++m_density[size_t(bin)];
            if (lane.sums[i + 1].errors != lane.sums[i].errors)
                ++m_errorDensity[size_t(bin)];
        }

    m_nameColors.reserve(size_t(index.nameCount()));
    for (int32_t id = 0; id < index.nameCount(); ++id)
        m_nameColors.push_back(toolColor(index.name(id)));

    const QFontMetrics fm(font());
    int widest = 0;
    for (const Lane &lane : m_lanes)
        widest = std::max(widest, fm.horizontalAdvance(lane.label));
    m_labelWidth = std::clamp(widest + 16, kMinLabelWidth, kMaxLabelWidth);

    m_geometry.setRun(runStart, runEnd);
    // A view made for a tape already open shows the window the other views show.
    if (m_state->visibleEndUs() > m_state->visibleStartUs())
        m_geometry.setVisible(m_state->visibleStartUs(), m_state->visibleEndUs());
    updateWidth();
    rebuildFilter();
    findEvaluations();
    updateGeometry();
    invalidateLayer();
}

void TimelineView::rebuildFilter()
{
    const StepFilter &filter = m_state->filter();
    for (Lane &lane : m_lanes) {
        lane.filtered = m_index && !filter.isEmpty();
        if (!lane.filtered)
            continue;
        for (size_t i = 0; i < lane.size(); ++i)
            lane.sums[i + 1].matches =
                lane.sums[i].matches + (filter.matches(m_index->row(lane.rows[i])) ? 1 : 0);
    }
}

void TimelineView::findEvaluations()
{
    if (!m_index || m_index->path().empty())
        return;
    std::vector<EvalTool> tools;
    bool any = false;
    for (int32_t id = 0; id < m_index->nameCount(); ++id) {
        tools.push_back(evalToolKind(m_index->name(id)));
        any = any || tools.back() != EvalTool::No;
    }
    if (!any)
        return;
    m_jobs->start<std::vector<int64_t>>(
        kEvaluationJob,
        [index = m_index, tools = std::move(tools)] {
            std::vector<int64_t> found;
            auto reader = formats::TapeReader::open(index->path());
            if (!reader)
                return found; // the timeline simply shows no diamonds
            const EvaluationMatcher matcher;
            std::vector<int64_t> calls; // step index values, ascending (rows are in step order)
            for (const StepRow &row : index->rows()) {
                if (row.kind != StepKind::ToolCall || row.name < 0)
                    continue;
                const EvalTool tool = tools[size_t(row.name)];
                if (tool == EvalTool::Dedicated) {
                    calls.push_back(row.index.value);
                } else if (tool == EvalTool::Shell) {
                    auto step = (*reader)->step(row.index);
                    if (step && matcher.matches(commandOf(step->payload)))
                        calls.push_back(row.index.value);
                }
            }
            for (int64_t r = 0; r < index->rowCount(); ++r) {
                const StepRow &row = index->row(r);
                if (row.kind != StepKind::ToolResult)
                    continue;
                if (row.parent ? std::binary_search(calls.begin(), calls.end(), row.parent)
                               : row.name >= 0 && tools[size_t(row.name)] == EvalTool::Dedicated)
                    found.push_back(r);
            }
            return found;
        },
        [this](std::vector<int64_t> rows) { applyEvaluations(rows); });
}

void TimelineView::applyEvaluations(const std::vector<int64_t> &rows)
{
    std::vector<std::vector<std::pair<int64_t, int32_t>>> marks(m_lanes.size()); // (end, item)
    for (int64_t r : rows) {
        const StepRow &row = m_index->row(r);
        auto it = std::lower_bound(m_laneOfThread.begin(), m_laneOfThread.end(),
                                   std::pair(row.thread, 0));
        if (it == m_laneOfThread.end() || it->first != row.thread)
            continue;
        const Lane &lane = m_lanes[size_t(it->second)];
        // The item: the first with this start, then along the equal starts to the row.
        for (size_t i = firstAtLeast(lane.starts, 0, lane.size(), double(row.startedUs));
             i < lane.size() && lane.starts[i] == row.startedUs; ++i)
            if (lane.rows[i] == int32_t(r)) {
                marks[size_t(it->second)].emplace_back(std::max(row.endedUs, row.startedUs),
                                                       int32_t(i));
                ++m_evaluationCount;
                break;
            }
    }
    for (size_t l = 0; l < m_lanes.size(); ++l) {
        std::sort(marks[l].begin(), marks[l].end());
        for (const auto &[end, item] : marks[l]) {
            m_lanes[l].evalEnds.push_back(end);
            m_lanes[l].evalItems.push_back(item);
        }
    }
    invalidateLayer();
}

// ---------------------------------------------------------------------------------------
// The window, shared with ViewState

void TimelineView::updateWidth()
{
    m_geometry.setWidth(std::max(1, width() - plotLeft()));
}

void TimelineView::publishRange()
{
    m_state->setVisibleRange(m_geometry.startUs(), m_geometry.endUs());
}

void TimelineView::followRange(int64_t startUs, int64_t endUs)
{
    // Our own publishRange() comes back here: the geometry already holds that window,
    // more precisely than whole µs, and must keep it.
    if (startUs == m_geometry.startUs() && endUs == m_geometry.endUs())
        return;
    m_geometry.setVisible(startUs, endUs);
    if (m_geometry.startUs() != startUs || m_geometry.endUs() != endUs)
        publishRange(); // clamped: the other views follow what is really shown
    update();
}

void TimelineView::revealCurrentStep()
{
    const int64_t r = m_state->currentRow();
    if (r >= 0) {
        const StepRow &row = m_index->row(r);
        const int64_t end = std::max(row.endedUs, row.startedUs);
        if (end < m_geometry.startUs() || row.startedUs > m_geometry.endUs()) {
            const double span = m_geometry.spanUs();
            const double centre =
                double(row.startedUs) + std::min(double(end - row.startedUs), span) / 2;
            m_geometry.setVisible(std::llround(centre - span / 2), std::llround(centre + span / 2));
            publishRange();
        }
    }
    update();
}

void TimelineView::zoomBy(double factor, double anchorX)
{
    m_geometry.zoom(factor, anchorX);
    publishRange();
    update();
}

void TimelineView::panBy(double dx)
{
    m_geometry.pan(dx);
    publishRange();
    update();
}

void TimelineView::zoomToRow(int64_t row)
{
    const StepRow &r = m_index->row(row);
    const int64_t end = std::max(r.endedUs, r.startedUs);
    const int64_t pad =
        std::max<int64_t>((end - r.startedUs) / 10, TimelineGeometry::kMinSpanUs / 2);
    m_geometry.setVisible(r.startedUs - pad, end + pad);
    publishRange();
    update();
}

// ---------------------------------------------------------------------------------------
// Layout

int TimelineView::lanesTop() const
{
    return kAxisHeight + (m_findings.empty() ? 0 : kFindingsHeight + 2);
}

void TimelineView::setFindings(std::vector<TimelineFinding> findings)
{
    std::sort(findings.begin(), findings.end(),
              [](const TimelineFinding &a, const TimelineFinding &b) { return a.startUs < b.startUs; });
    m_findings = std::move(findings);
    invalidateLayer();
}

QRect TimelineView::findingsRect() const
{
    return m_findings.empty() ? QRect() : QRect(plotLeft(), kAxisHeight + 1, width() - plotLeft(), kFindingsHeight);
}

std::vector<size_t> TimelineView::findingsAt(double x) const
{
    std::vector<size_t> out;
    for (size_t i = 0; i < m_findings.size(); ++i) {
        const TimelineFinding &f = m_findings[i];
        const double x0 = m_geometry.mapTimeToX(double(f.startUs));
        const double x1 = std::max(x0 + kMinFindingPx, m_geometry.mapTimeToX(double(f.endUs)));
        if (x >= x0 - 1 && x <= x1 + 1)
            out.push_back(i);
    }
    return out;
}

void TimelineView::paintFindings(QPainter &p) const
{
    const QRect band = findingsRect();
    if (band.isEmpty())
        return;
    p.save();
    p.setClipRect(band);
    p.translate(plotLeft(), 0);
    const double a = double(m_geometry.startUs()), b = double(m_geometry.endUs());
    for (const TimelineFinding &f : m_findings) {
        if (double(f.startUs) > b)
            break;
        if (double(f.endUs) < a)
            continue;
        const double x0 = m_geometry.mapTimeToX(double(f.startUs));
        const double x1 = std::max(x0 + kMinFindingPx, m_geometry.mapTimeToX(double(f.endUs)));
        p.fillRect(QRectF(x0, band.top() + 1, x1 - x0, band.height() - 2), f.color);
    }
    p.restore();
    p.setPen(palette().color(QPalette::PlaceholderText));
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    p.setFont(small);
    p.drawText(QRect(6, band.top() - 2, plotLeft() - 10, band.height() + 4), Qt::AlignLeft | Qt::AlignVCenter,
               tr("findings"));
    p.setFont(font());
}

int TimelineView::lanesBottom() const
{
    return std::max(lanesTop() + kMinLaneHeight, height() - kMinimapHeight - kMinimapGap - 2);
}

int TimelineView::laneHeight() const
{
    const int lanes = std::max(1, laneCount());
    return std::clamp((lanesBottom() - lanesTop()) / lanes, kMinLaneHeight, kMaxLaneHeight);
}

QRect TimelineView::laneRect(int lane) const
{
    const int h = laneHeight();
    return {plotLeft(), lanesTop() + lane * h - m_laneScroll, width() - plotLeft(), h};
}

QRect TimelineView::minimapRect() const
{
    return {plotLeft(), height() - kMinimapHeight - 2, width() - plotLeft() - 1, kMinimapHeight};
}

int TimelineView::laneAt(int y) const
{
    if (y < lanesTop() || y >= lanesBottom())
        return -1;
    const int lane = (y - lanesTop() + m_laneScroll) / laneHeight();
    return lane < laneCount() ? lane : -1;
}

double TimelineView::minimapX(double us) const
{
    const QRect r = minimapRect();
    const double span =
        std::max<double>(1, double(m_geometry.runEndUs() - m_geometry.runStartUs()));
    return r.left() + (us - double(m_geometry.runStartUs())) * r.width() / span;
}

double TimelineView::minimapTime(double x) const
{
    const QRect r = minimapRect();
    const double span =
        std::max<double>(1, double(m_geometry.runEndUs() - m_geometry.runStartUs()));
    return double(m_geometry.runStartUs()) + (x - r.left()) * span / std::max(1, r.width());
}

void TimelineView::moveWindowToMinimapX(double x)
{
    const double start = minimapTime(x - m_minimapGrab);
    m_geometry.setVisible(std::llround(start), std::llround(start + m_geometry.spanUs()));
    publishRange();
    update();
}

// ---------------------------------------------------------------------------------------
// Hit tests

int64_t TimelineView::nearestRow(int lane, double x) const
{
    if (lane < 0 || lane >= laneCount() || !m_index)
        return -1;
    const Lane &l = m_lanes[size_t(lane)];
    if (l.size() == 0)
        return -1;
    const double t = m_geometry.mapXToTimeExact(x);
    // The latest step to start at or before t, the one after it, and the earliest one
    // still running at t (the first whose running maximum reaches t ends at or after t).
    const size_t after = firstAbove(l.starts, 0, l.size(), t);
    size_t candidates[3] = {}; // a lane with steps has at least one
    size_t count = 0;
    if (after > 0)
        candidates[count++] = after - 1;
    if (after < l.size())
        candidates[count++] = after;
    if (const size_t running = firstAtLeast(l.maxEnds, 0, l.size(), t); running < after)
        candidates[count++] = running;
    size_t best = candidates[0];
    double bestDistance = std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < count; ++c) {
        const size_t i = candidates[c];
        const double start = double(l.starts[i]);
        const double end = double(l.endOf(*m_index, i));
        const double d = t < start ? start - t : t > end ? t - end : 0;
        // The first candidate wins a tie: the latest step to start, the innermost one.
        if (d < bestDistance) {
            best = i;
            bestDistance = d;
        }
    }
    return l.rows[best];
}

int64_t TimelineView::rowUnder(const QPoint &pos) const
{
    const int lane = laneAt(pos.y());
    if (lane < 0 || pos.x() < plotLeft())
        return -1;
    const double x = pos.x() - plotLeft();
    const int64_t r = nearestRow(lane, x);
    if (r < 0)
        return -1;
    const StepRow &row = m_index->row(r);
    const double x0 = m_geometry.mapTimeToX(double(row.startedUs));
    const double x1 = m_geometry.mapTimeToX(double(std::max(row.endedUs, row.startedUs)));
    return x >= x0 - kHoverPx && x <= x1 + kHoverPx ? r : -1;
}

// ---------------------------------------------------------------------------------------
// Painting

QColor TimelineView::colorOf(const StepRow &row) const
{
    if (row.isError() || row.kind == StepKind::Error)
        return errorColor();
    switch (row.kind) {
    case StepKind::ToolCall:
    case StepKind::ToolResult:
    case StepKind::McpCall:
        if (row.name >= 0 && size_t(row.name) < m_nameColors.size())
            return m_nameColors[size_t(row.name)];
        return stepKindColor(row.kind);
    default:
        return stepKindColor(row.kind);
    }
}

void TimelineView::invalidateLayer()
{
    ++m_layerGeneration;
    update();
}

TimelineView::LayerKey TimelineView::layerKey() const
{
    LayerKey key;
    key.size = size();
    key.devicePixelRatio = devicePixelRatioF();
    key.startUs = m_geometry.mapXToTimeExact(0);
    key.spanUs = m_geometry.spanUs();
    key.laneScroll = m_laneScroll;
    key.palette = palette().cacheKey();
    key.colorGroup = palette().currentColorGroup();
    key.font = font().key();
    key.generation = m_layerGeneration;
    return key;
}

void TimelineView::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    if (!m_index || m_index->rowCount() == 0) {
        p.fillRect(rect(), palette().base());
        // The loader's first index has the summary but no rows yet.
        const QString text = !m_index                           ? tr("No tape open")
                             : m_index->summary().stepCount > 0 ? tr("Reading steps…")
                                                                : tr("This tape has no steps");
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, text);
        return;
    }
    const LayerKey key = layerKey();
    if (m_layer.isNull() || !(key == m_layerKey)) {
        if (m_layer.size() != size() * devicePixelRatioF() ||
            m_layer.devicePixelRatio() != devicePixelRatioF()) {
            m_layer = QPixmap(size() * devicePixelRatioF());
            m_layer.setDevicePixelRatio(devicePixelRatioF());
        }
        QPainter layer(&m_layer);
        paintLayer(layer);
        m_layerKey = key;
    }
    p.drawPixmap(0, 0, m_layer);
    paintCursor(p);
}

void TimelineView::paintLayer(QPainter &p) const
{
    p.fillRect(rect(), palette().base());
    // The label width sets the spacing: measure the labels at the finest spacing that
    // fits, and step up once if they would touch.
    TimelineTicks ticks = m_geometry.ticks();
    int widest = 0;
    for (const TimelineTick &t : ticks.ticks)
        widest = std::max(widest, fontMetrics().horizontalAdvance(t.label));
    if (!ticks.ticks.empty() &&
        double(widest + 14) > double(ticks.spacingUs) / m_geometry.usPerPixel())
        ticks = m_geometry.ticks(widest + 14);

    const QRect lanesArea(plotLeft(), lanesTop(), width() - plotLeft(), lanesBottom() - lanesTop());
    // Lane backgrounds and labels.
    p.save();
    p.setClipRect(QRect(0, lanesTop(), width(), lanesArea.height()));
    for (int i = 0; i < laneCount(); ++i) {
        const QRect r = laneRect(i);
        if (r.bottom() < lanesTop() || r.top() > lanesBottom())
            continue;
        const QRect full(0, r.top(), width(), r.height());
        if (i % 2)
            p.fillRect(full, palette().alternateBase());
        p.setPen(palette().color(QPalette::Text));
        const QRect text = QRect(6, r.top(), plotLeft() - 10, r.height());
        p.drawText(
            text, Qt::AlignVCenter | Qt::AlignLeft,
            fontMetrics().elidedText(m_lanes[size_t(i)].label, Qt::ElideRight, text.width()));
    }
    p.setPen(palette().color(QPalette::Mid));
    p.drawLine(plotLeft() - 1, lanesTop(), plotLeft() - 1, lanesBottom());
    p.restore();

    paintAxis(p, ticks);
    paintFindings(p);

    p.save();
    p.setClipRect(lanesArea);
    p.translate(plotLeft(), 0);
    QColor grid = palette().color(QPalette::Mid);
    grid.setAlpha(70);
    for (const TimelineTick &t : ticks.ticks)
        p.fillRect(QRectF(std::floor(t.x), lanesTop(), 1, lanesArea.height()), grid);
    paintGaps(p);
    for (int i = 0; i < laneCount(); ++i) {
        QRect r = laneRect(i);
        if (r.bottom() < lanesTop() || r.top() > lanesBottom())
            continue;
        r.moveLeft(0);
        paintLane(p, m_lanes[size_t(i)], r);
        paintMarkers(p, m_lanes[size_t(i)], r);
    }
    p.restore();

    paintMinimap(p);
}

// The selected step and the playback cursor, over the layer.
void TimelineView::paintCursor(QPainter &p) const
{
    const QRect lanesArea(plotLeft(), lanesTop(), width() - plotLeft(), lanesBottom() - lanesTop());
    p.save();
    p.setClipRect(lanesArea);
    p.translate(plotLeft(), 0);
    paintSelection(p);
    const double cursorX = m_geometry.mapTimeToX(double(m_state->cursorUs()));
    if (cursorX >= 0 && cursorX <= m_geometry.width()) {
        p.setPen(QPen(palette().color(QPalette::WindowText), 1.5));
        p.drawLine(QPointF(cursorX, lanesTop()), QPointF(cursorX, lanesBottom()));
    }
    p.restore();
    const QRect minimap = minimapRect();
    const double minimapCursorX = minimapX(double(m_state->cursorUs()));
    p.setPen(QPen(palette().color(QPalette::WindowText), 1));
    p.drawLine(QPointF(minimapCursorX, minimap.top()), QPointF(minimapCursorX, minimap.bottom()));
}

void TimelineView::paintAxis(QPainter &p, const TimelineTicks &ticks) const
{
    const QRect axis(0, 0, width(), kAxisHeight);
    p.fillRect(axis, palette().window());
    p.setPen(palette().color(QPalette::Mid));
    p.drawLine(0, kAxisHeight - 1, width(), kAxisHeight - 1);
    p.save();
    p.setClipRect(QRect(plotLeft(), 0, width() - plotLeft(), kAxisHeight));
    p.setPen(palette().color(QPalette::WindowText));
    for (const TimelineTick &t : ticks.ticks) {
        const double x = plotLeft() + std::floor(t.x);
        p.drawLine(QPointF(x, kAxisHeight - 6), QPointF(x, kAxisHeight - 1));
        // A label cut off by the right edge reads as another time: leave it out.
        if (x + 3 + fontMetrics().horizontalAdvance(t.label) <= width())
            p.drawText(QRectF(x + 3, 0, 400, kAxisHeight - 4), Qt::AlignLeft | Qt::AlignVCenter,
                       t.label);
    }
    p.restore();
    // What the ticks count: the spacing, in the corner above the labels.
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(QRect(6, 0, plotLeft() - 10, kAxisHeight - 2), Qt::AlignLeft | Qt::AlignVCenter,
               tr("ticks: %1").arg(formatSpacing(ticks.spacingUs)));
}

void TimelineView::paintGaps(QPainter &p) const
{
    const double minUs =
        std::max<double>(double(kMinGapUs), kGapShareOfWindow * m_geometry.spanUs());
    const QColor hatch = palette().color(QPalette::Mid);
    const QColor text = palette().color(QPalette::PlaceholderText);
    const double top = lanesTop();
    const double height = lanesBottom() - lanesTop();
    // Gaps never overlap, so those in view are a contiguous run of the sorted list.
    auto first = std::lower_bound(m_gaps.begin(), m_gaps.end(), m_geometry.startUs(),
                                  [](const Gap &g, int64_t t) { return g.endUs < t; });
    for (auto g = first; g != m_gaps.end() && g->startUs <= m_geometry.endUs(); ++g) {
        if (double(g->endUs - g->startUs) < minUs)
            continue;
        const double x0 = std::max(-2.0, m_geometry.mapTimeToX(double(g->startUs)));
        const double x1 = std::min(m_geometry.width() + 2, m_geometry.mapTimeToX(double(g->endUs)));
        const QRectF band(x0, top, x1 - x0, height);
        p.fillRect(band, QBrush(hatch, Qt::BDiagPattern));
        // "idle 14 min 10 s", or just the duration where that does not fit.
        QString label = tr("idle %1").arg(formatDuration(g->endUs - g->startUs));
        if (fontMetrics().horizontalAdvance(label) + 8 > band.width())
            label = formatDuration(g->endUs - g->startUs);
        const int w = fontMetrics().horizontalAdvance(label) + 8;
        if (band.width() > w) {
            const QRectF box(band.center().x() - w / 2.0, top + 2, w, fontMetrics().height() + 2);
            p.fillRect(box, palette().base());
            p.setPen(text);
            p.drawText(box, Qt::AlignCenter, label);
        }
    }
}

void TimelineView::paintLane(QPainter &p, const Lane &lane, const QRect &rect) const
{
    if (lane.size() == 0)
        return;
    const double top = rect.top() + 3;
    const double height = std::max(4, rect.height() - 6);
    const double a = m_geometry.mapXToTimeExact(-1);
    const double b = m_geometry.mapXToTimeExact(m_geometry.width() + 1);
    const size_t first = firstAtLeast(lane.maxEnds, 0, lane.size(), a);
    const size_t inWindow = firstAtLeast(lane.starts, first, lane.size(), a);
    const size_t end = firstAbove(lane.starts, inWindow, lane.size(), b);

    // Of the steps that start left of the window, only the one reaching furthest right can
    // show anything the others would not be drawn over.
    if (inWindow > first && double(lane.maxEnds[inWindow - 1]) >= a)
        paintStep(p, lane,
                  firstAtLeast(lane.maxEnds, first, inWindow, double(lane.maxEnds[inWindow - 1])),
                  top, height);

    const QColor model = stepKindColor(StepKind::ModelCall);
    const QColor other = stepKindColor(StepKind::ToolResult);
    // Merged columns side by side in one colour become one rectangle: zoomed out, a busy
    // stretch is a handful of fills instead of one per pixel.
    struct Run {
        double x0 = 0, x1 = 0;
        QColor color;
    } run;
    auto flush = [&] {
        if (run.x1 > run.x0)
            p.fillRect(QRectF(run.x0, top, run.x1 - run.x0, height), run.color);
        run.x1 = run.x0;
    };
    auto mark = [&](double column, const QColor &color) {
        if (run.x1 == column && run.x1 > run.x0 && run.color == color) {
            run.x1 = column + 1;
            return;
        }
        flush();
        run = {column, column + 1, color};
    };
    std::vector<QRectF> caps; // drawn last, over the marks
    const double capHeight = std::max(3.0, height / 3);
    for (size_t i = inWindow; i < end;) {
        const double column = std::floor(m_geometry.mapTimeToX(double(lane.starts[i])));
        const size_t next =
            firstAtLeastNear(lane.starts, i + 1, end, m_geometry.mapXToTimeExact(column + 1));
        if (ptrdiff_t(next - i) <= kExactPerColumn) {
            for (size_t k = i; k < next; ++k)
                paintStep(p, lane, k, top, height);
            i = next;
            continue;
        }
        // One mark for the column, coloured by what took most of its time: model calls, or
        // else the tool of its last step (in a thread the column's steps mostly belong to
        // one tool call and its result). Failures show as a red cap; steps the filter drops
        // leave it dim.
        const LanePrefix &sumHere = lane.sums[i];
        const LanePrefix &sumNext = lane.sums[next];
        const bool mostlyModel =
            sumNext.modelUs - sumHere.modelUs >= sumNext.otherUs - sumHere.otherUs;
        QColor color = model;
        if (!mostlyModel) {
            const StepRow &last = m_index->row(lane.rows[next - 1]);
            color = last.kind == StepKind::ModelCall || last.isError() ? other : colorOf(last);
        }
        if (lane.filtered && sumNext.matches == sumHere.matches)
            color = dimmed(color);
        mark(column, color);
        if (sumNext.errors != sumHere.errors)
            caps.emplace_back(column, top, 1, capHeight);
        // A step of the column that runs on well past it (in a thread, the last to start)
        // is drawn whole; its running maximum says which one it is.
        const double before =
            i > 0 ? double(lane.maxEnds[i - 1]) : -std::numeric_limits<double>::infinity();
        const double reach = double(lane.maxEnds[next - 1]);
        if (reach > before && m_geometry.mapTimeToX(reach) > column + 2) {
            flush(); // so that the bar lands on top
            paintStep(p, lane, firstAtLeastNear(lane.maxEnds, i, next, reach), top, height);
        }
        i = next;
    }
    flush();
    for (const QRectF &cap : caps)
        p.fillRect(cap, errorColor());
}

void TimelineView::paintStep(QPainter &p, const Lane &lane, size_t item, double top,
                             double height) const
{
    const StepRow &row = m_index->row(lane.rows[item]);
    const double w = m_geometry.width();
    // Clamped: a step hours long at µs zoom would be millions of pixels wide.
    auto x = [&](int64_t us) { return std::clamp(m_geometry.mapTimeToX(double(us)), -4.0, w + 4); };
    const double x0 = x(row.startedUs);
    const double x1 = std::max(x(std::max(row.endedUs, row.startedUs)), x0 + 1);
    const bool dim = lane.filtered && lane.sums[item + 1].matches == lane.sums[item].matches;
    QColor color = colorOf(row);
    if (dim)
        color = dimmed(color);

    switch (row.kind) {
    case StepKind::ModelCall: {
        // Waiting for the first token lighter, streaming solid.
        if (row.firstTokenUs > row.startedUs && row.firstTokenUs < row.endedUs) {
            const double xf = x(row.firstTokenUs);
            QColor waiting = color.lighter(150);
            waiting.setAlpha(dim ? 40 : 150);
            p.fillRect(QRectF(x0, top, xf - x0, height), waiting);
            p.fillRect(QRectF(xf, top, std::max(x1 - xf, 1.0), height), color);
        } else {
            p.fillRect(QRectF(x0, top, x1 - x0, height), color);
        }
        break;
    }
    case StepKind::ToolCall:
        // The model asks for the tool: an instant, drawn as a tick over the lane.
        p.fillRect(QRectF(x0, top - 2, std::max(x1 - x0, 1.5), height + 4), color.darker(140));
        break;
    case StepKind::Annotation:
    case StepKind::ForkPoint:
        // Marks rather than work: half height, so they do not pass for busy time.
        p.fillRect(QRectF(x0, top + height / 4, x1 - x0, height / 2), color);
        break;
    default:
        p.fillRect(QRectF(x0, top, x1 - x0, height), color);
        break;
    }
    // Bars wide enough to show an edge get one, so that neighbours do not run together.
    if (x1 - x0 >= 6 && row.kind != StepKind::ToolCall) {
        p.setPen(color.darker(135));
        p.drawRect(QRectF(x0, top, x1 - x0 - 1, height - 1));
    }
}

void TimelineView::paintMarkers(QPainter &p, const Lane &lane, const QRect &rect) const
{
    if (lane.evalEnds.empty() && lane.compactionStarts.empty())
        return;
    const double w = m_geometry.width();
    p.save();
    p.setRenderHint(QPainter::Antialiasing);
    const double r = std::min(5.0, rect.height() / 4.0);

    // Compactions: a line through the lane and a triangle at its foot, so that one is
    // found at any zoom (zoomed out its bar is part of a merged column).
    const QColor compaction = stepKindColor(StepKind::Compaction);
    const size_t compactions = lane.compactionStarts.size();
    for (size_t c =
             firstAtLeast(lane.compactionStarts, 0, compactions, m_geometry.mapXToTimeExact(-r));
         c < compactions;
         c = firstAtLeast(lane.compactionStarts, c + 1, compactions,
                          m_geometry.mapXToTimeExact(
                              m_geometry.mapTimeToX(double(lane.compactionStarts[c])) + r))) {
        const double x = m_geometry.mapTimeToX(double(lane.compactionStarts[c]));
        if (x > w + r)
            break;
        p.fillRect(QRectF(x - 0.75, rect.top() + 1, 1.5, rect.height() - 2), compaction);
        QPainterPath triangle;
        triangle.moveTo(x - r, rect.bottom() + 1);
        triangle.lineTo(x + r, rect.bottom() + 1);
        triangle.lineTo(x, rect.bottom() + 1 - 1.6 * r);
        triangle.closeSubpath();
        p.fillPath(triangle, compaction);
    }

    // Benchmark evaluations: a diamond where the result came in, gold, or hollow and red
    // for one that failed (did not build, wrong results).
    const double y = rect.top() + 3;
    size_t i = firstAtLeast(lane.evalEnds, 0, lane.evalEnds.size(), m_geometry.mapXToTimeExact(-r));
    const size_t end =
        firstAbove(lane.evalEnds, i, lane.evalEnds.size(), m_geometry.mapXToTimeExact(w + r));
    while (i < end) {
        const double x = m_geometry.mapTimeToX(double(lane.evalEnds[i]));
        const StepRow &row = m_index->row(lane.rows[size_t(lane.evalItems[i])]);
        QPainterPath diamond;
        diamond.moveTo(x, y - r);
        diamond.lineTo(x + r, y);
        diamond.lineTo(x, y + r);
        diamond.lineTo(x - r, y);
        diamond.closeSubpath();
        if (row.isError()) {
            p.fillPath(diamond, palette().base());
            p.setPen(QPen(errorColor(), 1.5));
        } else {
            p.fillPath(diamond, QColor(0xfa, 0xcc, 0x15));
            p.setPen(QPen(QColor(0x71, 0x3f, 0x12), 1));
        }
        p.drawPath(diamond);
        // One diamond per few pixels: a dense stretch reads the same and costs O(width).
        i = firstAtLeast(lane.evalEnds, i + 1, end, m_geometry.mapXToTimeExact(x + r * 0.8));
    }
    p.restore();
}

void TimelineView::paintSelection(QPainter &p) const
{
    const int64_t r = m_state->currentRow();
    if (r < 0)
        return;
    const StepRow &row = m_index->row(r);
    auto it =
        std::lower_bound(m_laneOfThread.begin(), m_laneOfThread.end(), std::pair(row.thread, 0));
    if (it == m_laneOfThread.end() || it->first != row.thread)
        return;
    const QRect lane = laneRect(it->second);
    const double w = m_geometry.width();
    const double x0 = std::clamp(m_geometry.mapTimeToX(double(row.startedUs)), -10.0, w + 10);
    const double x1 = std::clamp(
        m_geometry.mapTimeToX(double(std::max(row.endedUs, row.startedUs))), -10.0, w + 10);
    const double cx = (x0 + x1) / 2;
    const double half = std::max((x1 - x0) / 2, 3.0);
    QColor band = palette().color(QPalette::Highlight);
    band.setAlpha(40);
    p.fillRect(QRectF(cx - half - 2, lanesTop(), 2 * half + 4, lanesBottom() - lanesTop()), band);
    p.setPen(QPen(palette().color(QPalette::Highlight), 2));
    p.setBrush(Qt::NoBrush);
    p.drawRect(QRectF(cx - half - 2, lane.top() + 1, 2 * half + 4, lane.height() - 2));
}

void TimelineView::paintMinimap(QPainter &p) const
{
    const QRect r = minimapRect();
    p.fillRect(QRect(0, r.top() - kMinimapGap / 2, width(), height() - r.top() + kMinimapGap / 2),
               palette().window());
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(QRect(6, r.top(), plotLeft() - 10, r.height()), Qt::AlignLeft | Qt::AlignVCenter,
               tr("whole run"));
    p.fillRect(r, palette().base());

    // Resample the fixed bins to pixel columns: sum over each column's bins.
    const int columns = std::max(1, r.width());
    std::vector<int32_t> counts(size_t(columns), 0), errors(size_t(columns), 0);
    int32_t most = 1;
    for (int bin = 0; bin < kMinimapBins; ++bin) {
        const size_t c = size_t(std::min(columns - 1, int(int64_t(bin) * columns / kMinimapBins)));
        counts[c] += m_density[size_t(bin)];
        errors[c] += m_errorDensity[size_t(bin)];
        most = std::max(most, counts[c]);
    }
    // Fewer bins than pixels leave columns empty between filled ones: carry the bin over.
    if (columns > kMinimapBins)
        for (int c = 1; c < columns; ++c)
            if (int64_t(c) * kMinimapBins / columns == int64_t(c - 1) * kMinimapBins / columns) {
                counts[size_t(c)] = counts[size_t(c - 1)];
                errors[size_t(c)] = errors[size_t(c - 1)];
            }
    const QColor fill = stepKindColor(StepKind::ModelCall).lighter(130);
    const double h = r.height() - 4;
    for (int c = 0; c < columns; ++c) {
        if (!counts[size_t(c)])
            continue;
        // sqrt: a quiet stretch still shows beside a busy one.
        const double bar = std::max(1.0, h * std::sqrt(double(counts[size_t(c)]) / most));
        p.fillRect(QRectF(r.left() + c, r.bottom() - 1 - bar, 1, bar), fill);
        if (errors[size_t(c)])
            p.fillRect(QRectF(r.left() + c, r.top() + 1, 1, 3), errorColor());
    }

    double x0 = minimapX(double(m_geometry.startUs()));
    double x1 = minimapX(double(m_geometry.endUs()));
    if (x1 - x0 < 5) {
        const double c = (x0 + x1) / 2;
        x0 = c - 2.5;
        x1 = c + 2.5;
    }
    QColor window = palette().color(QPalette::Highlight);
    window.setAlpha(45);
    p.fillRect(QRectF(x0, r.top(), x1 - x0, r.height()), window);
    p.setPen(QPen(palette().color(QPalette::Highlight), 1.5));
    p.setBrush(Qt::NoBrush);
    p.drawRect(QRectF(x0, r.top() + 0.5, x1 - x0, r.height() - 1));
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(r.adjusted(0, 0, -1, -1));
}

// ---------------------------------------------------------------------------------------
// Input

bool TimelineView::event(QEvent *event)
{
    if (event->type() != QEvent::ToolTip)
        return QWidget::event(event);
    auto *help = static_cast<QHelpEvent *>(event);
    const QPoint pos = help->pos();
    QString text;
    if (const int64_t r = m_index ? rowUnder(pos) : -1; r >= 0) {
        const StepRow &row = m_index->row(r);
        const QString name = QString::fromStdString(m_index->nameOf(row));
        text = name.isEmpty() ? stepKindLabel(row.kind)
                              : tr("%1 · %2").arg(stepKindLabel(row.kind), name);
        text += QLatin1Char('\n') + tr("step %1 at %2")
                                        .arg(row.index.value)
                                        .arg(formatOffset(row.startedUs - m_geometry.runStartUs()));
        text += QLatin1Char('\n') + tr("duration %1").arg(formatDuration(row.durationUs()));
        if (row.kind == StepKind::ModelCall && row.firstTokenUs > row.startedUs)
            text +=
                tr(" (first token after %1)").arg(formatDuration(row.firstTokenUs - row.startedUs));
        if (row.inputTokens || row.outputTokens)
            text += QLatin1Char('\n') + tr("tokens %1 in (%2 cached) · %3 out")
                                            .arg(formatCount(row.inputTokens),
                                                 formatCount(row.cacheReadTokens),
                                                 formatCount(row.outputTokens));
        if (row.hasCost())
            text += QLatin1Char('\n') + tr("cost %1").arg(formatCost(row.costUsd));
        if (row.status != formats::StepStatus::Ok)
            text += QLatin1Char('\n') + QString::fromLatin1(formats::stepStatusName(row.status));
    } else if (findingsRect().contains(pos)) {
        QStringList titles;
        for (size_t i : findingsAt(pos.x() - plotLeft()))
            titles << m_findings[i].title;
        if (titles.size() > 8)
            titles = titles.mid(0, 8) << tr("… and %1 more").arg(titles.size() - 8);
        text = titles.join(QLatin1Char('\n'));
    } else if (const int lane = laneAt(pos.y()); lane >= 0 && pos.x() < plotLeft()) {
        text = m_lanes[size_t(lane)].tooltip;
    } else if (lane >= 0) {
        const double t = m_geometry.mapXToTimeExact(pos.x() - plotLeft());
        auto g = std::lower_bound(m_gaps.begin(), m_gaps.end(), t,
                                  [](const Gap &g, double v) { return double(g.endUs) < v; });
        if (g != m_gaps.end() && double(g->startUs) <= t)
            text = tr("idle for %1").arg(formatDuration(g->endUs - g->startUs));
    }
    if (text.isEmpty()) {
        QToolTip::hideText();
        event->ignore();
    } else {
        QToolTip::showText(help->globalPos(), text, this);
    }
    return true;
}

void TimelineView::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    updateWidth();
    const int overflow = laneCount() * laneHeight() - (lanesBottom() - lanesTop());
    m_laneScroll = std::clamp(m_laneScroll, 0, std::max(0, overflow));
}

void TimelineView::wheelEvent(QWheelEvent *event)
{
    const QPoint pos = event->position().toPoint();
    const QPoint delta = event->angleDelta();
    if (pos.x() < plotLeft()) {
        // Over the labels the wheel scrolls the lanes, when there are more than fit.
        const int overflow = laneCount() * laneHeight() - (lanesBottom() - lanesTop());
        m_laneScroll =
            std::clamp(m_laneScroll - delta.y() * laneHeight() / 120, 0, std::max(0, overflow));
        update();
    } else if (std::abs(delta.x()) > std::abs(delta.y())) {
        panBy(delta.x() / 120.0 * kPanStep * m_geometry.width());
    } else if (delta.y()) {
        zoomBy(std::pow(1.2, delta.y() / 120.0), pos.x() - plotLeft());
    }
    event->accept();
}

void TimelineView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton || !m_index)
        return QWidget::mousePressEvent(event);
    m_pressPos = event->position().toPoint();
    m_lastDragX = event->position().x();
    m_dragged = false;
    const QRect minimap = minimapRect();
    if (minimap.adjusted(0, -kMinimapGap / 2, 0, 2).contains(m_pressPos)) {
        m_drag = Drag::Minimap;
        // Grabbed inside the window rectangle it keeps its offset; elsewhere the window
        // centres on the pointer at once.
        const double x0 = minimapX(double(m_geometry.startUs()));
        const double x1 = minimapX(double(m_geometry.endUs()));
        const double x = event->position().x();
        m_minimapGrab = x >= x0 - 2 && x <= x1 + 2 ? x - x0 : (x1 - x0) / 2;
        moveWindowToMinimapX(x);
    } else if (findingsRect().contains(m_pressPos)) {
        m_drag = Drag::Findings;
    } else if (m_pressPos.x() >= plotLeft() && laneAt(m_pressPos.y()) >= 0) {
        m_drag = Drag::Plot;
    } else {
        m_drag = Drag::None;
    }
    event->accept();
}

void TimelineView::mouseMoveEvent(QMouseEvent *event)
{
    if (!(event->buttons() & Qt::LeftButton) || m_drag == Drag::None)
        return QWidget::mouseMoveEvent(event);
    const double x = event->position().x();
    if (m_drag == Drag::Minimap) {
        moveWindowToMinimapX(x);
    } else {
        if (!m_dragged && (event->position().toPoint() - m_pressPos).manhattanLength() >=
                              QApplication::startDragDistance()) {
            m_dragged = true;
            setCursor(Qt::ClosedHandCursor);
        }
        if (m_dragged) {
            panBy(x - m_lastDragX);
            m_lastDragX = x;
        }
    }
    event->accept();
}

void TimelineView::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return QWidget::mouseReleaseEvent(event);
    if (m_drag == Drag::Plot && !m_dragged) {
        const QPoint pos = event->position().toPoint();
        const int64_t r = nearestRow(laneAt(pos.y()), pos.x() - plotLeft());
        if (r >= 0)
            m_state->setCurrentStep(m_index->row(r).index);
    } else if (m_drag == Drag::Findings && !m_dragged) {
        const std::vector<size_t> under = findingsAt(event->position().x() - plotLeft());
        if (!under.empty())
            m_state->setCurrentStep(m_findings[under.front()].step);
    }
    if (m_dragged)
        unsetCursor();
    m_drag = Drag::None;
    m_dragged = false;
    event->accept();
}

void TimelineView::mouseDoubleClickEvent(QMouseEvent *event)
{
    const QPoint pos = event->position().toPoint();
    if (event->button() != Qt::LeftButton || !m_index || pos.x() < plotLeft())
        return QWidget::mouseDoubleClickEvent(event);
    const int64_t r = nearestRow(laneAt(pos.y()), pos.x() - plotLeft());
    if (r >= 0) {
        m_state->setCurrentStep(m_index->row(r).index);
        zoomToRow(r);
    }
    // The release that follows is not a click: under the pointer is now another time.
    m_drag = Drag::None;
    event->accept();
}

void TimelineView::keyPressEvent(QKeyEvent *event)
{
    const double centre = m_geometry.width() / 2;
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoomBy(kZoomStep, centre);
        break;
    case Qt::Key_Minus:
    case Qt::Key_Underscore:
        zoomBy(1 / kZoomStep, centre);
        break;
    case Qt::Key_0:
        m_geometry.fit();
        publishRange();
        update();
        break;
    case Qt::Key_Left:
        panBy(kPanStep * m_geometry.width());
        break;
    case Qt::Key_Right:
        panBy(-kPanStep * m_geometry.width());
        break;
    default:
        return QWidget::keyPressEvent(event);
    }
    event->accept();
}

} // namespace tapedeck::gui
