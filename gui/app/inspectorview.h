// The step inspector: a header line naming the selected step (index, kind, name, thread,
// time) over five tabs, Conversation / New in request / Response / Usage / Wire, each a
// QTextBrowser showing one section that ConversationRenderer wrote.
//
// Loading never happens on the GUI thread: on ViewState::currentStepChanged a JobRunner job
// opens its own TapeReader on the index's path, reads the step (with, for a model call, the
// thread's model call before it, and for a tool result the call it answers), renders all
// five sections and parses the visible one into a QTextDocument there; the GUI thread only
// gives the browser that document and lays out what is on screen. A second job then parses
// the other sections, so switching tabs is as quick (a tab shown before it is done is
// parsed on the spot). A long visible section is first shown from a shorter cut of it, and
// the whole takes its place once the second job has parsed it. A newer selection
// supersedes both jobs and their results are dropped, so jumping through steps quickly
// shows only the last. A step that cannot be read shows the error, naming the file and the
// step. Thinking blocks are folded to their first line until their link unfolds them.
// A model call's exact request body is read only for the Wire tab: reaching it decodes the
// thread's chain of request deltas, the slowest part of a jump. Loaded from another tab,
// the step's Wire section first says the body is being read, and a third job reads it when
// the tab is shown.
//
// Lives on the GUI thread; owns its widgets and its job runner; the ViewState must outlive
// it.
#pragma once

#include "conversationrenderer.h"
#include "jobrunner.h"
#include "viewstate.h"

#include <QWidget>

#include <array>
#include <atomic>
#include <memory>
#include <optional>

class QLabel;
class QTabWidget;
class QTextBrowser;
class QTextDocument;

namespace tapedeck::gui {

class InspectorView : public QWidget {
    Q_OBJECT
public:
    explicit InspectorView(ViewState *state, QWidget *parent = nullptr);
    ~InspectorView() override;

    // The step whose content is in the view (index value 0: none), and the HTML the
    // visible tab was given.
    formats::StepIndex shownStep() const { return m_shown.step; }
    QString currentHtml() const;
    // The visible tab's name, as showTab() takes it.
    QString currentTabName() const;
    // Thinking shown whole, or folded to its first line (the default); following the link
    // on a thinking block's title toggles it. Kept in the settings.
    bool thinkingExpanded() const;
    void setThinkingExpanded(bool expanded);

public Q_SLOTS:
    // "conversation", "new", "response", "usage" or "wire"; any other name is ignored.
    void showTab(const QString &name);

Q_SIGNALS:
    // The content for `step` is in the view: its sections, or the error that stopped its
    // load. Emitted once per load that was not superseded.
    void stepShown(tapedeck::formats::StepIndex step);

private:
    using Document = std::shared_ptr<QTextDocument>;
    using Documents = std::array<Document, kInspectorSectionCount>;

    void resetToIndex();
    void load(formats::StepIndex step);
    void present(RenderedStep rendered, int section, Document document, bool partial,
                 bool requestBodyOmitted);
    void loadRequestBody();
    void prepareOtherDocuments();
    void cancelDocuments();
    QTextBrowser *visibleBrowser() const;
    void showEverywhere(const QString &html);
    void fillVisibleTab();
    void setHeader(formats::StepIndex step, bool loading);

    ViewState *m_state;
    JobRunner *m_jobs;
    JobRunner *m_prefetch; // the documents of the sections not on screen
    QLabel *m_header;
    QTabWidget *m_tabs;
    std::array<QTextBrowser *, kInspectorSectionCount> m_browsers{};
    RenderLimits m_limits;
    // The scroll position to restore when the step being loaded again is shown.
    std::optional<int> m_keptScroll;
    RenderedStep m_shown;
    // The parsed document of each section of m_shown, once there is one.
    Documents m_documents;
    // The section whose document holds only the first part of its HTML, until the whole
    // is parsed (-1: none).
    int m_partialSection = -1;
    // m_shown's Wire section was rendered without the request body, which is read when
    // the tab is shown.
    bool m_requestBodyPending = false;
    // Set when the running documents job is superseded; each job has its own.
    std::shared_ptr<std::atomic<bool>> m_documentsCancelled = std::make_shared<std::atomic<bool>>(false);
    // What each browser shows, kept alive here: a browser does not own a document it is
    // given.
    Documents m_displayed;
};

} // namespace tapedeck::gui
