#include "displayformat.h"

#include <QDateTime>

#include <cmath>
#include <cstdlib>

namespace tapedeck::gui {

QString formatDuration(int64_t us)
{
    const int64_t a = std::llabs(us);
    const QString sign = us < 0 ? QStringLiteral("-") : QString();
    if (a < 1000)
        return sign + QStringLiteral("%1 µs").arg(a);
    if (a < 1000'000)
        return sign + QString::number(double(a) / 1e3, 'f', a < 10'000 ? 2 : 1) + QStringLiteral(" ms");
    if (a < 60'000'000)
        return sign + QString::number(double(a) / 1e6, 'f', a < 10'000'000 ? 2 : 1) + QStringLiteral(" s");
    const int64_t s = a / 1000'000;
    if (s < 3600)
        return sign + QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return sign + QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0'));
}

QString formatOffset(int64_t us, int64_t precisionUs)
{
    const QString sign = us < 0 ? QStringLiteral("-") : QStringLiteral("+");
    const int64_t a = std::llabs(us);
    const int64_t s = a / 1000'000;
    QString text = QStringLiteral("%1%2:%3:%4")
                       .arg(sign)
                       .arg(s / 3600)
                       .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
                       .arg(s % 60, 2, 10, QLatin1Char('0'));
    const int64_t frac = a % 1000'000;
    if (precisionUs < 1000'000) {
        int digits = precisionUs >= 100'000 ? 1 : precisionUs >= 10'000 ? 2 : precisionUs >= 1000 ? 3 : 6;
        int64_t scaled = frac;
        for (int d = 6; d > digits; --d)
            scaled /= 10;
        text += QStringLiteral(".%1").arg(scaled, digits, 10, QLatin1Char('0'));
    }
    return text;
}

QString formatWallClock(int64_t us)
{
    if (us == 0)
        return QStringLiteral("—");
    return QDateTime::fromMSecsSinceEpoch(us / 1000).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QString formatCount(int64_t n)
{
    const double a = std::fabs(double(n));
    if (a < 1000)
        return QString::number(n);
    if (a < 1e6)
        return QString::number(double(n) / 1e3, 'f', a < 1e4 ? 2 : 1) + QLatin1Char('k');
    if (a < 1e9)
        return QString::number(double(n) / 1e6, 'f', a < 1e7 ? 2 : 1) + QLatin1Char('M');
    return QString::number(double(n) / 1e9, 'f', 2) + QLatin1Char('G');
}

QString formatCost(double usd)
{
    if (std::isnan(usd))
        return QStringLiteral("—");
    return QLatin1Char('$') + QString::number(usd, 'f', std::fabs(usd) < 1 ? 4 : 2);
}

QString formatBytes(int64_t bytes)
{
    const double a = double(bytes);
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    if (a < 1024.0 * 1024)
        return QString::number(a / 1024, 'f', 1) + QStringLiteral(" KiB");
    if (a < 1024.0 * 1024 * 1024)
        return QString::number(a / (1024.0 * 1024), 'f', 1) + QStringLiteral(" MiB");
    return QString::number(a / (1024.0 * 1024 * 1024), 'f', 2) + QStringLiteral(" GiB");
}

QString stepKindLabel(formats::StepKind kind)
{
    return QString::fromLatin1(formats::stepKindName(kind)).replace(QLatin1Char('_'), QLatin1Char(' '));
}

QColor stepKindColor(formats::StepKind kind)
{
    using formats::StepKind;
    switch (kind) {
    case StepKind::ModelCall: return QColor(0x3b, 0x82, 0xf6);    // blue
    case StepKind::ToolCall: return QColor(0x10, 0xb9, 0x81);     // green
    case StepKind::ToolResult: return QColor(0x05, 0x96, 0x69);   // darker green
    case StepKind::McpCall: return QColor(0x14, 0xb8, 0xa6);      // teal
    case StepKind::HttpExchange: return QColor(0x64, 0x74, 0x8b); // slate
    case StepKind::Compaction: return QColor(0xa8, 0x55, 0xf7);   // purple
    case StepKind::Error: return errorColor();
    case StepKind::Annotation: return QColor(0xf5, 0x9e, 0x0b);   // amber
    case StepKind::ForkPoint: return QColor(0xec, 0x48, 0x99);    // pink
    }
    return QColor(Qt::gray);
}

QColor errorColor()
{
    return QColor(0xef, 0x44, 0x44);
}

} // namespace tapedeck::gui
