#include "inspectorview.h"

#include "displayformat.h"

#include <QLabel>
#include <QScrollBar>
#include <QSettings>
#include <QTabWidget>
#include <QTextBrowser>
#include <QTextDocument>
#include <QThread>
#include <QUrl>
#include <QVBoxLayout>

#include <atomic>
#include <optional>
#include <utility>
#include <vector>

namespace tapedeck::gui {

using formats::StepIndex;
using formats::StepKind;

namespace {

// The step's load and render, then the parsing of its hidden sections.
const char *const kStepJob = "inspector-step";
const char *const kDocumentsJob = "inspector-documents";
// The exact request body, for the Wire tab of a step loaded from another tab.
const char *const kRequestBodyJob = "inspector-request-body";
// Whether thinking is shown whole, remembered between sessions.
const char *const kThinkingExpandedKey = "inspector/thinkingExpanded";

QString tabLabel(InspectorSection section, bool modelCall)
{
    switch (section) {
    case InspectorSection::Conversation:
        return modelCall ? InspectorView::tr("Conversation") : InspectorView::tr("Details");
    case InspectorSection::NewInRequest:
        return InspectorView::tr("New in request");
    case InspectorSection::Response:
        return InspectorView::tr("Response");
    case InspectorSection::Usage:
        return InspectorView::tr("Usage");
    case InspectorSection::Wire:
        return InspectorView::tr("Wire");
    }
    return {};
}

RenderedStep everySection(StepIndex step, const QString &html)
{
    RenderedStep out;
    out.step = step;
    out.html.fill(html);
    return out;
}

// A parsed document for a browser, made on any thread and handed to the GUI thread. It dies
// on the thread it lives on, whichever thread lets go of it last (a superseded job's result
// is dropped wherever the runner drops it).
std::shared_ptr<QTextDocument> makeDocument(const QString &html, const QFont &font)
{
    auto *document = new QTextDocument;
    document->setUndoRedoEnabled(false);
    document->setDefaultFont(font);
    document->setHtml(html);
    document->moveToThread(QCoreApplication::instance()->thread());
    return std::shared_ptr<QTextDocument>(document, [](QTextDocument *d) {
        if (d->thread() == QThread::currentThread())
            delete d;
        else
            d->deleteLater();
    });
}

// What the inspector shows of a step, as read from the tape: the step, the thread's model
// call before it and the call a tool result answers, or the page that says why not.
struct StepContent {
    std::optional<formats::Step> current, previous, toolCall;
    int64_t runStartUs = 0;
    std::optional<RenderedStep> failure;
    QString previousProblem; // why `previous` could not be read
};

using Detail = formats::TapeReader::Detail;

// Runs on the job's thread. Reads the step at `detail` (WithoutRequestBody leaves a model
// call's exact request body out: its Wire section says it is being read) and, with
// `withContext`, the steps the other sections show beside it.
StepContent readStep(const std::shared_ptr<const TapeIndex> &index, StepIndex step,
                     Detail detail, bool withContext = true)
{
    StepContent content;
    const QString file = QString::fromStdString(index->path());
    const auto failed = [&](const QString &what, const formats::Error &error) {
        content.failure = everySection(
            step, ConversationRenderer::notice(
                      InspectorView::tr("Step %1 could not be read").arg(step.value),
                      what.arg(step.value).arg(file, QString::fromStdString(error.message)), true));
        return content;
    };
    auto reader = formats::TapeReader::open(index->path());
    if (!reader)
        return failed(InspectorView::tr("Step %1: %2 could not be opened: %3"), reader.error());

    const int64_t row = index->rowOf(step);
    content.runStartUs = index->firstUs();
    if (row >= 0) {
        if (const formats::RunInfo *run = index->run(index->row(row).run); run && run->startedUs)
            content.runStartUs = run->startedUs;
    }
    // The thread's model call before this one, which "new in this request" compares with.
    // It is read first, without its exact body: the reader keeps the messages it parsed,
    // and the request after it resends nearly all of them.
    if (withContext && row >= 0 && index->row(row).kind == StepKind::ModelCall) {
        if (const int64_t before = index->previousModelCallInThread(row); before >= 0) {
            const StepIndex previousStep = index->row(before).index;
            if (auto read = (*reader)->step(previousStep, Detail::WithoutRequestBody))
                content.previous = std::move(*read);
            else
                content.previousProblem =
                    InspectorView::tr("The thread's previous model call, step %1 of %2, could "
                                      "not be read: %3")
                        .arg(previousStep.value)
                        .arg(file, QString::fromStdString(read.error().message));
        }
    }
    auto current = (*reader)->step(step, detail);
    if (!current)
        return failed(InspectorView::tr("Step %1 of %2: %3"), current.error());
    content.current = std::move(*current);
    // The call a tool result answers, for the arguments it was given; not worth an error
    // page when it cannot be read, as the result itself could.
    if (withContext && content.current->kind == StepKind::ToolResult && content.current->parent) {
        if (auto read = (*reader)->step(*content.current->parent, Detail::WithoutRequestBody))
            content.toolCall = std::move(*read);
    }
    return content;
}

// One section of the step, as renderStep() renders it among the others.
QString renderSection(const StepContent &content, const RenderLimits &limits, InspectorSection section)
{
    if (content.failure)
        return content.failure->section(section);
    const ConversationRenderer renderer(limits, content.runStartUs);
    const formats::Step &step = *content.current;
    switch (section) {
    case InspectorSection::Conversation:
        return renderer.conversation(step, content.toolCall ? &*content.toolCall : nullptr);
    case InspectorSection::NewInRequest:
        if (!content.previousProblem.isEmpty())
            return ConversationRenderer::notice(InspectorView::tr("New in this request"),
                                                content.previousProblem, true);
        return renderer.newInRequest(step, content.previous ? &*content.previous : nullptr);
    case InspectorSection::Response:
        return renderer.response(step);
    case InspectorSection::Usage:
        return renderer.usage(step);
    case InspectorSection::Wire:
        return renderer.wire(step);
    }
    return {};
}

// Every section of the step: the first three share one reading of its request.
RenderedStep renderStep(const StepContent &content, const RenderLimits &limits)
{
    if (content.failure)
        return *content.failure;
    const auto ptr = [](const std::optional<formats::Step> &s) { return s ? &*s : nullptr; };
    RenderedStep out = ConversationRenderer(limits, content.runStartUs)
                           .render(*content.current, ptr(content.previous), ptr(content.toolCall));
    if (!content.previousProblem.isEmpty()) {
        out.html[size_t(InspectorSection::NewInRequest)] =
            renderSection(content, limits, InspectorSection::NewInRequest);
    }
    return out;
}

// The first document of a step is parsed from its visible section cut to this many
// characters when the section is longer: parsing HTML into a QTextDocument costs about
// a millisecond per 7 KB, and the browser then lays the document out on the GUI thread,
// so a long conversation's whole section would keep the step off the screen for tens of
// milliseconds. 16 KB is some 200 lines, more than a tall inspector shows; a 64 KB cut
// took 8-20 ms to parse and 6-12 ms to lay out on the kernel session's long requests.
// The whole section is parsed next, in the background, and takes the first one's place.
constexpr qsizetype kFirstPaintSectionBytes = 16 * 1024;

// What the step job hands back: every section's HTML, and the one that was visible when
// the job started, parsed; `partial` when that document was parsed from a shorter cut.
struct LoadedStep {
    RenderedStep rendered;
    int section = 0;
    std::shared_ptr<QTextDocument> document;
    bool partial = false;
    bool requestBodyOmitted = false;
};

// The Wire section of a step read whole, parsed, for the tab that was waiting for it.
struct LoadedWire {
    StepIndex step;
    QString html;
    std::shared_ptr<QTextDocument> document;
};

} // namespace

InspectorView::InspectorView(ViewState *state, QWidget *parent)
    : QWidget(parent), m_state(state), m_jobs(new JobRunner(this)),
      m_prefetch(new JobRunner(this, JobRunner::Lane::Prefetch)), m_header(new QLabel(this)),
      m_tabs(new QTabWidget(this))
{
    m_header->setTextFormat(Qt::RichText);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // A long model or tool name must not make the whole window wider.
    m_header->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_header->setContentsMargins(4, 2, 4, 2);

    m_limits.thinkingExpanded = QSettings().value(kThinkingExpandedKey, false).toBool();
    for (int i = 0; i < kInspectorSectionCount; ++i) {
        auto *browser = new QTextBrowser(m_tabs);
        // Links are followed here: a section's own anchors, and the one that folds thinking.
        browser->setOpenLinks(false);
        connect(browser, &QTextBrowser::anchorClicked, this, [this, browser](const QUrl &url) {
            if (url.toString() == QLatin1String(kToggleThinkingLink))
                setThinkingExpanded(!m_limits.thinkingExpanded);
            else if (url.scheme().isEmpty() && url.hasFragment())
                browser->scrollToAnchor(url.fragment());
        });
        m_browsers[size_t(i)] = browser;
        m_tabs->addTab(browser, tabLabel(InspectorSection(i), true));
    }
    m_tabs->setDocumentMode(true);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_header);
    layout->addWidget(m_tabs, 1);

