#include "metricsview.h"

#include "displayformat.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>
#include <QPointer>
#include <QVBoxLayout>
#include <QVarLengthArray>

#include <algorithm>
#include <array>
#include <cmath>

namespace tapedeck::gui {

namespace {

enum PlotId { ContextPlot, TokensPlot, LatencyPlot, CostPlot, ErrorPlot, RegexPlot };
constexpr int kPlotCount = RegexPlot + 1;

const QString kMetricsJob = QStringLiteral("metrics");
const QString kRegexJob = QStringLiteral("regex");

// Below this many points per pixel the points are drawn as dots too, so that a sparse
// series shows what can be clicked.
constexpr double kDotsBelowPointsPerPixel = 1.0 / 6;
constexpr int kLeftMargin = 64; // y tick labels
constexpr int kRightMargin = 12;
constexpr int kMinPlotHeight = 44;

struct Axis {
    double lo = 0;
    double hi = 1;
    double step = 0.5;
};

// Grid lines one pixel wide, as filled rectangles: the raster engine fills an aligned
// rectangle directly, where a line in a translucent pen took 30-100 µs here, and a plot's
// frame, ticks and time grid are some sixty of them in every frame of a zoom.
void horizontalHairline(QPainter &p, double left, double right, double y, const QColor &color)
{
    p.fillRect(QRectF(std::floor(left), std::floor(y), std::floor(right) - std::floor(left) + 1, 1),
               color);
}

void verticalHairline(QPainter &p, double x, double top, double bottom, const QColor &color)
{
    p.fillRect(QRectF(std::floor(x), std::floor(top), 1, std::floor(bottom) - std::floor(top) + 1),
               color);
}

// A y axis with about three ticks at 1-2-5 steps that holds [lo, hi].
Axis niceAxis(double lo, double hi)
{
    if (!(hi > lo)) {
        const double widen = lo != 0 ? std::fabs(lo) * 0.5 : 1;
        lo = lo >= 0 && lo - widen < 0 ? 0 : lo - widen;
        hi = hi + widen;
    }
    const double raw = (hi - lo) / 3;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / magnitude;
    const double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
    return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

// A tick label as short as the tick spacing allows: "300k", "40 s", "$10", "2.5".
QString axisLabel(double value, MetricUnit unit, double step)
{
    if (value == 0)
        return QStringLiteral("0");
    const auto scaled = [&](double scale, const QString &suffix) {
        const double s = step / scale;
        const int decimals = s >= 1 ? 0 : s >= 0.1 ? 1 : s >= 0.01 ? 2 : 3;
        return QString::number(value / scale, 'f', decimals) + suffix;
    };
    const double a = std::fabs(value);
    switch (unit) {
    case MetricUnit::Count:
        return a >= 1e9   ? scaled(1e9, QStringLiteral("G"))
               : a >= 1e6 ? scaled(1e6, QStringLiteral("M"))
               : a >= 1e3 ? scaled(1e3, QStringLiteral("k"))
                          : scaled(1, QString());
    case MetricUnit::Bytes:
        return a >= 1 << 30   ? scaled(1 << 30, QStringLiteral(" GiB"))
               : a >= 1 << 20 ? scaled(1 << 20, QStringLiteral(" MiB"))
               : a >= 1 << 10 ? scaled(1 << 10, QStringLiteral(" KiB"))
                              : scaled(1, QStringLiteral(" B"));
    case MetricUnit::Duration:
        return step >= 3600e6 ? scaled(3600e6, QStringLiteral(" h"))
               : step >= 60e6 ? scaled(60e6, QStringLiteral(" min"))
               : step >= 1e6  ? scaled(1e6, QStringLiteral(" s"))
               : step >= 1e3  ? scaled(1e3, QStringLiteral(" ms"))
                              : scaled(1, QStringLiteral(" µs"));
    case MetricUnit::Cost:
        return QLatin1Char('$') + scaled(1, QString());
    case MetricUnit::Ratio:
        return scaled(0.01, QStringLiteral("%"));
    case MetricUnit::Number:
        break;
    }
    return formatMetricValue(value, unit);
}

// The smallest round time step whose ticks lie at least `minPixels` apart.
int64_t niceTimeStep(double pixelsPerUs, double minPixels)
{
    static constexpr int64_t kMs = 1000, kS = 1000 * kMs, kMin = 60 * kS, kH = 60 * kMin;
    static constexpr int64_t kSteps[] = {
        1,        10,        100,       kMs,       2 * kMs,  5 * kMs,   10 * kMs,  20 * kMs,
        50 * kMs, 100 * kMs, 200 * kMs, 500 * kMs, kS,       2 * kS,    5 * kS,    10 * kS,
        15 * kS,  30 * kS,   kMin,      2 * kMin,  5 * kMin, 10 * kMin, 15 * kMin, 30 * kMin,
        kH,       2 * kH,    3 * kH,    6 * kH,    12 * kH,  24 * kH,   48 * kH,   120 * kH,
        240 * kH, 720 * kH,  2400 * kH, 7200 * kH};
    for (int64_t step : kSteps) {
        if (double(step) * pixelsPerUs >= minPixels)
            return step;
    }
    return kSteps[std::size(kSteps) - 1];
}

} // namespace

// The painted plots. Holds the series (shared, immutable) and, per plot, their reduction
// to the pixel columns of the current window: recomputed on a change of data, window or
// size, read by paintEvent. The series' rows are rows of `m_index`, which is the state's
// index while the series are shown (MetricsView clears them when the index changes).
class MetricsCanvas : public QWidget {
    Q_OBJECT
public:
    MetricsCanvas(ViewState *state, QWidget *parent);

