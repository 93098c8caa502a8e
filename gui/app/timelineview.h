// The timeline: one lane per thread, each step a bar at its place in time, over a time
// axis, with a minimap of the whole run below. A thin painter over TimelineGeometry, which
// owns all the arithmetic of the window.
//
// Scale: everything that grows with the run is computed once per ViewState::indexChanged
// (lanes of steps sorted by start, with running maxima and prefix sums; the idle gaps; the
// minimap's density), in O(n) plus a sort of what is out of order. A paint then touches
// only what is visible: per lane, a binary search for the window and, where several steps
// start in one pixel column, one merged mark for the column found by another binary search,
// so the cost of a paint grows with the width in pixels, not with the steps in view.
//
// Which tool results are benchmark evaluations needs the tool calls' arguments, which the
// index does not hold: a JobRunner job reads them off the GUI thread from its own
// TapeReader and the diamonds appear when it is done.
//
// The visible window is ViewState's: zooming and panning here set it, and a window set
// elsewhere (the metrics view, Fit, a selection outside the window) moves the view.
// Lives on the GUI thread; the ViewState must outlive it.
#pragma once

#include "jobrunner.h"
#include "timelinegeometry.h"
#include "viewstate.h"

#include <QColor>
#include <QPalette>
#include <QPixmap>
#include <QWidget>

#include <memory>
#include <utility>
#include <vector>

class QPainter;

namespace tapedeck::gui {

// A finding of the drift analysis as the timeline draws it: a mark over the time it spans
// in the band above the lanes.
struct TimelineFinding {
    int64_t startUs = 0;
    int64_t endUs = 0;
    QColor color;
    QString title;
    formats::StepIndex step; // selected by a click on the mark
};

class TimelineView : public QWidget {
    Q_OBJECT
public:
    explicit TimelineView(ViewState *state, QWidget *parent = nullptr);
    ~TimelineView() override;

    const TimelineGeometry &geometry() const { return m_geometry; }
    // anchorX and dx are in the geometry's coordinates (0 is the plot's left edge, right
    // of the lane labels). Both set ViewState's visible range.
    void zoomBy(double factor, double anchorX);
    void panBy(double dx);

    int laneCount() const;
    QString laneLabel(int lane) const;
    // Where a lane is drawn, in widget coordinates; its left edge is the geometry's x = 0.
    QRect laneRect(int lane) const;
    // The strip of the whole run below the lanes, in widget coordinates.
    QRect minimapRect() const;
    // The findings drawn in the band above the lanes (none: no band), in any order.
    void setFindings(std::vector<TimelineFinding> findings);
    // Where that band is, in widget coordinates (empty without findings).
    QRect findingsRect() const;
    // The findings under plot x, as indices into those given.
    std::vector<size_t> findingsAt(double x) const;

    // Tool results recognised as benchmark evaluations so far (the job may still run).
    int64_t evaluationCount() const { return m_evaluationCount; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    bool event(QEvent *event) override;
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

private:
    struct Lane;
    struct Gap {
        int64_t startUs;
        int64_t endUs;
    };
    enum class Drag { None, Plot, Minimap, Findings };

    void rebuild();
    void rebuildFilter();
    void findEvaluations();
    void applyEvaluations(const std::vector<int64_t> &rows);
    void followRange(int64_t startUs, int64_t endUs);
    void revealCurrentStep();
    void publishRange();
    void updateWidth();

    int plotLeft() const { return m_labelWidth; }
    int lanesTop() const;
    int lanesBottom() const;
    int laneHeight() const;
    int laneAt(int y) const;
    // The step of `lane` nearest to the time at plot x, as a row of the index (-1: none).
    int64_t nearestRow(int lane, double x) const;
    // The step under the pointer for tooltips: within a few pixels, else -1.
    int64_t rowUnder(const QPoint &pos) const;
    double minimapX(double us) const;
    double minimapTime(double x) const;
    void moveWindowToMinimapX(double x);
    void zoomToRow(int64_t row);

    void paintAxis(QPainter &p, const TimelineTicks &ticks) const;
    void paintGaps(QPainter &p) const;
    void paintLane(QPainter &p, const Lane &lane, const QRect &rect) const;
    void paintStep(QPainter &p, const Lane &lane, size_t item, double top, double height) const;
    void paintMarkers(QPainter &p, const Lane &lane, const QRect &rect) const;
    void paintFindings(QPainter &p) const;
    void paintSelection(QPainter &p) const;
    void paintMinimap(QPainter &p) const;
    void paintLayer(QPainter &p) const;
    void paintCursor(QPainter &p) const;

    // What m_layer was painted from. paintEvent paints the picture again only when one of
    // these changed: moving the selection or the playback cursor draws their marks over the
    // picture instead of every step in view again.
    struct LayerKey {
        QSize size;
        qreal devicePixelRatio = 0;
        double startUs = 0, spanUs = 0; // exact: a drag moves the window by less than 1 µs
        int laneScroll = 0;
        qint64 palette = 0;
        QPalette::ColorGroup colorGroup = QPalette::Active; // not in the palette's cache key
        QString font;
        uint64_t generation = 0;
        bool operator==(const LayerKey &) const = default;
    };
    LayerKey layerKey() const;
    // The lanes, the filter, the evaluation marks or the findings changed.
    void invalidateLayer();
    QColor colorOf(const StepRow &row) const;

    ViewState *m_state;
    JobRunner *m_jobs;
    std::shared_ptr<const TapeIndex> m_index;
    TimelineGeometry m_geometry;
    std::vector<Lane> m_lanes;
    std::vector<std::pair<int32_t, int>> m_laneOfThread; // (thread id, lane), by thread id
    std::vector<TimelineFinding> m_findings; // by start
    std::vector<Gap> m_gaps;          // idle for longer than a minute, in time order
    std::vector<QColor> m_nameColors; // indexed by interned name id
    std::vector<int32_t> m_density;   // steps starting in each minimap bin
    std::vector<int32_t> m_errorDensity;
    int64_t m_evaluationCount = 0;
    int m_labelWidth = 120;
    int m_laneScroll = 0; // px the lanes are scrolled up by

    QPixmap m_layer; // the axis, lanes, findings and minimap, without selection and cursor
    LayerKey m_layerKey;
    uint64_t m_layerGeneration = 0;

    Drag m_drag = Drag::None;
    QPoint m_pressPos;
    double m_lastDragX = 0;
    double m_minimapGrab = 0; // where in the window rectangle it was grabbed
    bool m_dragged = false;
};

} // namespace tapedeck::gui
