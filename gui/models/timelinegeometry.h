// The arithmetic of the timeline, apart from any painting: which span of the run the view
// shows, how times map to pixels and back, how zooming and panning move the window, and
// where the axis ticks fall. A value type (copy it freely), tested on its own.
#pragma once

#include <QString>

#include <cstdint>
#include <vector>

namespace tapedeck::gui {

struct TimelineTick {
    int64_t us = 0; // a time in the run (µs since the epoch)
    double x = 0;   // where it falls, in pixels from the left edge of the plot
    QString label;  // its offset from the run's start, as precise as the spacing needs
};

struct TimelineTicks {
    int64_t spacingUs = 0;
    std::vector<TimelineTick> ticks; // in time order, all inside the visible window
};

// Invariants, whatever is called in whatever order:
// - the visible span is at least kMinSpanUs and at most the run's span plus a margin on
//   either side (so a run of any length, even an empty one, can be shown and zoomed);
// - the window never leaves the run by more than that margin.
// The window is kept in double precision, so zooming in and out again around the same
// point comes back to where it started; startUs()/endUs() round it to whole µs.
// x is measured from the left edge of the plot area: 0 .. width().
class TimelineGeometry {
public:
    static constexpr int64_t kMinSpanUs = 1000; // 1 ms: below that a step is its own lane

    TimelineGeometry() = default;

    // The whole run. Shows all of it (fit()).
    void setRun(int64_t runStartUs, int64_t runEndUs);
    // The plot's width in pixels; the visible window stays and its scale changes.
    void setWidth(double widthPx);

    int64_t runStartUs() const { return m_runStart; }
    int64_t runEndUs() const { return m_runEnd; }
    int64_t startUs() const;
    int64_t endUs() const;
    double spanUs() const { return m_span; }
    double width() const { return m_width; }
    // How far past either end of the run the window may go: 2 % of the run, at least
    // half the minimum span.
    double marginUs() const;
    double usPerPixel() const { return m_span / m_width; }

    // Takes fractional µs too: anchors and hit tests want no rounding. (A double holds
    // today's epoch times to a quarter of a µs.)
    double mapTimeToX(double us) const { return (us - m_start) * m_width / m_span; }
    int64_t mapXToTime(double x) const;
    double mapXToTimeExact(double x) const { return m_start + x * m_span / m_width; }

    // factor > 1 zooms in. The time under anchorX stays under anchorX unless the window
    // has to be clamped to the run.
    void zoom(double factor, double anchorX);
    // Moves the content dxPixels to the right (as a drag does), showing earlier times.
    void pan(double dxPixels);
    // Shows [startUs, endUs], clamped as the invariants say.
    void setVisible(int64_t startUs, int64_t endUs);
    // Shows the whole run.
    void fit();

    // Axis ticks: the smallest nice spacing whose ticks are at least minPixelSpacing apart
    // (1-2-5 steps for µs, ms and s below ten seconds; 10-15-30 s, 1-2-5-10-15-30 min and
    // 1-2-3-4-6-12 h so that ticks fall on round clock times; days beyond), with every
    // tick of that spacing inside the window. Ticks are multiples of the spacing counted
    // from the run's start, so their labels are round offsets.
    TimelineTicks ticks(double minPixelSpacing = 90) const;
    // The spacing ticks() would choose.
    int64_t tickSpacingUs(double minPixelSpacing = 90) const;

    bool operator==(const TimelineGeometry &) const = default;

private:
    double maxSpan() const;
    void setWindow(double start, double span);

    int64_t m_runStart = 0;
    int64_t m_runEnd = 0;
    double m_start = 0;
    double m_span = double(kMinSpanUs);
    double m_width = 1000;
};

} // namespace tapedeck::gui