    connect(m_tabs, &QTabWidget::currentChanged, this, &InspectorView::fillVisibleTab);
    connect(m_state, &ViewState::indexChanged, this, &InspectorView::resetToIndex);
    connect(m_state, &ViewState::currentStepChanged, this, &InspectorView::load);
    resetToIndex();
    if (m_state->currentStep().value)
        load(m_state->currentStep());
}

InspectorView::~InspectorView()
{
    *m_documentsCancelled = true; // a prefetch still running stops at its next document
    // The browsers outlive this body (QWidget deletes its children later) and must not be
    // left pointing at the documents released with m_displayed.
    for (QTextBrowser *browser : m_browsers)
        browser->setDocument(nullptr);
}

QString InspectorView::currentHtml() const
{
    const int tab = m_tabs->currentIndex();
    return tab >= 0 ? m_shown.html[size_t(tab)] : QString();
}

QString InspectorView::currentTabName() const
{
    return inspectorSectionName(InspectorSection(std::max(0, m_tabs->currentIndex())));
}

void InspectorView::showTab(const QString &name)
{
    if (auto section = inspectorSectionFromName(name))
        m_tabs->setCurrentIndex(int(*section));
}

void InspectorView::resetToIndex()
{
    setHeader(StepIndex(), false);
    showEverywhere(ConversationRenderer::notice(
        tr("No step selected"),
        m_state->index() ? tr("Select a step in the table or the timeline to inspect it.")
                         : tr("Open a tape to inspect its steps.")));
}