    void setMetrics(std::shared_ptr<const TapeIndex> index,
                    std::shared_ptr<const RunMetrics> metrics);
    // `absent`: what the regex plot says while it has no series (computing, an error).
    void setRegexSeries(std::shared_ptr<const MetricSeries> series, const QString &absent = {});
    void setHigherIsBetter(bool higher);
    void setWholeRun(bool whole);
    void updateWindow();

    std::optional<QPointF> pointPosition(int plot, int64_t row) const;

    QSize sizeHint() const override { return {720, kPlotCount * 82 + 24}; }
    QSize minimumSizeHint() const override { return {320, kPlotCount * kMinPlotHeight + 24}; }

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void leaveEvent(QEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    struct Trace {
        const MetricSeries *series = nullptr;
        QColor color;
        QString label;
        std::vector<MetricColumn> columns;
        int64_t visiblePoints = 0;
    };
    struct Plot {
        QString title;
        QString emptyText; // why a plot without points is empty
        std::vector<Trace> traces;
        MetricUnit unit = MetricUnit::Number;
        bool fromZero = true; // the y axis starts at 0 (all but the regex metric)
        // Lines join the points of a quantity that evolves (a context, a running total);
        // per-call measurements that jump about (latency) read better as a scatter.
        bool connected = true;
        QRectF slot; // the plot's band, title included
        QRectF area; // where the data is drawn
        Axis axis;
    };

    void rebuildTraces();
    void relayout();
    double xOf(int64_t us) const;
    int64_t timeAt(double x) const;
    static double yOf(const Plot &plot, double value);
    int plotAt(const QPointF &pos) const;
    // The point of `trace` nearest to `pos` on screen, among those next to its time.
    int64_t nearestOnScreen(const Plot &plot, const Trace &trace, const QPointF &pos) const;
    // Frame, ticks, labels and data: what stays until the data, window or size change.
    void paintPlot(QPainter &p, const Plot &plot, int id) const;
    // The selected step's point and the points under the pointer, over paintPlot().
    void paintMarks(QPainter &p, const Plot &plot) const;
    // Draws every plot into m_plotsLayer if it does not hold them.
    void ensurePlotsLayer();
    void paintTrace(QPainter &p, const Plot &plot, const Trace &trace) const;
    // `avoid`: where the pointer's time is written; tick labels there are left out.
    void paintTimeAxis(QPainter &p, const QRectF &avoid) const;
    QString hoverText(const Plot &plot) const;

    ViewState *m_state;
    std::shared_ptr<const TapeIndex> m_index;
    std::shared_ptr<const RunMetrics> m_metrics;
    std::shared_ptr<const MetricSeries> m_regex;
    QString m_regexAbsent;
    std::vector<int64_t> m_bests;
    bool m_higherIsBetter = true;
    bool m_wholeRun = false;
    std::array<Plot, kPlotCount> m_plots;
    QRectF m_axisRect;
    int64_t m_startUs = 0;
    int64_t m_endUs = 0;
    std::optional<QPointF> m_hover;
    // The plots as paintPlot() last drew them: a selection or a pointer move repaints only
    // the marks over this picture, not thousands of points and every label. relayout()
    // drops it.
    QPixmap m_plotsLayer;
};

MetricsCanvas::MetricsCanvas(ViewState *state, QWidget *parent) : QWidget(parent), m_state(state)
{
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    rebuildTraces();
    connect(state, &ViewState::visibleRangeChanged, this, [this] {
        if (!m_wholeRun)
            updateWindow();
    });
    connect(state, &ViewState::currentStepChanged, this, qOverload<>(&QWidget::update));
}

void MetricsCanvas::setMetrics(std::shared_ptr<const TapeIndex> index,
                               std::shared_ptr<const RunMetrics> metrics)
{
    m_index = std::move(index);
    m_metrics = std::move(metrics);
    if (!m_metrics)
        m_regex.reset();
    setRegexSeries(m_regex, m_regexAbsent);
}

void MetricsCanvas::setRegexSeries(std::shared_ptr<const MetricSeries> series,
                                   const QString &absent)
{
    m_regex = std::move(series);
    m_regexAbsent = absent;
    m_bests = m_regex ? m_regex->newBests(m_higherIsBetter) : std::vector<int64_t>{};
    rebuildTraces();
    updateWindow();
}

void MetricsCanvas::setHigherIsBetter(bool higher)
{
    m_higherIsBetter = higher;
    setRegexSeries(m_regex, m_regexAbsent);
}

void MetricsCanvas::setWholeRun(bool whole)
{
    m_wholeRun = whole;
    updateWindow();
}

void MetricsCanvas::rebuildTraces()
{
    const RunMetrics *m = m_metrics.get();
    const auto trace = [](const MetricSeries &s, QColor color, QString label) {
        Trace t;
        t.series = &s;
        t.color = color;
        t.label = std::move(label);
        return t;
    };
    for (Plot &plot : m_plots)
        plot.traces.clear();
    const QColor model = stepKindColor(formats::StepKind::ModelCall);

    Plot &context = m_plots[ContextPlot];
    const bool bytes = m && m->contextSize.unit() == MetricUnit::Bytes;
    context.title = bytes ? tr("Context (request bytes)") : tr("Context (input + cached tokens)");
    context.emptyText = tr("No model call");
    context.unit = bytes ? MetricUnit::Bytes : MetricUnit::Count;
    if (m)
        context.traces.push_back(trace(m->contextSize, model, {}));

    Plot &tokens = m_plots[TokensPlot];
    tokens.title = tr("Tokens per call");
    tokens.emptyText = tr("No model call reports its usage");
    tokens.unit = MetricUnit::Count;
    if (m) {
        tokens.traces.push_back(trace(m->inputTokens, model, tr("input")));
        tokens.traces.push_back(trace(m->outputTokens, QColor(0xf9, 0x73, 0x16), tr("output")));
    }

    Plot &latency = m_plots[LatencyPlot];
    latency.title = tr("Latency");
    latency.emptyText = tr("No model call");
    latency.unit = MetricUnit::Duration;
    latency.connected = false;
    if (m) {
        // First token below, total on top: the total is what the plot is about.
        latency.traces.push_back(
            trace(m->timeToFirstToken, QColor(0x06, 0xb6, 0xd4), tr("first token")));
        latency.traces.push_back(
            trace(m->latency, stepKindColor(formats::StepKind::HttpExchange), tr("total")));
    }

    Plot &cost = m_plots[CostPlot];
    cost.title = tr("Cumulative cost");
    cost.emptyText = tr("No model call knows its cost");
    cost.unit = MetricUnit::Cost;
    // A running total from 0 would be a flat line once zoomed in: fit what is shown.
    cost.fromZero = false;
    if (m)
        cost.traces.push_back(
            trace(m->cumulativeCost, stepKindColor(formats::StepKind::ToolCall), {}));

    Plot &errors = m_plots[ErrorPlot];
    errors.title =
        m ? tr("Tool error rate (last %1 results)").arg(m->errorWindow) : tr("Tool error rate");
    errors.emptyText = tr("No tool result");
    errors.unit = MetricUnit::Ratio;
    if (m)
        errors.traces.push_back(trace(m->toolErrorRate, errorColor(), {}));

    Plot &regex = m_plots[RegexPlot];
    regex.title = tr("Regex metric");
    regex.emptyText = m_regex                   ? tr("The regex matches no tool output")
                      : m_regexAbsent.isEmpty() ? tr("No regex metric")
                                                : m_regexAbsent;
    regex.unit = MetricUnit::Number;
    regex.fromZero = false;
    if (m && m_regex)
        regex.traces.push_back(trace(*m_regex, stepKindColor(formats::StepKind::Compaction), {}));
}

void MetricsCanvas::updateWindow()
{
    auto index = m_state->index();
    m_startUs = m_state->visibleStartUs();
    m_endUs = m_state->visibleEndUs();
    if (index && (m_wholeRun || m_endUs <= m_startUs)) {
        m_startUs = index->firstUs();
        m_endUs = index->lastUs();
    }
    relayout();
    update();
}

void MetricsCanvas::relayout()
{
    m_plotsLayer = QPixmap();
    const QFontMetricsF fm(font());
    const double titleHeight = fm.height() + 4;
    const double axisHeight = fm.height() + 8;
    const double top = 4;
    const double left = kLeftMargin;
    const double width = std::max(1.0, double(this->width()) - left - kRightMargin);
    const double slotHeight =
        std::max(double(kMinPlotHeight), (height() - top - axisHeight) / kPlotCount);
    const int columns = int(width);

    for (int i = 0; i < kPlotCount; ++i) {
        Plot &plot = m_plots[size_t(i)];
        plot.slot = QRectF(left, top + i * slotHeight, width, slotHeight);
        plot.area = plot.slot.adjusted(0, titleHeight, 0, -6);
        double lo = std::nan(""), hi = std::nan("");
        const auto include = [&](double v) {
            if (std::isnan(v))
                return;
            lo = std::isnan(lo) ? v : std::min(lo, v);
            hi = std::isnan(hi) ? v : std::max(hi, v);
        };
        for (Trace &t : plot.traces) {
            t.columns = t.series->downsample(m_startUs, m_endUs, columns);
            t.visiblePoints = 0;
            for (const MetricColumn &c : t.columns) {
                t.visiblePoints += c.count;
                include(c.min);
                include(c.max);
            }
            // A window between two points still shows the line joining them.
            if (t.visiblePoints == 0 && !t.series->isEmpty()) {
                const int64_t after = t.series->lowerBound(m_startUs);
                if (after > 0)
                    include(t.series->point(after - 1).value);
                if (after < t.series->size())
                    include(t.series->point(after).value);
            }
        }
        if (std::isnan(lo)) {
            lo = 0;
            hi = plot.unit == MetricUnit::Ratio ? 1 : 0;
        }
        if (plot.fromZero)
            lo = std::min(lo, 0.0);
        else if (hi > lo) {
            // A little air around the data, but no negative axis for data that has none.
            const double pad = (hi - lo) * 0.05;
            lo = lo >= 0 ? std::max(0.0, lo - pad) : lo - pad;
            hi += pad;
        }
        plot.axis = niceAxis(lo, hi);
        if (plot.unit == MetricUnit::Ratio)
            plot.axis.hi = std::min(plot.axis.hi, 1.0);
    }
    m_axisRect = QRectF(left, top + kPlotCount * slotHeight, width, axisHeight);
}

double MetricsCanvas::xOf(int64_t us) const
{
    const QRectF &area = m_plots[0].area;
    if (m_endUs <= m_startUs)
        return area.left();
    return area.left() + double(us - m_startUs) / double(m_endUs - m_startUs) * area.width();
}

int64_t MetricsCanvas::timeAt(double x) const
{
    const QRectF &area = m_plots[0].area;
    return m_startUs + std::llround((x - area.left()) / std::max(1.0, area.width()) *
                                    double(m_endUs - m_startUs));
}

double MetricsCanvas::yOf(const Plot &plot, double value)
{
    const double span = plot.axis.hi - plot.axis.lo;
    return plot.area.bottom() - (value - plot.axis.lo) / (span > 0 ? span : 1) * plot.area.height();
}

int MetricsCanvas::plotAt(const QPointF &pos) const
{
    for (int i = 0; i < kPlotCount; ++i) {
        if (m_plots[size_t(i)].slot.contains(pos))
            return i;
    }
    return -1;
}

int64_t MetricsCanvas::nearestOnScreen(const Plot &plot, const Trace &trace,
                                       const QPointF &pos) const
{
    const MetricSeries &s = *trace.series;
    const int64_t first = s.lowerBound(m_startUs);
    const int64_t last = s.upperBound(m_endUs);
    if (first >= last)
        return -1;
    const int64_t guess = std::clamp(s.nearest(timeAt(pos.x())), first, last - 1);
    // Several points may share the pointer's pixel column: look at those within a few
    // pixels of it (bounded, so a dense column costs the same as a sparse one).
    int64_t best = -1;
    double bestDistance = 0;
    for (int64_t i = std::max(first, guess - 8); i < std::min(last, guess + 9); ++i) {
        const MetricPoint &pt = s.point(i);
        const double d = std::hypot(xOf(pt.timeUs) - pos.x(), yOf(plot, pt.value) - pos.y());
        if (best < 0 || d < bestDistance) {
            best = i;
            bestDistance = d;
        }
    }
    return best;
}

std::optional<QPointF> MetricsCanvas::pointPosition(int plot, int64_t row) const
{
    if (plot < 0 || plot >= kPlotCount || !m_index)
        return std::nullopt;
    const Plot &p = m_plots[size_t(plot)];
    for (const Trace &t : p.traces) {
        const int64_t i = t.series->pointOfRow(*m_index, row);
        if (i < 0)
            continue;
        const MetricPoint &pt = t.series->point(i);
        if (pt.timeUs < m_startUs || pt.timeUs > m_endUs)
            return std::nullopt;
        return QPointF(xOf(pt.timeUs), yOf(p, pt.value));
    }
    return std::nullopt;
}

void MetricsCanvas::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    relayout();
}

void MetricsCanvas::mouseMoveEvent(QMouseEvent *event)
{
    m_hover = event->position();
    update();
}

void MetricsCanvas::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        relayout();
        update();
    }
}

