#include "findingsmodel.h"

#include "displayformat.h"

#include <QFont>

#include <map>

namespace tapedeck::gui {

namespace af = tapedeck::analysis;

FindingsModel::FindingsModel(ViewState *state, QObject *parent) : QAbstractTableModel(parent), m_state(state)
{
    connect(state, &ViewState::indexChanged, this, [this] {
        m_target.reset();
        m_jobs.cancel(QStringLiteral("analyze"));
        m_analyzing = false;
        setReport(std::nullopt);
        refresh();
    });
    connect(state, &ViewState::filterChanged, this, &FindingsModel::refresh);
}

FindingsModel::Target FindingsModel::targetOf(const TapeIndex &index) const
{
    const StepFilter &filter = m_state->filter();
    Target target{index.path()};
    int32_t branch = filter.branch;
    if (!branch && filter.thread)
        if (const formats::ThreadInfo *thread = index.thread(filter.thread))
            branch = int32_t(thread->branch.value);
    if (branch) {
        if (const formats::BranchInfo *info = index.branch(branch)) {
            target.branch = branch;
            target.run = int32_t(info->run.value);
        }
    } else if (filter.run) {
        target.run = filter.run;
    }
    return target;
}

void FindingsModel::refresh()
{
    auto index = m_state->index();
    if (!index)
        return;
    const Target target = targetOf(*index);
    if (m_target == target)
        return;
    m_target = target;
    m_analyzing = true;
    Q_EMIT analyzing();
    using Outcome = formats::Result<af::AnalysisReport>;
    m_jobs.start<Outcome>(
        QStringLiteral("analyze"),
        [target]() -> Outcome {
            auto reader = formats::TapeReader::open(target.path);
            if (!reader)
                return reader.error();
            af::AnalysisOptions options;
            if (target.run)
                options.run = formats::RunId{target.run};
            if (target.branch)
                options.branch = formats::BranchId{target.branch};
            return af::analyze(**reader, options);
        },
        [this](Outcome outcome) {
            m_analyzing = false;
            if (!outcome) {
                setReport(std::nullopt);
                Q_EMIT failed(QString::fromStdString(outcome.error().message));
                return;
            }
            setReport(std::move(*outcome));
            Q_EMIT analyzed(int(m_report->findings.size()));
        });
}

void FindingsModel::setReport(std::optional<af::AnalysisReport> report)
{
    beginResetModel();
    m_report = std::move(report);
    refilter();
    endResetModel();
}

void FindingsModel::setKindFilter(std::optional<af::FindingKind> kind)
{
    if (kind == m_kindFilter)
        return;
    beginResetModel();
    m_kindFilter = kind;
    refilter();
    endResetModel();
}

void FindingsModel::refilter()
{
    m_rows.clear();
    if (!m_report)
        return;
    for (size_t i = 0; i < m_report->findings.size(); ++i)
        if (!m_kindFilter || m_report->findings[i].kind == *m_kindFilter)
            m_rows.push_back(int(i));
}

const af::Finding *FindingsModel::findingAt(int row) const
{
    return row >= 0 && size_t(row) < m_rows.size() ? &m_report->findings[size_t(m_rows[size_t(row)])] : nullptr;
}

QString FindingsModel::summaryText() const
{
    if (!m_report)
        return QString();
    std::map<af::FindingKind, int> counts;
    for (const af::Finding &f : m_report->findings)
        ++counts[f.kind];
    QStringList parts;
    for (const auto &[kind, n] : counts) {
        const bool plural = n > 1 && kind != af::FindingKind::ContextGrowth;
        parts << QStringLiteral("%1 %2%3").arg(n).arg(kindLabel(kind), plural ? QStringLiteral("s") : QString());
    }
    const size_t total = m_report->findings.size();
    QString text = total == 1 ? tr("1 finding") : tr("%1 findings").arg(total);
    if (!parts.isEmpty())
        text += QStringLiteral(": ") + parts.join(QStringLiteral(", "));
    return text + tr(" (run %1, branch %2, %3 steps)")
                      .arg(m_report->run.id.value)
                      .arg(m_report->branch.id.value)
                      .arg(formatCount(m_report->stepsRead));
}

int FindingsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int FindingsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant FindingsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const af::Finding &f = *findingAt(index.row());
    switch (role) {
    case StepIndexRole: return QVariant::fromValue<qlonglong>(f.steps.empty() ? 0 : f.steps.front().value);
    case KindRole: return int(f.kind);
    case Qt::ToolTipRole: return QString::fromStdString(f.title + (f.detail.empty() ? "" : "\n" + f.detail));
    case Qt::DecorationRole: return index.column() == Kind ? QVariant(kindColor(f.kind)) : QVariant();
    case Qt::FontRole:
        if (f.severity == af::Severity::Warning && index.column() == Severity) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        return {};
    case Qt::TextAlignmentRole:
        return index.column() == Step || index.column() == Span ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                                                : QVariant();
    case Qt::DisplayRole: break;
    default: return {};
    }
    switch (index.column()) {
    case Severity: return QString::fromLatin1(af::severityName(f.severity));
    case Kind: return kindLabel(f.kind);
    case Step: return QVariant::fromValue<qlonglong>(f.steps.empty() ? 0 : f.steps.front().value);
    case At: return m_report->run.startedUs && f.startUs ? formatOffset(f.startUs - m_report->run.startedUs, 1000000)
                                                         : QString();
    case Span: return f.endUs > f.startUs ? formatDuration(f.endUs - f.startUs) : QString();
    case Title: return QString::fromStdString(f.title);
    }
    return {};
}