void InspectorView::load(StepIndex step)
{
    const std::shared_ptr<const TapeIndex> index = m_state->index();
    if (!index || step.value == 0) {
        resetToIndex();
        return;
    }
    cancelDocuments();
    setHeader(step, true);
    const int section = std::max(0, m_tabs->currentIndex());
    const QFont font = m_browsers[size_t(section)]->font();
    const Detail detail =
        section == int(InspectorSection::Wire) ? Detail::Everything : Detail::WithoutRequestBody;
    m_jobs->start<LoadedStep>(
        QLatin1String(kStepJob),
        [index, step, section, font, detail, limits = m_limits] {
            const StepContent content = readStep(index, step, detail);
            LoadedStep out;
            out.requestBodyOmitted = content.current && content.current->wire &&
                                     content.current->wire->omittedRequestBodySize;
            out.rendered = renderStep(content, limits);
            out.section = section;
            const QString &html = out.rendered.html[size_t(section)];
            out.partial = html.size() > kFirstPaintSectionBytes;
            if (out.partial) {
                RenderLimits first = limits;
                first.sectionBytes = kFirstPaintSectionBytes;
                first.firstPart = true;
                out.document = makeDocument(renderSection(content, first, InspectorSection(section)), font);
            } else {
                out.document = makeDocument(html, font);
            }
            return out;
        },
        [this](LoadedStep loaded) {
            present(std::move(loaded.rendered), loaded.section, std::move(loaded.document),
                    loaded.partial, loaded.requestBodyOmitted);
        });
}