void MetricsCanvas::leaveEvent(QEvent *event)
{
    QWidget::leaveEvent(event);
    m_hover.reset();
    update();
}

void MetricsCanvas::mousePressEvent(QMouseEvent *event)
{
    const int id = plotAt(event->position());
    if (event->button() != Qt::LeftButton || id < 0 || !m_index || m_index != m_state->index()) {
        QWidget::mousePressEvent(event);
        return;
    }
    const Plot &plot = m_plots[size_t(id)];
    int64_t bestRow = -1;
    double bestDistance = 0;
    for (const Trace &t : plot.traces) {
        const int64_t i = nearestOnScreen(plot, t, event->position());
        if (i < 0)
            continue;
        const MetricPoint &pt = t.series->point(i);
        const double d = std::hypot(xOf(pt.timeUs) - event->position().x(),
                                    yOf(plot, pt.value) - event->position().y());
        if (bestRow < 0 || d < bestDistance) {
            bestRow = pt.row;
            bestDistance = d;
        }
    }
    if (bestRow >= 0)
        m_state->setCurrentStep(m_index->row(bestRow).index);
}

void MetricsCanvas::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    if (!m_index || m_endUs <= m_startUs) {
        p.fillRect(rect(), palette().base());
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter,
                   m_state->index() ? tr("Computing metrics…") : tr("No tape open"));
        return;
    }
    ensurePlotsLayer();
    p.drawPixmap(0, 0, m_plotsLayer);
    for (const Plot &plot : m_plots)
        paintMarks(p, plot);

    // The time under the pointer goes on the axis, and the tick labels it covers give way.
    const QRectF all(m_plots.front().area.topLeft(), m_plots.back().area.bottomRight());
    const bool hovering = m_hover && m_hover->x() >= all.left() && m_hover->x() <= all.right() &&
                          m_hover->y() <= m_axisRect.bottom();
    QString when;
    QRectF whenBox;
    if (hovering) {
        when = formatOffset(timeAt(m_hover->x()) - m_index->firstUs(),
                            std::max<int64_t>(1, (m_endUs - m_startUs) / 1000));
        const QFontMetricsF fm(font());
        whenBox = QRectF(0, m_axisRect.top() + 1, fm.horizontalAdvance(when) + 10, fm.height() + 3);
        whenBox.moveLeft(std::clamp(m_hover->x() - whenBox.width() / 2,
                                    m_axisRect.left() - kLeftMargin / 2.0,
                                    m_axisRect.right() - whenBox.width()));
    }
    paintTimeAxis(p, whenBox);

    const int64_t selected = m_state->currentRow();
    if (selected >= 0) {
        const double x = xOf(m_index->row(selected).startedUs);
        if (x >= all.left() && x <= all.right()) {
            p.setPen(QPen(palette().color(QPalette::Highlight), 1.5));
            for (const Plot &plot : m_plots)
                p.drawLine(QPointF(x, plot.area.top()), QPointF(x, plot.area.bottom()));
        }
    }
    if (hovering) {
        p.setPen(QPen(palette().color(QPalette::Text), 1, Qt::DotLine));
        for (const Plot &plot : m_plots)
            p.drawLine(QPointF(m_hover->x(), plot.area.top()),
                       QPointF(m_hover->x(), plot.area.bottom()));
        p.fillRect(whenBox, palette().color(QPalette::ToolTipBase));
        p.setPen(palette().color(QPalette::ToolTipText));
        p.drawText(whenBox, Qt::AlignCenter, when);
    }
}

