// The one object that owns what every view shows: the open tape's index, the selected
// step, the playback cursor, the visible time window and the step filter. Views read it
// and ask it to change; it emits one signal per change (and none when nothing changed), so
// selecting in one view moves the others and no view needs to know another.
// Lives on the GUI thread.
#pragma once

#include "tapeindex.h"

#include <QObject>

#include <memory>
#include <optional>
#include <set>

namespace tapedeck::gui {

// Which steps the table (and the dimming in the timeline) shows. Empty fields match all.
struct StepFilter {
    std::set<formats::StepKind> kinds;
    int32_t name = -1;                 // an interned tool / model name
    int32_t thread = 0;
    int32_t branch = 0;
    int32_t run = 0;
    bool errorsOnly = false;

    bool matches(const StepRow &row) const;
    bool isEmpty() const;
    bool operator==(const StepFilter &) const = default;
};

class ViewState : public QObject {
    Q_OBJECT
public:
    explicit ViewState(QObject *parent = nullptr);

    std::shared_ptr<const TapeIndex> index() const { return m_index; }
    // A new index resets the selection, cursor, window (to the whole run) and filter.
    void setIndex(std::shared_ptr<const TapeIndex> index);

    // The selected step; index value 0 when none.
    formats::StepIndex currentStep() const { return m_current; }
    // Its row in index(), or -1.
    int64_t currentRow() const;
    void setCurrentStep(formats::StepIndex step);

    // The playback cursor (a time in the run). Moving it does not change the selection:
    // the playback controller selects the step under it.
    int64_t cursorUs() const { return m_cursorUs; }
    void setCursorUs(int64_t us);

    // The time window the timeline shows and the metrics plots follow.
    int64_t visibleStartUs() const { return m_visibleStartUs; }
    int64_t visibleEndUs() const { return m_visibleEndUs; }
    void setVisibleRange(int64_t startUs, int64_t endUs);

    const StepFilter &filter() const { return m_filter; }
    void setFilter(const StepFilter &filter);

Q_SIGNALS:
    void indexChanged();
    void currentStepChanged(tapedeck::formats::StepIndex step);
    void cursorChanged(qint64 us);
    void visibleRangeChanged(qint64 startUs, qint64 endUs);
    void filterChanged();

private:
    std::shared_ptr<const TapeIndex> m_index;
    formats::StepIndex m_current;
    int64_t m_cursorUs = 0;
    int64_t m_visibleStartUs = 0;
    int64_t m_visibleEndUs = 0;
    StepFilter m_filter;
};

} // namespace tapedeck::gui

Q_DECLARE_METATYPE(tapedeck::formats::StepIndex)