void InspectorView::present(RenderedStep rendered, int section, Document document, bool partial,
                            bool requestBodyOmitted)
{
    const StepIndex step = rendered.step;
    m_shown = std::move(rendered);
    m_documents = {};
    m_documents[size_t(section)] = std::move(document);
    m_partialSection = partial ? section : -1;
    m_requestBodyPending = requestBodyOmitted;
    setHeader(step, false);
    fillVisibleTab();
    if (m_keptScroll) {
        visibleBrowser()->verticalScrollBar()->setValue(*m_keptScroll);
        m_keptScroll.reset();
    }
    Q_EMIT stepShown(step);
    prepareOtherDocuments();
}

QTextBrowser *InspectorView::visibleBrowser() const
{
    return m_browsers[size_t(std::max(0, m_tabs->currentIndex()))];
}

bool InspectorView::thinkingExpanded() const
{
    return m_limits.thinkingExpanded;
}

void InspectorView::setThinkingExpanded(bool expanded)
{
    if (expanded == m_limits.thinkingExpanded)
        return;
    m_limits.thinkingExpanded = expanded;
    QSettings().setValue(kThinkingExpandedKey, expanded);
    const StepIndex step = m_state->currentStep();
    if (!step.value)
        return;
    // The step is rendered again; the reader stays where they were, as near as the new
    // length allows, when it is the step on screen.
    if (step == m_shown.step)
        m_keptScroll = visibleBrowser()->verticalScrollBar()->value();
    load(step);
}

void InspectorView::prepareOtherDocuments()
{
    std::array<QString, kInspectorSectionCount> wanted;
    for (int i = 0; i < kInspectorSectionCount; ++i) {
        if (!m_documents[size_t(i)] || i == m_partialSection)
            wanted[size_t(i)] = m_shown.html[size_t(i)];
    }
    const QFont font = m_browsers[0]->font();
    // The visible section's whole document first, when it was shown from a cut.
    std::vector<size_t> order;
    if (m_partialSection >= 0)
        order.push_back(size_t(m_partialSection));
    for (size_t i = 0; i < wanted.size(); ++i) {
        if (int(i) != m_partialSection)
            order.push_back(i);
    }
    m_prefetch->start<Documents>(
        QLatin1String(kDocumentsJob),
        [wanted, font, order, cancelled = m_documentsCancelled] {
            Documents out;
            for (size_t i : order) {
                if (*cancelled)
                    break;
                if (!wanted[i].isEmpty())
                    out[i] = makeDocument(wanted[i], font);
            }
            return out;
        },
        [this](Documents parsed) {
            const int partial = std::exchange(m_partialSection, -1);
            for (size_t i = 0; i < parsed.size(); ++i) {
                if (parsed[i] && (!m_documents[i] || int(i) == partial))
                    m_documents[i] = std::move(parsed[i]);
            }
            if (partial >= 0 && partial == m_tabs->currentIndex()) {
                // The whole section takes the place of its first part, where the reader is.
                QScrollBar *bar = visibleBrowser()->verticalScrollBar();
                const int at = bar->value();
                fillVisibleTab();
                bar->setValue(at);
            }
        });
}

void InspectorView::loadRequestBody()
{
    const std::shared_ptr<const TapeIndex> index = m_state->index();
    if (!index)
        return;
    m_requestBodyPending = false;
    const StepIndex step = m_shown.step;
    const QFont font = m_browsers[size_t(InspectorSection::Wire)]->font();
    m_jobs->start<LoadedWire>(
        QLatin1String(kRequestBodyJob),
        [index, step, font, limits = m_limits] {
            LoadedWire out;
            out.step = step;
            // The Wire section needs the exchange alone, not the messages again.
            out.html = renderSection(readStep(index, step, Detail::WireOnly, false), limits,
                                     InspectorSection::Wire);
            out.document = makeDocument(out.html, font);
            return out;
        },
        [this](LoadedWire loaded) {
            if (loaded.step != m_shown.step)
                return;
            const size_t wire = size_t(InspectorSection::Wire);
            m_shown.html[wire] = std::move(loaded.html);
            m_documents[wire] = std::move(loaded.document);
            if (m_tabs->currentIndex() == int(wire))
                fillVisibleTab();
        });
}