void MetricsCanvas::ensurePlotsLayer()
{
    const qreal ratio = devicePixelRatioF();
    const QSize pixels = (QSizeF(size()) * ratio).toSize();
    if (!m_plotsLayer.isNull() && m_plotsLayer.size() == pixels)
        return;
    m_plotsLayer = QPixmap(pixels);
    m_plotsLayer.setDevicePixelRatio(ratio);
    m_plotsLayer.fill(palette().color(QPalette::Base));
    QPainter p(&m_plotsLayer);
    p.setFont(font());
    for (int i = 0; i < kPlotCount; ++i)
        paintPlot(p, m_plots[size_t(i)], i);
}

void MetricsCanvas::paintPlot(QPainter &p, const Plot &plot, int id) const
{
    const QFontMetricsF fm(font());
    const QColor text = palette().color(QPalette::Text);
    const QColor faint = palette().color(QPalette::PlaceholderText);
    QColor grid = text;
    grid.setAlphaF(0.10f);

    // Frame, ticks and their labels.
    const QRectF &area = plot.area;
    horizontalHairline(p, area.left(), area.right(), area.top(), grid);
    horizontalHairline(p, area.left(), area.right(), area.bottom(), grid);
    verticalHairline(p, area.left(), area.top() + 1, area.bottom() - 1, grid);
    verticalHairline(p, area.right(), area.top() + 1, area.bottom() - 1, grid);
    const Axis &a = plot.axis;
    p.setFont(font());
    const int ticks = int(std::llround((a.hi - a.lo) / a.step));
    for (int k = 0; k <= ticks; ++k) {
        double v = a.lo + k * a.step;
        if (std::fabs(v) < a.step * 1e-9)
            v = 0; // not "-2.8e-17"
        const double y = yOf(plot, v);
        horizontalHairline(p, area.left(), area.right(), y, grid);
        p.setPen(faint);
        const QRectF label(0, y - fm.height() / 2, plot.area.left() - 6, fm.height());
        p.drawText(label, Qt::AlignRight | Qt::AlignVCenter, axisLabel(v, plot.unit, a.step));
    }

    // Title and legend on the left, the values under the pointer on the right.
    const QRectF titleRect(plot.slot.left() + 2, plot.slot.top(), plot.slot.width() - 4,
                           plot.area.top() - plot.slot.top());
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(text);
    p.drawText(titleRect, Qt::AlignLeft | Qt::AlignVCenter, plot.title);
    double x = titleRect.left() + QFontMetricsF(bold).horizontalAdvance(plot.title) + 10;
    p.setFont(font());
    for (const Trace &t : plot.traces) {
        if (t.label.isEmpty())
            continue;
        const double swatch = fm.height() * 0.5;
        p.fillRect(QRectF(x, titleRect.center().y() - swatch / 2, swatch, swatch), t.color);
        x += swatch + 4;
        p.setPen(text);
        p.drawText(
            QRectF(x, titleRect.top(), fm.horizontalAdvance(t.label) + 1, titleRect.height()),
            Qt::AlignLeft | Qt::AlignVCenter, t.label);
        x += fm.horizontalAdvance(t.label) + 10;
    }
    if (id == RegexPlot && !m_bests.empty()) {
        const MetricPoint &best = m_regex->point(m_bests.back());
        p.setPen(faint);
        p.drawText(QRectF(x, titleRect.top(), titleRect.right() - x, titleRect.height()),
                   Qt::AlignLeft | Qt::AlignVCenter,
                   tr("%1 points, %2 new bests, best %3 at step %4")
                       .arg(m_regex->size())
                       .arg(m_bests.size())
                       .arg(formatMetricValue(best.value, plot.unit))
                       .arg(m_index->row(best.row).index.value));
    }

    bool any = false;
    for (const Trace &t : plot.traces)
        any = any || !t.series->isEmpty();
    if (!any) {
        p.setPen(faint);
        p.drawText(plot.area, Qt::AlignCenter, plot.emptyText);
        return;
    }
    p.save();
    p.setClipRect(plot.area.adjusted(-3, -3, 3, 3));
    p.setRenderHint(QPainter::Antialiasing);
    for (const Trace &t : plot.traces)
        paintTrace(p, plot, t);

    if (id == RegexPlot && m_regex) {
        // New bests: a diamond on each one in the window.
        const QColor mark(0xf5, 0x9e, 0x0b);
        p.setPen(QPen(mark.darker(140), 1));
        p.setBrush(mark);
        auto it =
            std::lower_bound(m_bests.begin(), m_bests.end(), m_startUs,
                             [this](int64_t i, int64_t t) { return m_regex->point(i).timeUs < t; });
        for (; it != m_bests.end() && m_regex->point(*it).timeUs <= m_endUs; ++it) {
            const MetricPoint &pt = m_regex->point(*it);
            const QPointF c(xOf(pt.timeUs), yOf(plot, pt.value));
            const QPointF diamond[] = {c + QPointF(0, -4.5), c + QPointF(4.5, 0),
                                       c + QPointF(0, 4.5), c + QPointF(-4.5, 0)};
            p.drawPolygon(diamond, 4);
        }
    }
    p.restore();
}

