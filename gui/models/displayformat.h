// How the app writes times, sizes, tokens and money, and the colour of each step kind:
// one place, so the table, the timeline, the inspector and the plots agree.
#pragma once

#include <tapedeck/formats/tape.h>

#include <QColor>
#include <QString>

namespace tapedeck::gui {

// "850 µs", "12.3 ms", "4.56 s", "3 min 12 s", "35 h 02 min".
QString formatDuration(int64_t us);
// A time in the run as an offset from its start: "+0:00:01.250", "+35:02:10".
// `precisionUs` picks how many fractional digits are worth showing (the timeline axis
// passes its tick spacing).
QString formatOffset(int64_t us, int64_t precisionUs = 1000);
// Wall-clock time, local: "2026-11-30 14:02:10".
QString formatWallClock(int64_t us);
// "950", "12.3k", "4.56M".
QString formatCount(int64_t n);
// "$0.0123", "$12.34"; "—" when not known (NaN).
QString formatCost(double usd);
// "512 B", "12.3 KiB", "4.5 MiB".
QString formatBytes(int64_t bytes);

QString stepKindLabel(formats::StepKind kind);  // "model call", "tool result", ...
// The colour a step of this kind is drawn in (timeline bars, table markers, plots).
QColor stepKindColor(formats::StepKind kind);
QColor errorColor();

} // namespace tapedeck::gui