void InspectorView::cancelDocuments()
{
    m_jobs->cancel(QLatin1String(kRequestBodyJob));
    m_requestBodyPending = false;
    m_prefetch->cancel(QLatin1String(kDocumentsJob));
    // A superseded job stops between documents rather than parse the rest for nothing,
    // on a core the next step's load wants.
    *m_documentsCancelled = true;
    m_documentsCancelled = std::make_shared<std::atomic<bool>>(false);
}

void InspectorView::showEverywhere(const QString &html)
{
    m_jobs->cancel(QLatin1String(kStepJob));
    cancelDocuments();
    m_shown = everySection(StepIndex(), html);
    m_documents = {};
    fillVisibleTab();
}

void InspectorView::fillVisibleTab()
{
    const int tab = m_tabs->currentIndex();
    if (tab < 0)
        return;
    Document &document = m_documents[size_t(tab)];
    if (!document) // shown before the background parse got to it
        document = makeDocument(m_shown.html[size_t(tab)], m_browsers[size_t(tab)]->font());
    if (m_displayed[size_t(tab)] == document)
        return;
    m_browsers[size_t(tab)]->setDocument(document.get());
    m_displayed[size_t(tab)] = document;
    if (tab == int(InspectorSection::Wire) && m_requestBodyPending)
        loadRequestBody();
}

void InspectorView::setHeader(StepIndex step, bool loading)
{
    const std::shared_ptr<const TapeIndex> index = m_state->index();
    const int64_t row = index && step.value ? index->rowOf(step) : -1;
    bool modelCall = true;
    if (row < 0) {
        m_header->setText(step.value ? tr("<b>Step %1</b>").arg(step.value)
                                     : tr("<span style=\"color: gray;\">No step selected</span>"));
    } else {
        const StepRow &r = index->row(row);
        modelCall = r.kind == StepKind::ModelCall;
        QStringList parts;
        parts << tr("<b>Step %1</b>").arg(step.value);
        parts << QStringLiteral("<span style=\"color: %1;\">%2</span>")
                     .arg(stepKindColor(r.kind).name(), stepKindLabel(r.kind));
        if (r.name >= 0)
            parts << QStringLiteral("<b>%1</b>")
                         .arg(QString::fromStdString(index->nameOf(r)).toHtmlEscaped());
        if (const formats::ThreadInfo *thread = index->thread(r.thread))
            parts << tr("thread %1").arg(QString::fromStdString(thread->label).toHtmlEscaped());
        int64_t runStartUs = index->firstUs();
        if (const formats::RunInfo *run = index->run(r.run); run && run->startedUs)
            runStartUs = run->startedUs;
        parts << QStringLiteral("%1 <span style=\"color: gray;\">(%2)</span>")
                     .arg(formatOffset(r.startedUs - runStartUs), formatWallClock(r.startedUs));
        if (r.durationUs() > 0)
            parts << formatDuration(r.durationUs());
        if (r.isError())
            parts << QStringLiteral("<span style=\"color: %1;\"><b>%2</b></span>")
                         .arg(errorColor().name(), tr("error"));
        if (loading)
            parts << tr("<span style=\"color: gray;\">loading…</span>");
        m_header->setText(parts.join(QStringLiteral(" · ")));
    }
    // The other kinds keep their New and Response tabs (which say there is nothing to
    // show): disabling them would move the selection off a tab the reader chose.
    m_tabs->setTabText(int(InspectorSection::Conversation),
                       tabLabel(InspectorSection::Conversation, modelCall));
}

} // namespace tapedeck::gui