void MetricsCanvas::paintMarks(QPainter &p, const Plot &plot) const
{
    const QString hover = hoverText(plot);
    if (!hover.isEmpty()) {
        const QFontMetricsF fm(font());
        const QRectF titleRect(plot.slot.left() + 2, plot.slot.top(), plot.slot.width() - 4,
                               plot.area.top() - plot.slot.top());
        p.setPen(palette().color(QPalette::Text));
        p.fillRect(QRectF(titleRect.right() - fm.horizontalAdvance(hover) - 8, titleRect.top(),
                          fm.horizontalAdvance(hover) + 8, titleRect.height()),
                   palette().base());
        p.drawText(titleRect, Qt::AlignRight | Qt::AlignVCenter, hover);
    }
    p.save();
    p.setClipRect(plot.area.adjusted(-3, -3, 3, 3));
    p.setRenderHint(QPainter::Antialiasing);
    // The selected step's point, and the points nearest the pointer.
    const int64_t selected = m_state->currentRow();
    for (const Trace &t : plot.traces) {
        const int64_t i = selected >= 0 ? t.series->pointOfRow(*m_index, selected) : -1;
        if (i >= 0) {
            const MetricPoint &pt = t.series->point(i);
            p.setPen(QPen(palette().color(QPalette::Highlight), 2));
            p.setBrush(Qt::NoBrush);
            p.drawEllipse(QPointF(xOf(pt.timeUs), yOf(plot, pt.value)), 4.5, 4.5);
        }
        if (m_hover) {
            const int64_t h = t.series->nearest(timeAt(m_hover->x()));
            if (h >= 0 && t.series->point(h).timeUs >= m_startUs &&
                t.series->point(h).timeUs <= m_endUs) {
                const MetricPoint &pt = t.series->point(h);
                p.setPen(QPen(palette().color(QPalette::Base), 1.5));
                p.setBrush(t.color);
                p.drawEllipse(QPointF(xOf(pt.timeUs), yOf(plot, pt.value)), 3.5, 3.5);
            }
        }
    }
    p.restore();
}

