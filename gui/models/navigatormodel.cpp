#include "navigatormodel.h"

#include "displayformat.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace tapedeck::gui {

namespace {

struct Tally {
    int64_t steps = 0;
    int64_t errors = 0;
    int64_t tokens = 0;
    double cost = 0;
    bool costKnown = false;
    int64_t firstUs = 0;
    int64_t lastUs = 0;

    void add(const StepRow &r)
    {
        ++steps;
        errors += r.isError() ? 1 : 0;
        tokens += r.inputTokens + r.outputTokens + r.cacheReadTokens;
        if (r.hasCost()) {
            cost += r.costUsd;
            costKnown = true;
        }
        if (r.startedUs > 0)
            firstUs = firstUs ? std::min(firstUs, r.startedUs) : r.startedUs;
        lastUs = std::max({lastUs, r.endedUs, r.startedUs});
    }
};

QList<QStandardItem *> rowItems(const QString &name, const Tally &t, const QString &outcome)
{
    QList<QStandardItem *> items;
    items << new QStandardItem(name) << new QStandardItem(QString::number(t.steps))
          << new QStandardItem(t.lastUs > t.firstUs ? formatDuration(t.lastUs - t.firstUs) : QString())
          << new QStandardItem(formatCount(t.tokens))
          << new QStandardItem(t.costKnown ? formatCost(t.cost) : QString())
          << new QStandardItem(outcome);
    for (QStandardItem *item : items)
        item->setEditable(false);
    for (int c = NavigatorModel::Steps; c <= NavigatorModel::Cost; ++c)
        items[c]->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    if (t.errors)
        items[NavigatorModel::Steps]->setToolTip(QObject::tr("%1 steps failed").arg(t.errors));
    return items;
}

void tag(QStandardItem *item, NavigatorModel::Level level, int32_t id, int32_t run, int32_t branch)
{
    item->setData(int(level), NavigatorModel::LevelRole);
    item->setData(id, NavigatorModel::IdRole);
    item->setData(run, NavigatorModel::RunRole);
    item->setData(branch, NavigatorModel::BranchRole);
}

} // namespace

NavigatorModel::NavigatorModel(ViewState *state, QObject *parent)
    : QStandardItemModel(parent), m_state(state)
{
    connect(state, &ViewState::indexChanged, this, &NavigatorModel::rebuild);
    rebuild();
}

void NavigatorModel::rebuild()
{
    clear();
    setHorizontalHeaderLabels({tr("Run / branch / thread"), tr("Steps"), tr("Duration"), tr("Tokens"),
                               tr("Cost"), tr("Outcome")});
    auto index = m_state->index();
    if (!index)
        return;
    std::map<int32_t, Tally> byRun, byBranch, byThread;
    for (const StepRow &r : index->rows()) {
        byRun[r.run].add(r);
        byBranch[r.branch].add(r);
        byThread[r.thread].add(r);
    }
    const formats::TapeSummary &summary = index->summary();
    for (const formats::RunInfo &run : summary.runs) {
        const int32_t runId = int32_t(run.id.value);
        QString name = QString::fromStdString(run.name.empty() ? "run " + std::to_string(runId) : run.name);
        if (!run.agent.empty())
            name += QStringLiteral(" (%1)").arg(QString::fromStdString(run.agent));
        QString outcome = QString::fromStdString(run.outcome);
        if (run.endedUs == 0 && outcome.isEmpty())
            outcome = tr("recording");
        QList<QStandardItem *> runRow = rowItems(name, byRun[runId], outcome);
        tag(runRow[0], Level::Run, runId, runId, 0);
        runRow[0]->setToolTip(QString::fromStdString(
            std::accumulate(run.command.begin(), run.command.end(), std::string(),
                            [](std::string a, const std::string &b) { return a.empty() ? b : a + ' ' + b; })));
        // Each fork under the branch it was forked from: the run's original at the top.
        std::map<int32_t, QStandardItem *> branchItems;
        for (const formats::BranchInfo &branch : summary.branches) {
            if (branch.run != run.id)
                continue;
            const int32_t branchId = int32_t(branch.id.value);
            const QString edit = QString::fromStdString(branch.description);
            QString branchName;
            QString branchOutcome;
            if (branch.parent) {
                branchName = branch.forkStep ? tr("#%1 after step %2").arg(branchId).arg(branch.forkStep->value)
                                             : tr("#%1 from the start").arg(branchId);
                if (!edit.isEmpty())
                    branchName += QStringLiteral(": ") + edit;
                branchOutcome = QString::fromStdString(index->branchOutcome(branchId));
                if (branchOutcome.isEmpty())
                    branchOutcome = tr("recording");
            } else {
                branchName = tr("#%1 as recorded").arg(branchId);
                if (!edit.isEmpty() && edit != QLatin1String("recorded")) // the writer's default
                    branchName += QStringLiteral(": ") + edit;
            }
            QList<QStandardItem *> branchRow = rowItems(branchName, byBranch[branchId], branchOutcome);
            tag(branchRow[0], Level::Branch, branchId, runId, branchId);
            branchRow[0]->setData(branch.parent ? int32_t(branch.parent->value) : 0, ParentBranchRole);
            branchRow[0]->setToolTip(branchName + (branchOutcome.isEmpty() ? QString() : QStringLiteral("\n") + branchOutcome));
            for (const formats::ThreadInfo &thread : summary.threads) {
                if (thread.branch != branch.id)
                    continue;
                const int32_t threadId = int32_t(thread.id.value);
                QList<QStandardItem *> threadRow = rowItems(
                    QString::fromStdString(thread.label.empty() ? "thread " + std::to_string(threadId) : thread.label),
                    byThread[threadId], QString());
                tag(threadRow[0], Level::Thread, threadId, runId, branchId);
                branchRow[0]->appendRow(threadRow);
            }
            // Branches come in id order and a fork is made after its parent, so the parent's
            // item is there already; one whose parent is missing goes under the run.
            auto parentItem = branch.parent ? branchItems.find(int32_t(branch.parent->value)) : branchItems.end();
            (parentItem != branchItems.end() ? parentItem->second : runRow[0])->appendRow(branchRow);
            branchItems[branchId] = branchRow[0];
        }
        appendRow(runRow);
    }
    Q_EMIT rebuilt();
}

StepFilter NavigatorModel::filterFor(const QModelIndex &item) const
{
    StepFilter filter;
    const QModelIndex first = item.siblingAtColumn(0);
    switch (Level(first.data(LevelRole).toInt())) {
    case Level::Run: filter.run = first.data(IdRole).toInt(); break;
    case Level::Branch: filter.branch = first.data(IdRole).toInt(); break;
    case Level::Thread: filter.thread = first.data(IdRole).toInt(); break;
    }
    return filter;
}

} // namespace tapedeck::gui
