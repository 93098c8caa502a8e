#include "viewstate.h"

#include <algorithm>

namespace tapedeck::gui {

bool StepFilter::matches(const StepRow &row) const
{
    if (!kinds.empty() && !kinds.count(row.kind))
        return false;
    if (name >= 0 && row.name != name)
        return false;
    if (thread && row.thread != thread)
        return false;
    if (branch && row.branch != branch)
        return false;
    if (run && row.run != run)
        return false;
    if (errorsOnly && !row.isError() && row.kind != formats::StepKind::Error)
        return false;
    return true;
}

bool StepFilter::isEmpty() const
{
    return *this == StepFilter{};
}

ViewState::ViewState(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<tapedeck::formats::StepIndex>();
}

void ViewState::setIndex(std::shared_ptr<const TapeIndex> index)
{
    m_index = std::move(index);
    m_current = formats::StepIndex{};
    m_filter = StepFilter{};
    m_visibleStartUs = m_index ? m_index->firstUs() : 0;
    m_visibleEndUs = m_index ? m_index->lastUs() : 0;
    m_cursorUs = m_visibleStartUs;
    Q_EMIT indexChanged();
    Q_EMIT filterChanged();
    Q_EMIT visibleRangeChanged(m_visibleStartUs, m_visibleEndUs);
    Q_EMIT cursorChanged(m_cursorUs);
    Q_EMIT currentStepChanged(m_current);
}

int64_t ViewState::currentRow() const
{
    return m_index && m_current.value ? m_index->rowOf(m_current) : -1;
}

void ViewState::setCurrentStep(formats::StepIndex step)
{
    if (step == m_current)
        return;
    m_current = step;
    Q_EMIT currentStepChanged(step);
}

void ViewState::setCursorUs(int64_t us)
{
    if (us == m_cursorUs)
        return;
    m_cursorUs = us;
    Q_EMIT cursorChanged(us);
}

void ViewState::setVisibleRange(int64_t startUs, int64_t endUs)
{
    if (endUs < startUs)
        std::swap(startUs, endUs);
    if (startUs == m_visibleStartUs && endUs == m_visibleEndUs)
        return;
    m_visibleStartUs = startUs;
    m_visibleEndUs = endUs;
    Q_EMIT visibleRangeChanged(startUs, endUs);
}

void ViewState::setFilter(const StepFilter &filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    Q_EMIT filterChanged();
}

} // namespace tapedeck::gui