void MetricsCanvas::paintTrace(QPainter &p, const Plot &plot, const Trace &trace) const
{
    const MetricSeries &s = *trace.series;
    if (s.isEmpty())
        return;
    const double left = plot.area.left() + 0.5;
    const bool sparse = trace.visiblePoints > 0 &&
                        double(trace.visiblePoints) <= kDotsBelowPointsPerPixel * plot.area.width();
    if (plot.connected) {
        // One pixel column at a time: its first, extreme and last values, so a column of
        // a thousand points is one vertical stroke, and lines join the columns in time
        // order, from the point before the window to the point after it.
        QPolygonF line;
        line.reserve(qsizetype(trace.columns.size()) * 4 + 2);
        const int64_t before = s.lowerBound(m_startUs) - 1;
        if (before >= 0)
            line << QPointF(xOf(s.point(before).timeUs), yOf(plot, s.point(before).value));
        for (size_t c = 0; c < trace.columns.size(); ++c) {
            const MetricColumn &col = trace.columns[c];
            if (col.count == 0)
                continue;
            const double x = left + double(c);
            line << QPointF(x, yOf(plot, col.first));
            if (col.count > 1)
                line << QPointF(x, yOf(plot, col.min)) << QPointF(x, yOf(plot, col.max))
                     << QPointF(x, yOf(plot, col.last));
        }
        const int64_t after = s.upperBound(m_endUs);
        if (after < s.size())
            line << QPointF(xOf(s.point(after).timeUs), yOf(plot, s.point(after).value));
        // A cosmetic pen one pixel wide: the raster engine draws it directly, where a wider
        // one is stroked into a polygon and filled, a hundred times slower for a line that
        // turns back on itself in every column.
        QPen pen(trace.color, 1);
        pen.setCosmetic(true);
        p.setPen(pen);
        p.setBrush(Qt::NoBrush);
        p.drawPolyline(line);
    } else if (!sparse) {
        // A scatter too dense for dots: one stroke per pixel column from its smallest to
        // its largest value, at least two pixels tall so that a lone point shows.
        QVarLengthArray<QLineF, 1024> strokes;
        for (size_t c = 0; c < trace.columns.size(); ++c) {
            const MetricColumn &col = trace.columns[c];
            if (col.count == 0)
                continue;
            const double x = left + double(c);
            const double top = yOf(plot, col.max), bottom = yOf(plot, col.min);
            const double mid = (top + bottom) / 2;
            strokes.append(QLineF(x, std::min(top, mid - 1.2), x, std::max(bottom, mid + 1.2)));
        }
        p.setPen(QPen(trace.color, 1.6, Qt::SolidLine, Qt::FlatCap));
        p.drawLines(strokes.constData(), int(strokes.size()));
    }
    if (sparse) {
        // Few enough points to show each one: what a click can select.
        p.setPen(Qt::NoPen);
        p.setBrush(trace.color);
        const double radius = plot.connected ? 2.2 : 2.8;
        for (int64_t i = s.lowerBound(m_startUs); i < s.upperBound(m_endUs); ++i)
            p.drawEllipse(QPointF(xOf(s.point(i).timeUs), yOf(plot, s.point(i).value)), radius,
                          radius);
    }
}