QVariant FindingsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Severity: return tr("Severity");
    case Kind: return tr("Kind");
    case Step: return tr("Step");
    case At: return tr("At");
    case Span: return tr("Span");
    case Title: return tr("Finding");
    }
    return {};
}

QString FindingsModel::kindLabel(af::FindingKind kind)
{
    switch (kind) {
    case af::FindingKind::Loop: return tr("loop");
    case af::FindingKind::ErrorStreak: return tr("error streak");
    case af::FindingKind::Stall: return tr("stall");
    case af::FindingKind::SlowCall: return tr("slow call");
    case af::FindingKind::ContextGrowth: return tr("context growth");
    case af::FindingKind::Compaction: return tr("compaction");
    case af::FindingKind::NearContextLimit: return tr("near context limit");
    case af::FindingKind::Plateau: return tr("plateau");
    case af::FindingKind::Regression: return tr("regression");
    case af::FindingKind::NewBest: return tr("new best");
    case af::FindingKind::EarlyStop: return tr("early stop");
    }
    return QString::fromLatin1(af::findingKindName(kind));
}

QColor FindingsModel::kindColor(af::FindingKind kind)
{
    switch (kind) {
    case af::FindingKind::Loop: return QColor(0xd9, 0x77, 0x06);
    case af::FindingKind::ErrorStreak: return errorColor();
    case af::FindingKind::Stall: return QColor(0x6b, 0x72, 0x80);
    case af::FindingKind::SlowCall: return QColor(0x9c, 0xa3, 0xaf);
    case af::FindingKind::ContextGrowth: return QColor(0x7c, 0x3a, 0xed);
    case af::FindingKind::Compaction: return QColor(0x25, 0x63, 0xeb);
    case af::FindingKind::NearContextLimit: return QColor(0xc0, 0x26, 0xd3);
    case af::FindingKind::Plateau: return QColor(0xca, 0x8a, 0x04);
    case af::FindingKind::Regression: return QColor(0xea, 0x58, 0x0c);
    case af::FindingKind::NewBest: return QColor(0x16, 0xa3, 0x4a);
    case af::FindingKind::EarlyStop: return QColor(0xb9, 0x1c, 0x1c);
    }
    return Qt::gray;
}

} // namespace tapedeck::gui
