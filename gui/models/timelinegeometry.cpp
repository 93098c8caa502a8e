#include "timelinegeometry.h"

#include "displayformat.h"

#include <algorithm>
#include <cmath>

namespace tapedeck::gui {

namespace {

constexpr int64_t kMs = 1000;
constexpr int64_t kSecond = 1000 * kMs;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

// Sub-second spacings go 1-2-5; from ten seconds up they follow the clock instead, since
// "+0:00:20, +0:00:40, +0:01:00" reads well and "+0:00:50, +0:01:40" does not.
constexpr int64_t kSpacings[] = {
    1,        2,           5,           10,           20,           50,
    100,      200,         500,         kMs,          2 * kMs,      5 * kMs,
    10 * kMs, 20 * kMs,    50 * kMs,    100 * kMs,    200 * kMs,    500 * kMs,
    kSecond,  2 * kSecond, 5 * kSecond, 10 * kSecond, 15 * kSecond, 30 * kSecond,
    kMinute,  2 * kMinute, 5 * kMinute, 10 * kMinute, 15 * kMinute, 30 * kMinute,
    kHour,    2 * kHour,   3 * kHour,   4 * kHour,    6 * kHour,    12 * kHour,
};

} // namespace

void TimelineGeometry::setRun(int64_t runStartUs, int64_t runEndUs)
{
    m_runStart = std::min(runStartUs, runEndUs);
    m_runEnd = std::max(runStartUs, runEndUs);
    fit();
}

void TimelineGeometry::setWidth(double widthPx)
{
    m_width = std::max(1.0, widthPx);
}

int64_t TimelineGeometry::startUs() const
{
    return std::llround(m_start);
}

int64_t TimelineGeometry::endUs() const
{
    return std::llround(m_start + m_span);
}

double TimelineGeometry::marginUs() const
{
    return std::max(0.02 * double(m_runEnd - m_runStart), 0.5 * double(kMinSpanUs));
}

double TimelineGeometry::maxSpan() const
{
    return double(m_runEnd - m_runStart) + 2 * marginUs();
}

int64_t TimelineGeometry::mapXToTime(double x) const
{
    return std::llround(mapXToTimeExact(x));
}

void TimelineGeometry::setWindow(double start, double span)
{
    m_span = std::clamp(span, double(kMinSpanUs), maxSpan());
    const double lo = double(m_runStart) - marginUs();
    const double hi = double(m_runEnd) + marginUs();
    m_start = std::clamp(start, lo, hi - m_span);
}

void TimelineGeometry::zoom(double factor, double anchorX)
{
    if (!(factor > 0) || !std::isfinite(factor))
        return;
    const double anchor = mapXToTimeExact(anchorX);
    const double span = std::clamp(m_span / factor, double(kMinSpanUs), maxSpan());
    setWindow(anchor - anchorX / m_width * span, span);
}

void TimelineGeometry::pan(double dxPixels)
{
    if (!std::isfinite(dxPixels))
        return;
    setWindow(m_start - dxPixels * usPerPixel(), m_span);
}

void TimelineGeometry::setVisible(int64_t startUs, int64_t endUs)
{
    if (endUs < startUs)
        std::swap(startUs, endUs);
    // A window narrower or wider than allowed keeps its centre.
    const double span = std::clamp(double(endUs - startUs), double(kMinSpanUs), maxSpan());
    const double centre = 0.5 * (double(startUs) + double(endUs));
    setWindow(span == double(endUs - startUs) ? double(startUs) : centre - span / 2, span);
}

void TimelineGeometry::fit()
{
    setVisible(m_runStart, m_runEnd);
}

int64_t TimelineGeometry::tickSpacingUs(double minPixelSpacing) const
{
    const double needed = std::max(1.0, minPixelSpacing) * usPerPixel();
    for (int64_t s : kSpacings)
        if (double(s) >= needed)
            return s;
    // Days, 1-2-5: a run of weeks still gets a handful of ticks.
    for (int64_t decade = kDay;; decade *= 10)
        for (int64_t m : {1, 2, 5})
            if (double(m * decade) >= needed)
                return m * decade;
}

TimelineTicks TimelineGeometry::ticks(double minPixelSpacing) const
{
    TimelineTicks result;
    result.spacingUs = tickSpacingUs(minPixelSpacing);
    const int64_t s = result.spacingUs;
    // Counted from the run's start, so the first label of a fitted view is "+0:00:00".
    const double firstK = std::ceil((m_start - double(m_runStart)) / double(s));
    const int64_t end = endUs();
    for (int64_t k = int64_t(firstK);; ++k) {
        const int64_t t = m_runStart + k * s;
        if (t > end)
            break;
        if (double(t) < m_start)
            continue;
        result.ticks.push_back({t, mapTimeToX(t), formatOffset(t - m_runStart, s)});
    }
    return result;
}

} // namespace tapedeck::gui