QString MetricsCanvas::hoverText(const Plot &plot) const
{
    if (!m_hover || m_hover->x() < plot.area.left() || m_hover->x() > plot.area.right())
        return {};
    const int64_t t = timeAt(m_hover->x());
    const bool under = plot.slot.contains(*m_hover);
    QStringList parts;
    int64_t row = -1;
    for (const Trace &trace : plot.traces) {
        const int64_t i = under ? nearestOnScreen(plot, trace, *m_hover) : trace.series->nearest(t);
        if (i < 0)
            continue;
        const MetricPoint &pt = trace.series->point(i);
        if (pt.timeUs < m_startUs || pt.timeUs > m_endUs)
            continue;
        const QString value = formatMetricValue(pt.value, plot.unit);
        parts << (trace.label.isEmpty() ? value : trace.label + QLatin1Char(' ') + value);
        row = pt.row;
    }
    if (under && row >= 0)
        parts << tr("step %1").arg(m_index->row(row).index.value);
    return parts.join(QStringLiteral("   "));
}

void MetricsCanvas::paintTimeAxis(QPainter &p, const QRectF &avoid) const
{
    const QFontMetricsF fm(font());
    const double pixelsPerUs = m_axisRect.width() / double(m_endUs - m_startUs);
    const int64_t origin = m_index->firstUs();
    const double labelWidth = fm.horizontalAdvance(formatOffset(m_endUs - origin, 1000)) + 24;
    const int64_t step = niceTimeStep(pixelsPerUs, labelWidth);
    QColor grid = palette().color(QPalette::Text);
    grid.setAlphaF(0.10f);
    const int64_t offset = m_startUs - origin;
    int64_t tick = origin + (offset <= 0 ? 0 : (offset + step - 1) / step * step);
    for (; tick <= m_endUs; tick += step) {
        const double x = xOf(tick);
        for (const Plot &plot : m_plots)
            verticalHairline(p, x, plot.area.top(), plot.area.bottom(), grid);
        p.setPen(palette().color(QPalette::PlaceholderText));
        const QString label = formatOffset(tick - origin, step);
        const double w = fm.horizontalAdvance(label);
        const double left =
            std::clamp(x - w / 2, m_axisRect.left() - kLeftMargin / 2.0, m_axisRect.right() - w);
        const QRectF box(left, m_axisRect.top() + 2, w + 1, fm.height());
        if (!box.intersects(avoid))
            p.drawText(box, Qt::AlignCenter, label);
    }
}

MetricsView::MetricsView(ViewState *state, QWidget *parent)
    : QWidget(parent), m_state(state), m_jobs(nullptr, JobRunner::Lane::Background),
      m_canvas(new MetricsCanvas(state, this)),
      m_wholeRun(new QCheckBox(tr("Whole run"), this)), m_regex(new QLineEdit(this)),
      m_tool(new QComboBox(this)), m_direction(new QComboBox(this)), m_status(new QLabel(this))
{
    m_wholeRun->setToolTip(tr("Plot the whole run instead of following the timeline's zoom"));
    m_regex->setText(QString::fromLatin1(kSuggestedMetricRegex));
    m_regex->setPlaceholderText(tr("A regex over tool outputs; its first group is the value"));
    m_regex->setToolTip(tr("Each tool output's last match is one point: the first capture group "
                           "(or the whole match) read as a number"));
    m_regex->setClearButtonEnabled(true);
    m_tool->setToolTip(tr("Only the outputs of this tool"));
    m_tool->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_direction->addItem(tr("higher is better"), true);
    m_direction->addItem(tr("lower is better"), false);
    m_direction->setToolTip(tr("Which way a new best goes"));
    m_status->setObjectName(QStringLiteral("regexStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *controls = new QHBoxLayout;
    controls->addWidget(m_wholeRun);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("Regex:"), this));
    controls->addWidget(m_regex, 1);
    controls->addWidget(m_tool);
    controls->addWidget(m_direction);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(2);
    layout->addLayout(controls);
    layout->addWidget(m_status);
    layout->addWidget(m_canvas, 1);

    connect(m_wholeRun, &QCheckBox::toggled, m_canvas, &MetricsCanvas::setWholeRun);
    connect(m_regex, &QLineEdit::textEdited, this, &MetricsView::startRegexJob);
    connect(m_tool, &QComboBox::activated, this, &MetricsView::startRegexJob);
    connect(m_direction, &QComboBox::activated, this,
            [this] { m_canvas->setHigherIsBetter(m_direction->currentData().toBool()); });
    connect(state, &ViewState::indexChanged, this, &MetricsView::resetForIndex);
    resetForIndex();
}

