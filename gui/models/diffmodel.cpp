#include "diffmodel.h"

#include "displayformat.h"

#include <QFont>
#include <QSet>

namespace tapedeck::gui {

namespace af = tapedeck::analysis;
using nlohmann::json;

namespace {

QString text(const std::string &s)
{
    return QString::fromStdString(s);
}

// A lone step's main part, for rows that have a step on one side only.
af::FieldDifference lonePart(const formats::Step &step)
{
    af::FieldDifference part;
    auto readable = [](const json &value) { return value.is_string() ? value.get<std::string>() : value.dump(2); };
    switch (step.kind) {
    case formats::StepKind::ModelCall: part.field = "response"; part.a = readable(step.payload); break;
    case formats::StepKind::ToolCall: part.field = "tool arguments"; part.a = readable(step.payload); break;
    case formats::StepKind::ToolResult:
        part.field = "tool output";
        part.a = readable(step.payload.is_object() ? step.payload.value("output", json()) : step.payload);
        break;
    default: part.field = "payload"; part.a = readable(step.payload); break;
    }
    return part;
}

// Which lines of `lines` the other side does not have as many times: a multiset
// difference, enough to tint what changed without an alignment of the lines.
std::vector<bool> linesNotIn(const QStringList &lines, const QStringList &other)
{
    QHash<QString, int> available;
    for (const QString &line : other)
        ++available[line];
    std::vector<bool> changed;
    changed.reserve(size_t(lines.size()));
    for (const QString &line : lines) {
        int &n = available[line];
        changed.push_back(n == 0);
        if (n > 0)
            --n;
    }
    return changed;
}

DiffModel::PairField pairFieldOf(const af::FieldDifference &d)
{
    DiffModel::PairField f{text(d.field), text(d.a), text(d.b), {}, {}};
    const QStringList a = f.a.isEmpty() ? QStringList() : f.a.split(QLatin1Char('\n'));
    const QStringList b = f.b.isEmpty() ? QStringList() : f.b.split(QLatin1Char('\n'));
    f.changedA = linesNotIn(a, b);
    f.changedB = linesNotIn(b, a);
    return f;
}

QString signedCount(int64_t n)
{
    return (n > 0 ? QStringLiteral("+") : n < 0 ? QStringLiteral("−") : QString()) + formatCount(std::llabs(n));
}

} // namespace

DiffModel::DiffModel(QObject *parent) : QAbstractTableModel(parent) {}

void DiffModel::load(const af::SideSpec &a, const af::SideSpec &b)
{
    m_specA = a;
    m_specB = b;
    m_loading = true;
    m_jobs.cancel(QStringLiteral("pair"));
    beginResetModel();
    m_report.reset();
    m_pairRow = -1;
    m_pairFields.clear();
    endResetModel();
    Q_EMIT loading();
    using Outcome = formats::Result<af::DiffReport>;
    m_jobs.start<Outcome>(
        QStringLiteral("diff"),
        [a, b]() -> Outcome {
            auto readerA = formats::TapeReader::open(a.path);
            if (!readerA)
                return formats::Error{readerA.error().code, "side A (" + a.text + "): " + readerA.error().message};
            auto readerB = formats::TapeReader::open(b.path);
            if (!readerB)
                return formats::Error{readerB.error().code, "side B (" + b.text + "): " + readerB.error().message};
            auto sideA = af::loadSide(**readerA, a);
            if (!sideA)
                return formats::Error{sideA.error().code, "side A (" + a.text + "): " + sideA.error().message};
            auto sideB = af::loadSide(**readerB, b);
            if (!sideB)
                return formats::Error{sideB.error().code, "side B (" + b.text + "): " + sideB.error().message};
            af::DiffOptions options;
            options.maxPairsCompared = 0; // the view reads the pair the user picks
            return af::diffSides(**readerA, std::move(*sideA), **readerB, std::move(*sideB), options);
        },
        [this](Outcome outcome) {
            m_loading = false;
            if (!outcome) {
                Q_EMIT failed(text(outcome.error().message));
                return;
            }
            beginResetModel();
            m_report = std::move(*outcome);
            m_specA = m_report->a.spec;
            m_specB = m_report->b.spec;
            endResetModel();
            Q_EMIT loaded();
        });
}

int DiffModel::firstDivergenceRow() const
{
    return m_report && m_report->alignment.firstDivergence ? int(*m_report->alignment.firstDivergence) : -1;
}

int64_t DiffModel::count(af::RowKind kind) const
{
    if (!m_report)
        return 0;
    const af::Alignment &al = m_report->alignment;
    switch (kind) {
    case af::RowKind::Same: return al.same;
    case af::RowKind::Changed: return al.changed;
    case af::RowKind::Removed: return al.removed;
    case af::RowKind::Inserted: return al.inserted;
    }
    return 0;
}

af::SideTotals DiffModel::totals(int side) const
{
    return m_report ? (side == 0 ? m_report->totalsA : m_report->totalsB) : af::SideTotals{};
}

QString DiffModel::countsText() const
{
    if (!m_report)
        return QString();
    if (firstDivergenceRow() < 0)
        return tr("no differences: %n step(s) the same", nullptr, int(count(af::RowKind::Same)));
    return tr("%1 same, %2 changed, %3 removed, %4 inserted")
        .arg(count(af::RowKind::Same))
        .arg(count(af::RowKind::Changed))
        .arg(count(af::RowKind::Removed))
        .arg(count(af::RowKind::Inserted));
}

QString DiffModel::totalsDeltaText() const
{
    if (!m_report)
        return QString();
    const af::SideTotals a = totals(0), b = totals(1);
    const int64_t tokens = (b.usage.inputTokens + b.usage.outputTokens + b.usage.cacheReadTokens) -
                           (a.usage.inputTokens + a.usage.outputTokens + a.usage.cacheReadTokens);
    const double cost = b.costUsd - a.costUsd;
    const int64_t us = b.durationUs - a.durationUs;
    return tr("B − A: steps %1, tokens %2, cost %3%4, time %5%6")
        .arg(signedCount(b.steps - a.steps), signedCount(tokens), cost < 0 ? QStringLiteral("−") : QStringLiteral("+"),
             formatCost(std::abs(cost)), us < 0 ? QStringLiteral("−") : QStringLiteral("+"),
             formatDuration(std::llabs(us)));
}

const af::AlignedRow *DiffModel::rowAt(int row) const
{
    return m_report && row >= 0 && size_t(row) < m_report->alignment.rows.size() ? &m_report->alignment.rows[size_t(row)]
                                                                                 : nullptr;
}

const formats::StepSummary *DiffModel::summaryAt(int row, int side) const
{
    const af::AlignedRow *r = rowAt(row);
    if (!r)
        return nullptr;
    const std::optional<size_t> &at = side == 0 ? r->a : r->b;
    const af::Side &s = side == 0 ? m_report->a : m_report->b;
    return at && *at < s.steps.size() ? &s.steps[*at] : nullptr;
}

void DiffModel::loadPair(int row)
{
    const formats::StepSummary *a = summaryAt(row, 0);
    const formats::StepSummary *b = summaryAt(row, 1);
    if (!a && !b)
        return;
    m_pairRow = row;
    m_pairFields.clear();
    const std::string pathA = m_report->a.spec.path, pathB = m_report->b.spec.path;
    const std::optional<formats::StepIndex> stepA = a ? std::optional(a->index) : std::nullopt;
    const std::optional<formats::StepIndex> stepB = b ? std::optional(b->index) : std::nullopt;
    using Outcome = formats::Result<std::vector<af::FieldDifference>>;
    m_jobs.start<Outcome>(
        QStringLiteral("pair"),
        [pathA, pathB, stepA, stepB]() -> Outcome {
            auto readerA = formats::TapeReader::open(pathA);
            if (!readerA)
                return readerA.error();
            auto readerB = formats::TapeReader::open(pathB);
            if (!readerB)
                return readerB.error();
            if (stepA && stepB)
                return af::compareSteps(**readerA, *stepA, **readerB, *stepB);
            // One side only: its main part, on its own side.
            const formats::TapeReader &reader = stepA ? **readerA : **readerB;
            auto step = reader.step(stepA ? *stepA : *stepB, formats::TapeReader::Detail::WithoutMessages);
            if (!step)
                return step.error();
            af::FieldDifference part = lonePart(*step);
            if (!stepA)
                std::swap(part.a, part.b);
            return std::vector<af::FieldDifference>{part};
        },
        [this, row](Outcome outcome) {
            if (!outcome) {
                Q_EMIT pairFailed(row, text(outcome.error().message));
                return;
            }
            for (const af::FieldDifference &d : *outcome)
                m_pairFields.push_back(pairFieldOf(d));
            Q_EMIT pairLoaded(row);
        });
}

int DiffModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() || !m_report ? 0 : int(m_report->alignment.rows.size());
}

int DiffModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DiffModel::cellText(const af::AlignedRow &row, int column) const
{
    if (column == Mark)
        return kindMark(row.kind);
    const int side = column < Mark ? 0 : 1;
    const std::optional<size_t> &at = side == 0 ? row.a : row.b;
    if (!at)
        return QString();
    const af::Side &s = side == 0 ? m_report->a : m_report->b;
    const formats::StepSummary &step = s.steps[*at];
    switch (side == 0 ? column : column - (StepB - StepA)) {
    case StepA: return QVariant::fromValue<qlonglong>(step.index.value);
    case WhatA: {
        QString what = stepKindLabel(step.kind);
        if (!step.name.empty())
            what += QStringLiteral(" · ") + text(step.name);
        if (step.status == formats::StepStatus::Error)
            what += tr(" (failed)");
        return what;
    }
    case TokensA: {
        const int64_t tokens = step.usage.inputTokens + step.usage.outputTokens + step.usage.cacheReadTokens;
        return tokens ? formatCount(tokens) : QString();
    }
    case TimeA: return step.endedUs > step.startedUs ? formatDuration(step.endedUs - step.startedUs) : QString();
    }
    return {};
}

QVariant DiffModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const af::AlignedRow &row = m_report->alignment.rows[size_t(index.row())];
    const bool first = index.row() == firstDivergenceRow();
    switch (role) {
    case Qt::DisplayRole: return cellText(row, index.column());
    case RowKindRole: return int(row.kind);
    case StepARole: return QVariant::fromValue<qlonglong>(row.a ? m_report->a.steps[*row.a].index.value : 0);
    case StepBRole: return QVariant::fromValue<qlonglong>(row.b ? m_report->b.steps[*row.b].index.value : 0);
    case FirstDivergenceRole: return first;
    case Qt::BackgroundRole:
        if (row.kind == af::RowKind::Same)
            return {};
        else {
            QColor tint = kindColor(row.kind);
            tint.setAlpha(first ? 110 : 55);
            return tint;
        }
    case Qt::FontRole:
        if (first || index.column() == Mark) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    case Qt::ToolTipRole:
        return first ? tr("The first divergence: %1").arg(text(af::rowKindName(row.kind))) : text(af::rowKindName(row.kind));
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case StepA: case TokensA: case TimeA: case StepB: case TokensB: case TimeB:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        case Mark: return QVariant(Qt::AlignCenter);
        }
        return {};
    }
    return {};
}

QVariant DiffModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case StepA: return tr("A step");
    case WhatA: return tr("A");
    case TokensA: case TokensB: return tr("Tokens");
    case TimeA: case TimeB: return tr("Time");
    case Mark: return QString();
    case StepB: return tr("B step");
    case WhatB: return tr("B");
    }
    return {};
}

QString DiffModel::kindMark(af::RowKind kind)
{
    switch (kind) {
    case af::RowKind::Same: return QStringLiteral("=");
    case af::RowKind::Changed: return QStringLiteral("≠");
    case af::RowKind::Removed: return QStringLiteral("−");
    case af::RowKind::Inserted: return QStringLiteral("+");
    }
    return QString();
}

QColor DiffModel::kindColor(af::RowKind kind)
{
    switch (kind) {
    case af::RowKind::Same: return QColor(0xd1, 0xd5, 0xdb);
    case af::RowKind::Changed: return QColor(0xf5, 0x9e, 0x0b);
    case af::RowKind::Removed: return QColor(0xef, 0x44, 0x44);
    case af::RowKind::Inserted: return QColor(0x22, 0xc5, 0x5e);
    }
    return Qt::gray;
}

} // namespace tapedeck::gui