MetricsView::~MetricsView()
{
    if (m_regexCancel)
        m_regexCancel->store(true);
}

int MetricsView::plotCount() const
{
    return kPlotCount;
}

std::optional<QPoint> MetricsView::pointPosition(int plot, int64_t row) const
{
    const auto at = m_canvas->pointPosition(plot, row);
    if (!at)
        return std::nullopt;
    return m_canvas->mapTo(this, at->toPoint());
}

void MetricsView::setRegex(const QString &pattern)
{
    m_regex->setText(pattern);
    startRegexJob();
}

void MetricsView::resetForIndex()
{
    auto index = m_state->index();
    m_canvas->setMetrics(nullptr, nullptr);
    fillToolChoices({});
    if (!index) {
        m_jobs.cancel(kMetricsJob);
        startRegexJob();
        return;
    }
    struct Computed {
        std::shared_ptr<const RunMetrics> metrics;
        std::vector<int32_t> tools; // the names of tools that have results, by name id
    };
    m_jobs.start<Computed>(
        kMetricsJob,
        [index]() {
            Computed c;
            c.metrics = std::make_shared<const RunMetrics>(RunMetrics::compute(*index));
            std::vector<bool> seen(size_t(index->nameCount()));
            for (const StepRow &row : index->rows()) {
                if (row.kind == formats::StepKind::ToolResult && row.name >= 0 &&
                    !seen[size_t(row.name)]) {
                    seen[size_t(row.name)] = true;
                    c.tools.push_back(row.name);
                }
            }
            return c;
        },
        [this, index](Computed c) {
            m_canvas->setMetrics(index, std::move(c.metrics));
            fillToolChoices(c.tools);
            Q_EMIT metricsReady();
            startRegexJob();
        });
}

void MetricsView::fillToolChoices(const std::vector<int32_t> &tools)
{
    auto index = m_state->index();
    m_tool->clear();
    m_tool->addItem(tr("all tools"), QString());
    QStringList names;
    for (int32_t id : tools)
        names << QString::fromStdString(index->name(id));
    names.sort();
    for (const QString &name : names)
        m_tool->addItem(name, name);
}

void MetricsView::startRegexJob()
{
    if (m_regexCancel)
        m_regexCancel->store(true);
    m_regexCancel.reset();
    const uint64_t generation = ++m_regexGeneration;
    auto index = m_state->index();
    const QString pattern = m_regex->text();
    const QRegularExpression regex(pattern);
    if (!index || pattern.isEmpty() || !regex.isValid()) {
        m_jobs.cancel(kRegexJob);
        const QString why = !index ? QString()
                            : pattern.isEmpty()
                                ? tr("Type a regex to plot a number from the tool outputs")
                                : tr("Regex error at %1: %2")
                                      .arg(regex.patternErrorOffset())
                                      .arg(regex.errorString());
        m_status->setText(why);
        m_canvas->setRegexSeries(nullptr, why);
        return;
    }
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    m_regexCancel = cancel;
    m_status->setText(tr("Reading tool outputs…"));
    m_canvas->setRegexSeries(nullptr, tr("Reading tool outputs…"));
    const std::string path = index->path();
    const std::string tool = m_tool->currentData().toString().toStdString();
    QPointer<MetricsView> self(this);
    // Progress goes the way JobRunner's results go: by the application object, looked at
    // on the GUI thread, and only shown while this job is the current one.
    auto progress = [self, generation](int64_t done, int64_t total) {
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, generation, done, total] {
                if (self && self->m_regexGeneration == generation)
                    self->showRegexProgress(done, total);
            },
            Qt::QueuedConnection);
    };
    using Outcome = formats::Result<RegexMetric>;
    m_jobs.start<Outcome>(
        kRegexJob,
        [path, index, regex, tool, cancel, progress]() {
            return computeRegexMetric(path, *index, regex, tool, cancel.get(), progress);
        },
        [this, generation](Outcome outcome) {
            if (generation != m_regexGeneration)
                return;
            m_regexCancel.reset();
            if (!outcome) {
                const QString why = QString::fromStdString(outcome.error().message);
                m_status->setText(why);
                m_canvas->setRegexSeries(nullptr, why);
                return;
            }
            const RegexMetric &metric = *outcome;
            const int points = int(metric.series.size());
            QString status = tr("%1 points in %2 tool outputs").arg(points).arg(metric.resultsRead);
            if (metric.unreadable > 0)
                status += tr("; %1 could not be read (%2)")
                              .arg(metric.unreadable)
                              .arg(QString::fromStdString(metric.firstProblem));
            m_status->setText(status);
            m_canvas->setRegexSeries(
                std::make_shared<const MetricSeries>(std::move(outcome->series)));
            Q_EMIT regexSeriesReady(points);
        });
}

void MetricsView::showRegexProgress(int64_t done, int64_t total)
{
    if (m_regexCancel)
        m_status->setText(
            tr("Reading tool outputs… %1 of %2").arg(formatCount(done), formatCount(total)));
}

} // namespace tapedeck::gui

#include "metricsview.moc"
