// ConversationRenderer: every section of every kind of kernel-session step, escaping, "new
// in this request", truncation, bytes that are not UTF-8, and a real Claude Code request;
// and InspectorView over the kernel session: loading off the GUI thread, superseded loads,
// tabs, load errors, and what it looks like (written to /tmp/inspector*.png).
#include "conversationrenderer.h"
#include "displayformat.h"
#include "guitestutil.h"
#include "inspectorview.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>
#include <QTextBrowser>
#include <QTextDocument>
#include <QUrl>

#include <optional>

using namespace tapedeck;
using namespace tapedeck::gui;
using formats::Step;
using formats::StepIndex;
using formats::StepKind;
using nlohmann::json;

namespace {

// The message cards of a section: each has one role label.
int cards(const QString &html)
{
    return int(html.count(QStringLiteral("class=\"role\"")));
}

// The first line of a text (at most 60 bytes, whole characters), escaped as the renderer
// escapes text: what to look for in its HTML.
QString snippet(const std::string &text)
{
    std::string line = text.substr(0, text.find('\n'));
    if (line.size() > 60) {
        size_t end = 60;
        while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80)
            --end;
        line.resize(end);
    }
    return QString::fromStdString(line)
        .replace(QLatin1Char('&'), QLatin1String("&amp;"))
        .replace(QLatin1Char('<'), QLatin1String("&lt;"))
        .replace(QLatin1Char('>'), QLatin1String("&gt;"));
}

// A Chat Completions message's text ("" when its content is not a string).
std::string contentOf(const json &message)
{
    auto it = message.find("content");
    return it != message.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Well-formed enough for a QTextBrowser and for the eye: a whole document whose blocks and
// tables are all closed.
void checkDocument(const QString &html, const RenderLimits &limits)
{
    QVERIFY(html.startsWith(QLatin1String("<html>")));
    QVERIFY(html.endsWith(QLatin1String("</html>")));
    QCOMPARE(html.count(QLatin1String("<pre")), html.count(QLatin1String("</pre>")));
    QCOMPARE(html.count(QLatin1String("<table")), html.count(QLatin1String("</table>")));
    QVERIFY2(html.size() < limits.sectionBytes + 64 * 1024,
             qPrintable(QString::number(html.size())));
}

Step modelCall(std::vector<json> messages, json params)
{
    Step step;
    step.index = StepIndex(7);
    step.kind = StepKind::ModelCall;
    step.name = params.value("model", "test-model");
    step.requestMessages = std::move(messages);
    step.requestParams = std::move(params);
    return step;
}

json user(const std::string &text)
{
    return {{"role", "user"}, {"content", text}};
}

json assistantCalling(const std::string &id, const std::string &tool, const json &args)
{
    return {{"role", "assistant"},
            {"content", nullptr},
            {"tool_calls",
             json::array({{{"id", id},
                           {"type", "function"},
                           {"function", {{"name", tool}, {"arguments", args.dump()}}}}})}};
}

json toolAnswer(const std::string &id, const std::string &output)
{
    return {{"role", "tool"}, {"tool_call_id", id}, {"content", output}};
}

// A line of the wire captures in shared/data as a recorded model call: the conversation
// one message per entry, everything else as the parameters, as the recorder stores them.
std::optional<Step> stepFromCapture(const QString &file, int line)
{
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt;
    QByteArray text;
    for (int i = 0; i <= line; ++i)
        text = f.readLine();
    json record = json::parse(text.toStdString(), nullptr, false);
    if (!record.is_object() || !record.contains("body"))
        return std::nullopt;
    Step step;
    step.index = StepIndex(line + 1);
    step.kind = StepKind::ModelCall;
    step.name = record["body"].value("model", "");
    formats::WireExchange wire;
    wire.method = record.value("method", "");
    wire.url = record.value("path", "");
    wire.status = 200;
    wire.requestHeaders = record["headers"];
    wire.requestBody = record["body"].dump();
    step.wire = std::move(wire);
    json params = record["body"];
    for (json &m : params["messages"])
        step.requestMessages.push_back(std::move(m));
    params.erase("messages");
    step.requestParams = std::move(params);
    return step;
}

// An inspector on screen at `size` over `index`, with a spy on the steps it shows.
struct ShownInspector {
    ShownInspector(std::shared_ptr<const TapeIndex> index, QSize size)
    {
        state.setIndex(std::move(index));
        view.resize(size);
        view.show();
    }
    ViewState state;
    InspectorView view{&state};
    QSignalSpy shown{&view, &InspectorView::stepShown};
};

} // namespace

class TestConversationRenderer : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_tape;
    std::shared_ptr<const TapeIndex> m_index;
    std::unique_ptr<formats::TapeReader> m_reader;

    Step read(StepIndex index) const
    {
        auto step = m_reader->step(index);
        if (!step)
            qFatal("step %lld: %s", qlonglong(index.value), step.error().message.c_str());
        return std::move(*step);
    }

    std::optional<Step> previousOf(const Step &step) const
    {
        const int64_t before = m_index->previousModelCallInThread(m_index->rowOf(step.index));
        if (before < 0)
            return std::nullopt;
        return read(m_index->row(before).index);
    }

    // The first step of `kind` at or after row `from` (and in error, when asked).
    StepIndex find(StepKind kind, int64_t from = 0, bool error = false) const
    {
        for (int64_t r = from; r < m_index->rowCount(); ++r) {
            const StepRow &row = m_index->row(r);
            if (row.kind == kind && (!error || row.isError()))
                return row.index;
        }
        return StepIndex();
    }

    // A model call of the main thread whose request is the previous one's plus exactly two
    // messages (the assistant's tool call and its result).
    StepIndex findTwoNew() const
    {
        for (int64_t r = 200; r < m_index->rowCount(); ++r) {
            const StepRow &row = m_index->row(r);
            if (row.kind != StepKind::ModelCall)
                continue;
            const int64_t before = m_index->previousModelCallInThread(r);
            if (before < 0 || m_index->row(before).messageCount + 2 != row.messageCount)
                continue;
            const Step now = read(row.index), then = read(m_index->row(before).index);
            if (std::equal(then.requestMessages.begin(), then.requestMessages.end(),
                           now.requestMessages.begin()))
                return row.index;
        }
        return StepIndex();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_tape = m_dir.filePath(QStringLiteral("kernel.tape")).toStdString();
        const std::string e = test::writeKernelSessionTape(m_tape);
        QVERIFY2(e.empty(), e.c_str());
        std::string error;
        m_index = test::loadIndex(m_tape, &error);
        QVERIFY2(m_index, error.c_str());
        auto reader = formats::TapeReader::open(m_tape);
        QVERIFY(reader);
        m_reader = std::move(*reader);
    }

    // Every kind the session holds renders every section as a closed document that names
    // the step.
    void everyKindRenders_data()
    {
        QTest::addColumn<qlonglong>("step");
        for (int k = 1; k <= formats::kStepKindCount; ++k) {
            const auto kind = StepKind(k);
            if (StepIndex s = find(kind); s.value)
                QTest::newRow(formats::stepKindName(kind)) << qlonglong(s.value);
            if (StepIndex s = find(kind, 0, true); s.value)
                QTest::newRow(qPrintable(
                    QStringLiteral("%1 in error").arg(QLatin1String(formats::stepKindName(kind)))))
                    << qlonglong(s.value);
        }
        QVERIFY(find(StepKind::Compaction).value);
    }

    void everyKindRenders()
    {
        QFETCH(qlonglong, step);
        const Step s = read(StepIndex(step));
        const std::optional<Step> previous =
            s.kind == StepKind::ModelCall ? previousOf(s) : std::nullopt;
        const ConversationRenderer renderer({}, m_index->firstUs());
        const RenderedStep rendered = renderer.render(s, previous ? &*previous : nullptr);
        QCOMPARE(rendered.step, s.index);
        for (const QString &html : rendered.html)
            checkDocument(html, renderer.limits());
        const QString name = snippet(s.name);
        QVERIFY(rendered.section(InspectorSection::Conversation).contains(name));
        QVERIFY(rendered.section(InspectorSection::Usage).contains(QLatin1String("started")));
        // The one-section calls give what render() gives.
        QCOMPARE(renderer.conversation(s), rendered.section(InspectorSection::Conversation));
        QCOMPARE(renderer.usage(s), rendered.section(InspectorSection::Usage));
        QCOMPARE(renderer.wire(s), rendered.section(InspectorSection::Wire));
        QCOMPARE(renderer.response(s), rendered.section(InspectorSection::Response));
        QCOMPARE(renderer.newInRequest(s, previous ? &*previous : nullptr),
                 rendered.section(InspectorSection::NewInRequest));
        if (s.kind == StepKind::ToolResult) {
            const std::string output = s.payload.value("output", "");
            QVERIFY(rendered.section(InspectorSection::Conversation).contains(snippet(output)));
            // With the call it answers, the arguments it was given.
            QVERIFY(s.parent);
            const Step call = read(*s.parent);
            const QString withCall = renderer.conversation(s, &call);
            QVERIFY(withCall.contains(QStringLiteral("step #%1").arg(call.index.value)));
            QVERIFY(withCall.contains(QLatin1String("Called with")));
        }
        if (s.kind != StepKind::ModelCall)
            QVERIFY(rendered.section(InspectorSection::Response)
                        .contains(QLatin1String("Only a model call")));
    }

    // A model call's conversation: parameters, tools, the system prompt, each message with
    // its role, tool calls with their arguments and results linked to them.
    void modelCallConversation()
    {
        const StepIndex index = findTwoNew();
        QVERIFY(index.value);
        const Step s = read(index);
        const ConversationRenderer renderer;
        const QString html = renderer.conversation(s);
        QVERIFY(html.contains(QLatin1String("openai-chat")));
        QVERIFY(html.contains(QLatin1String("temperature")));
        QVERIFY(html.contains(QLatin1String("Tools (")));
        QVERIFY(html.contains(snippet(s.requestParams["system"].get<std::string>())));
        QCOMPARE(cards(html), int(s.requestMessages.size()));
        const json &last = s.requestMessages.back();
        QCOMPARE(last["role"].get<std::string>(), std::string("tool"));
        QVERIFY(html.contains(snippet(contentOf(last))));
        const std::string callId = last["tool_call_id"].get<std::string>();
        QVERIFY(html.contains(QStringLiteral("answers <a href=\"#call-%1\">%1</a>")
                                  .arg(QString::fromStdString(callId))));
        QVERIFY(html.contains(
            QStringLiteral("<a name=\"call-%1\">").arg(QString::fromStdString(callId))));
        QVERIFY(html.contains(QLatin1String("href=\"#call-")));
        const json &call = s.requestMessages[s.requestMessages.size() - 2]["tool_calls"][0];
        QVERIFY(html.contains(QStringLiteral("→ %1").arg(
            QString::fromStdString(call["function"]["name"].get<std::string>()))));

        const QString response = renderer.response(s);
        QVERIFY(response.contains(QLatin1String("stop reason")));
        const QString usage = renderer.usage(s);
        QVERIFY(usage.contains(QLocale(QLocale::English).toString(qlonglong(s.usage.inputTokens))));
        QVERIFY(usage.contains(QLatin1String("time to first token")));
    }

    // Thinking is folded to the start of its first line behind the link that unfolds it,
    // and shown whole when the limits say so; in either form it is escaped.
    void thinkingFoldsAndUnfolds()
    {
        const std::string thought = "  Weighing <the> options first\nthen a long second line of thought";
        const Step s = modelCall(
            {user("which one?"),
             {{"role", "assistant"},
              {"content", json::array({{{"type", "thinking"}, {"thinking", thought}},
                                       {{"type", "text"}, {"text", "the second"}}})}},
             user("why?")},
            {{"model", "claude-test"}, {"max_tokens", 100}});
        const QString link = QStringLiteral("<a href=\"%1\">").arg(QLatin1String(kToggleThinkingLink));

        const QString folded = ConversationRenderer().conversation(s);
        checkDocument(folded, RenderLimits());
        QVERIFY(folded.contains(link + QStringLiteral("▸ <i>thinking</i></a>")));
        QVERIFY(folded.contains(QStringLiteral("· <i>Weighing &lt;the&gt; options first…</i>")));
        QVERIFY(!folded.contains(QLatin1String("second line of thought")));
        QVERIFY(folded.contains(QLatin1String("the second")));

        RenderLimits whole;
        whole.thinkingExpanded = true;
        const QString unfolded = ConversationRenderer(whole).conversation(s);
        checkDocument(unfolded, whole);
        QVERIFY(unfolded.contains(link + QStringLiteral("▾ <i>thinking</i></a>")));
        QVERIFY(unfolded.contains(QLatin1String("then a long second line of thought")));
        QVERIFY(unfolded.contains(QLatin1String("<pre class=\"thinking\">")));
    }

    // A first line cut in the middle of a character keeps the whole character out.
    void thinkingPreviewCutsWholeCharacters()
    {
        std::string thought(159, 'a');
        thought += "é and more"; // é is two bytes: bytes 160 and 161
        const Step s = modelCall(
            {user("q"),
             {{"role", "assistant"},
              {"content", json::array({{{"type", "thinking"}, {"thinking", thought}}})}}},
            {{"model", "claude-test"}, {"max_tokens", 100}});
        const QString folded = ConversationRenderer().conversation(s);
        QVERIFY(folded.contains(QString(159, QLatin1Char('a')) + QStringLiteral("…")));
        QVERIFY(!folded.contains(QLatin1String("\\x")));
    }

    void escapesEverything()
    {
        Step result;
        result.kind = StepKind::ToolResult;
        result.name = "run<script>";
        result.status = formats::StepStatus::Error;
        result.payload = {{"output", "<script>alert('x')</script> & more"}, {"is_error", true}};
        const ConversationRenderer renderer;
        const RenderedStep rendered = renderer.render(result, nullptr);
        const QString &details = rendered.section(InspectorSection::Conversation);
        QVERIFY(
            details.contains(QLatin1String("&lt;script&gt;alert('x')&lt;/script&gt; &amp; more")));
        QVERIFY(details.contains(QLatin1String("run&lt;script&gt;")));
        QVERIFY(details.contains(QLatin1String("class=\"err\"")));

        Step call = modelCall({user("<b>bold</b> & <script>"), user("100% sure: %1 %2"),
                               assistantCalling("c<1>", "t&<x>", {{"q", "</pre><script>"}}),
                               toolAnswer("c<1>", "</td></table><script>")},
                              {{"model", "m<x>"}, {"system", "<i>sys</i>"}});
        const RenderedStep model = renderer.render(call, nullptr);
        for (const RenderedStep *r : {&rendered, &model}) {
            for (const QString &html : r->html) {
                QVERIFY(!html.contains(QLatin1String("<script")));
                QVERIFY(!html.contains(QLatin1String("<b>bold")));
                QVERIFY(!html.contains(QLatin1String("<i>sys")));
            }
        }
        const QString &conversation = model.section(InspectorSection::Conversation);
        QVERIFY(
            conversation.contains(QLatin1String("&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;")));
        QVERIFY(conversation.contains(QLatin1String("m&lt;x&gt;")));
        QVERIFY(conversation.contains(QLatin1String("100% sure: %1 %2")));
        QVERIFY(conversation.contains(QLatin1String("t&amp;&lt;x&gt;")));
        QVERIFY(conversation.contains(QLatin1String("&lt;/td&gt;&lt;/table&gt;")));
        checkDocument(conversation, renderer.limits());
    }

    // Against the thread's previous request, a request that adds a tool call and its result
    // shows exactly those two.
    void newInRequestShowsOnlyTheNewMessages()
    {
        const StepIndex index = findTwoNew();
        QVERIFY(index.value);
        const Step s = read(index);
        const std::optional<Step> previous = previousOf(s);
        QVERIFY(previous);
        const QString html = ConversationRenderer().newInRequest(s, &*previous);
        QCOMPARE(cards(html), 2);
        QVERIFY(html.contains(QLatin1String("<b>2 new</b>")));
        QVERIFY(html.contains(QStringLiteral("step #%1").arg(previous->index.value)));
        QVERIFY(html.contains(snippet(contentOf(s.requestMessages.back()))));
        QVERIFY(html.contains(QLatin1String("as before")));
        // The task, at the start of the conversation, is not new.
        const std::string task = contentOf(s.requestMessages.front());
        QVERIFY(!task.empty());
        QVERIFY(!html.contains(snippet(task)));
    }

    void newInRequestFirstAndChanged()
    {
        const json tool = {{"type", "function"},
                           {"function", {{"name", "read"}, {"parameters", json::object()}}}};
        json toolB = tool;
        toolB["function"]["name"] = "write";
        const Step before =
            modelCall({user("first question")},
                      {{"model", "m"}, {"temperature", 0.2}, {"tools", {tool}}, {"top_p", 0.9}});
        const Step after = modelCall(
            {user("first question"), assistantCalling("c1", "read", {}),
             toolAnswer("c1", "file text")},
            {{"model", "m"}, {"temperature", 0.7}, {"tools", {tool, toolB}}, {"top_p", 0.9}});
        const ConversationRenderer renderer;
        const QString first = renderer.newInRequest(before, nullptr);
        QVERIFY(first.contains(QLatin1String("first model call")));
        QCOMPARE(cards(first), 1);

        const QString changed = renderer.newInRequest(after, &before);
        QCOMPARE(cards(changed), 2);
        QVERIFY(changed.contains(QStringLiteral("temperature: 0.2 → 0.7")));
        QVERIFY(changed.contains(QLatin1String("added: write")));
        QVERIFY(!changed.contains(QLatin1String("top_p")));
        QVERIFY(changed.contains(QLatin1String("file text")));

        const Step rewritten =
            modelCall({user("a summary of what happened")},
                      {{"model", "m"}, {"temperature", 0.2}, {"tools", {tool}}, {"top_p", 0.9}});
        const QString restart = renderer.newInRequest(rewritten, &after);
        QVERIFY(restart.contains(QLatin1String("rewritten")));
        QCOMPARE(cards(restart), 1);

        const Step same = after;
        QVERIFY(renderer.newInRequest(same, &after).contains(QLatin1String("unchanged")));
    }

    // A huge tool output is cut at the block limit with a note of what was left out, and a
    // conversation too long for its section keeps its first and last messages.
    void cutsHugeOutput()
    {
        Step result;
        result.kind = StepKind::ToolResult;
        result.name = "cat";
        std::string output;
        while (output.size() < 300 * 1024)
            output += "line of a very long file output 0123456789 abcdefghijklmnopqrstuvwxyz\n";
        output.resize(300 * 1024);
        result.payload = {{"output", output}, {"is_error", false}};
        const ConversationRenderer renderer;
        const QString html = renderer.conversation(result);
        QVERIFY(html.contains(QLatin1String("236.0 KiB more not shown (300.0 KiB in all)")));
        QVERIFY(html.size() < 80 * 1024);

        std::vector<json> messages;
        const std::string big(60 * 1024, 'x');
        for (int i = 0; i < 400; ++i)
            messages.push_back(user("message number " + std::to_string(i + 1) + "\n" + big));
        const Step call = modelCall(messages, {{"model", "m"}});
        QElapsedTimer timer;
        timer.start();
        const QString conversation = renderer.conversation(call);
        qInfo("400 messages of 60 KiB rendered in %lld ms", qlonglong(timer.elapsed()));
        checkDocument(conversation, renderer.limits());
        QVERIFY(conversation.contains(QLatin1String("message number 1\n")) ||
                conversation.contains(QLatin1String("message number 1<")));
        QVERIFY(conversation.contains(QLatin1String("message number 400")));
        QVERIFY(conversation.contains(QLatin1String("left out to keep the view quick")));
        QVERIFY(cards(conversation) < 20);

        // Many small messages: the number of cards is bounded too (each is a table to lay
        // out), the first and last ones kept.
        std::vector<json> chatter;
        for (int i = 0; i < 3000; ++i)
            chatter.push_back(user("short message " + std::to_string(i + 1) + "."));
        const QString many = renderer.conversation(modelCall(chatter, {{"model", "m"}}));
        QVERIFY(cards(many) <= 300);
        QVERIFY(many.contains(QLatin1String("short message 1.")));
        QVERIFY(many.contains(QLatin1String("short message 3000.")));
        QVERIFY(many.contains(QLatin1String("left out to keep the view quick")));
    }

    // The first part of a page shown while its whole is parsed says that the rest follows,
    // not that it was left out.
    void firstPartOfASection()
    {
        std::vector<json> messages;
        for (int i = 0; i < 50; ++i)
            messages.push_back(user("message number " + std::to_string(i + 1) + "\n" +
                                    std::string(1024, 'x')));
        // The last message is longer than the whole first part.
        messages.push_back(user("message number 51\n" + std::string(20 * 1024, 'z')));
        const Step call = modelCall(messages, {{"model", "m"}});
        Step result;
        result.kind = StepKind::ToolResult;
        result.name = "cat";
        result.payload = {{"output", std::string(40 * 1024, 'y')}, {"is_error", false}};
        RenderLimits limits;
        limits.sectionBytes = 8 * 1024;
        const ConversationRenderer cutting(limits);
        QVERIFY(cutting.conversation(call).contains(QLatin1String("left out to keep the view")));
        QVERIFY(cutting.conversation(result).contains(QLatin1String("was cut at 8.0 KiB")));

        limits.firstPart = true;
        const ConversationRenderer first(limits);
        const QString conversation = first.conversation(call);
        QVERIFY(conversation.contains(QLatin1String("message number 51")));
        QVERIFY(conversation.contains(QLatin1String("are not in this first part")));
        QVERIFY(conversation.contains(QLatin1String("is on its way")));
        QVERIFY(!conversation.contains(QLatin1String("left out")));
        QVERIFY(!conversation.contains(QLatin1String("not shown")));
        QVERIFY(!conversation.contains(QLatin1String("was cut at")));
        const QString output = first.conversation(result);
        QVERIFY(output.contains(QLatin1String("The rest of this section is on its way")));
        QVERIFY(!output.contains(QLatin1String("was cut at")));
        QVERIFY(!output.contains(QLatin1String("not shown")));
        QVERIFY(output.size() < 12 * 1024);
        // A section that fits says nothing of the kind.
        QVERIFY(!first.conversation(modelCall({user("hi")}, {{"model", "m"}}))
                     .contains(QLatin1String("on its way")));
    }

    // Arguments that hold text of several lines (a file to write, the text an edit
    // replaces) show it as text, not as one line of \n escapes.
    void multiLineArguments()
    {
        const json args = {{"path", "a.txt"}, {"content", "line one\nline <two>\n"}};
        const Step call = modelCall({user("write it"), assistantCalling("c1", "write_file", args)},
                                    {{"model", "m"}});
        const QString html = ConversationRenderer().conversation(call);
        QVERIFY(html.contains(QLatin1String("content:")));
        QVERIFY(html.contains(QLatin1String("line one\nline &lt;two&gt;")));
        QVERIFY(!html.contains(QLatin1String("line one\\n")));
        QVERIFY(html.contains(QLatin1String("\"path\": \"a.txt\"")));
    }

    void wireBodyThatIsNotUtf8()
    {
        Step step;
        step.kind = StepKind::HttpExchange;
        step.name = "GET /blob";
        formats::WireExchange wire;
        wire.method = "GET";
        wire.url = "/blob?a=1&b=<2>";
        wire.status = 200;
        wire.requestHeaders = {{"x-evil", "<script>"}};
        wire.responseHeaders = {{"Content-Type", "application/octet-stream"}};
        wire.responseBody = std::string("ok \xff\xfe <b>x</b> \x01 \xc3\xa9 \xed\xa0\x80 end", 27);
        wire.requestBody = "{\"a\": [1, 2, {\"b\": \"<c>\"}]}";
        step.wire = wire;
        const QString html = ConversationRenderer().wire(step);
        checkDocument(html, RenderLimits{});
        QVERIFY(html.contains(QLatin1String("\\xFF")));
        QVERIFY(html.contains(QLatin1String("\\xFE")));
        QVERIFY(html.contains(QLatin1String("\\x01")));
        QVERIFY(html.contains(QLatin1String("\\xED"))); // a UTF-16 surrogate is not UTF-8
        QVERIFY(html.contains(QStringLiteral("é")));
        QVERIFY(html.contains(QLatin1String("not UTF-8")));
        QVERIFY(html.contains(QLatin1String("&lt;b&gt;x&lt;/b&gt;")));
        QVERIFY(html.contains(QLatin1String("/blob?a=1&amp;b=&lt;2&gt;")));
        QVERIFY(html.contains(QLatin1String("&lt;script&gt;")));
        QVERIFY(!html.contains(QChar(0xFFFD)));
        // The JSON request body is pretty-printed.
        QVERIFY(html.contains(QLatin1String("\"b\": \"&lt;c&gt;\"")));
    }

    // A streamed model call: the SSE events with their arrival times, and the chunks.
    void wireStreamAsEvents()
    {
        const Step s = read(find(StepKind::ModelCall, 100));
        QVERIFY(s.wire);
        QVERIFY(!s.wire->chunks.empty());
        const QString html = ConversationRenderer().wire(s);
        checkDocument(html, RenderLimits{});
        QVERIFY(html.contains(QLatin1String("POST")));
        QVERIFY(html.contains(QLatin1String("/v1/chat/completions")));
        QVERIFY(html.contains(QLatin1String("Server-sent events")));
        QVERIFY(html.contains(QLatin1String("[DONE]")));
        QVERIFY(html.contains(QLatin1String("chat.completion.chunk")));
        QVERIFY(
            html.contains(QLocale(QLocale::English).toString(qlonglong(s.wire->chunks.size()))));
        QVERIFY(html.contains(QLatin1String("after the request started")));
    }

    // A request Claude Code really sent (shared/data/wire): Anthropic Messages with a system
    // prompt in blocks, tool_use and tool_result blocks; and what its second request added.
    void realClaudeCodeRequest()
    {
        const QString file = QFileInfo(QStringLiteral(__FILE__)).absolutePath() +
                             QStringLiteral("/../../../shared/data/wire/claude.requests.jsonl");
        if (!QFileInfo::exists(file))
            QSKIP("shared/data is not beside the project");
        const std::optional<Step> first = stepFromCapture(file, 1);
        const std::optional<Step> second = stepFromCapture(file, 2);
        QVERIFY(first && second);
        QCOMPARE(first->requestMessages.size(), size_t(1));
        QCOMPARE(second->requestMessages.size(), size_t(3));

        const ConversationRenderer renderer;
        const RenderedStep rendered = renderer.render(*second, &*first);
        for (const QString &html : rendered.html)
            checkDocument(html, renderer.limits());
        const QString &conversation = rendered.section(InspectorSection::Conversation);
        QVERIFY(conversation.contains(QLatin1String("anthropic-messages")));
        QVERIFY(!conversation.contains(QLatin1String("guessed")));
        QVERIFY(conversation.contains(QLatin1String("System prompt")));
        QVERIFY(conversation.contains(QLatin1String(">Bash<")));
        QVERIFY(conversation.contains(QLatin1String("echo hello")));
        QVERIFY(conversation.contains(
            QLatin1String("answers <a href=\"#call-toolu_bf4b7d825f8b48d8959e196c\">")));
        QCOMPARE(cards(conversation), 3);
        const QString &added = rendered.section(InspectorSection::NewInRequest);
        QCOMPARE(cards(added), 2);
        QVERIFY(added.contains(QLatin1String("<b>2 new</b>")));
        QVERIFY(added.contains(QLatin1String("echo hello")));
        const QString &wire = rendered.section(InspectorSection::Wire);
        QVERIFY(wire.contains(QLatin1String("anthropic-version")));
        QVERIFY(wire.contains(QLatin1String("/v1/messages?beta=true")));
    }

    // -----------------------------------------------------------------------------------
    // InspectorView

    void inspectorShowsModelCall()
    {
        ViewState state;
        state.setIndex(m_index);
        InspectorView view(&state);
        QSignalSpy shown(&view, &InspectorView::stepShown);
        const StepIndex index = findTwoNew();
        const Step s = read(index);
        state.setCurrentStep(index);
        QVERIFY(shown.wait(20000));
        QCOMPARE(shown.count(), 1);
        QCOMPARE(shown.at(0).at(0).value<StepIndex>(), index);
        QCOMPARE(view.shownStep(), index);
        QCOMPARE(view.currentTabName(), QStringLiteral("conversation"));
        QVERIFY(view.currentHtml().contains(snippet(contentOf(s.requestMessages.back()))));
        auto *browser = view.findChild<QTabWidget *>()->currentWidget();
        QVERIFY(qobject_cast<QTextBrowser *>(browser)->toPlainText().contains(
            QString::fromStdString(s.name)));
    }

    // The link on a thinking block's title folds or unfolds thinking: the step is shown
    // again, and the choice is kept in the settings for the next session; a section's own
    // anchors are not taken for it.
    void inspectorTogglesThinking()
    {
        QSettings().remove(QStringLiteral("inspector/thinkingExpanded"));
        ViewState state;
        state.setIndex(m_index);
        InspectorView view(&state);
        QVERIFY(!view.thinkingExpanded());
        QSignalSpy shown(&view, &InspectorView::stepShown);
        const StepIndex index = findTwoNew();
        state.setCurrentStep(index);
        QVERIFY(shown.wait(20000));
        auto *browser = qobject_cast<QTextBrowser *>(view.findChild<QTabWidget *>()->currentWidget());
        QVERIFY(browser);
        Q_EMIT browser->anchorClicked(QUrl(QStringLiteral("#messages")));
        QVERIFY(!view.thinkingExpanded());
        Q_EMIT browser->anchorClicked(QUrl(QLatin1String(kToggleThinkingLink)));
        QVERIFY(view.thinkingExpanded());
        QVERIFY(shown.wait(20000));
        QCOMPARE(shown.count(), 2);
        QCOMPARE(view.shownStep(), index);
        QVERIFY(QSettings().value(QStringLiteral("inspector/thinkingExpanded")).toBool());
        InspectorView later(&state);
        QVERIFY(later.thinkingExpanded());
        view.setThinkingExpanded(false);
        QVERIFY(!QSettings().value(QStringLiteral("inspector/thinkingExpanded")).toBool());
    }

    // A conversation too long to parse at once is shown from its first part, and the whole
    // takes its place: in the end the browser holds the whole section.
    void inspectorShowsALongConversationWhole()
    {
        StepIndex longest;
        for (int64_t r = m_index->rowCount() / 2; r < m_index->rowCount() && !longest.value; ++r) {
            const StepRow &row = m_index->row(r);
            if (row.kind == StepKind::ModelCall &&
                ConversationRenderer().conversation(read(row.index)).size() > 128 * 1024)
                longest = row.index;
        }
        QVERIFY(longest.value);
        ViewState state;
        state.setIndex(m_index);
        InspectorView view(&state);
        view.resize(800, 600);
        QSignalSpy shown(&view, &InspectorView::stepShown);
        state.setCurrentStep(longest);
        QVERIFY(shown.wait(20000));
        auto *browser = qobject_cast<QTextBrowser *>(view.findChild<QTabWidget *>()->currentWidget());
        QTextDocument whole;
        whole.setHtml(view.currentHtml());
        QTRY_COMPARE_WITH_TIMEOUT(browser->toPlainText(), whole.toPlainText(), 20000);
    }

    void inspectorShowsOnlyTheLastOfFastSelections()
    {
        ViewState state;
        state.setIndex(m_index);
        InspectorView view(&state);
        QSignalSpy shown(&view, &InspectorView::stepShown);
        const StepIndex first = find(StepKind::ModelCall, 50);
        const StepIndex last = find(StepKind::ToolResult, 900);
        state.setCurrentStep(first);
        state.setCurrentStep(last);
        QVERIFY(shown.wait(20000));
        QTest::qWait(300); // the first load, if it were not dropped, would land by now
        QCOMPARE(shown.count(), 1);
        QCOMPARE(shown.at(0).at(0).value<StepIndex>(), last);
        const Step s = read(last);
        QVERIFY(view.currentHtml().contains(snippet(s.payload.value("output", ""))));
    }

    void inspectorTabs()
    {
        ShownInspector inspector(m_index, QSize(900, 700));
        auto &[state, view, shown] = inspector;
        state.setCurrentStep(find(StepKind::ModelCall, 300));
        QVERIFY(shown.wait(20000));
        const struct {
            const char *name;
            const char *holds;
        } tabs[] = {{"wire", "Server-sent events"},
                    {"new", "New in this request"},
                    {"response", "stop reason"},
                    {"usage", "time to first token"},
                    {"conversation", "System prompt"}};
        auto *tabWidget = view.findChild<QTabWidget *>();
        for (const auto &tab : tabs) {
            view.showTab(QLatin1String(tab.name));
            QCOMPARE(view.currentTabName(), QLatin1String(tab.name));
            QVERIFY2(view.currentHtml().contains(QLatin1String(tab.holds)), tab.name);
            QVERIFY(
                !qobject_cast<QTextBrowser *>(tabWidget->currentWidget())->toPlainText().isEmpty());
        }
        // The links between a tool call and its result, and to the last message, scroll
        // within the document.
        auto *browser = qobject_cast<QTextBrowser *>(tabWidget->currentWidget());
        const QTextDocument *document = browser->document();
        QCOMPARE(browser->verticalScrollBar()->value(), 0);
        browser->setSource(QUrl(QStringLiteral("#last-message")));
        QVERIFY(browser->verticalScrollBar()->value() > 0);
        QCOMPARE(browser->document(), document);
        QVERIFY(browser->toPlainText().contains(QLatin1String("System prompt")));

        view.showTab(QStringLiteral("no such tab"));
        QCOMPARE(view.currentTabName(), QStringLiteral("conversation"));
        QCOMPARE(tabWidget->tabText(0), QStringLiteral("Conversation"));

        state.setCurrentStep(find(StepKind::ToolCall, 300));
        QVERIFY(shown.wait(20000));
        QCOMPARE(tabWidget->tabText(0), QStringLiteral("Details"));
        QVERIFY(view.currentHtml().contains(QLatin1String("Arguments")));

        state.setCurrentStep(StepIndex());
        QVERIFY(view.currentHtml().contains(QLatin1String("No step selected")));
        QCOMPARE(view.shownStep(), StepIndex());
    }

    // A model call loaded from another tab is read without its exact request body, which
    // the Wire tab reads when it is shown; loaded from the Wire tab, the body comes with it.
    void inspectorReadsTheRequestBodyForTheWireTab()
    {
        ShownInspector inspector(m_index, QSize(900, 700));
        auto &[state, view, shown] = inspector;
        const StepIndex call = find(StepKind::ModelCall, 300);
        const Step s = read(call);
        QVERIFY(s.wire && !s.wire->requestBody.empty());
        const QString exactBytes = QStringLiteral("--raw request");
        const QString pending = QStringLiteral("being read");
        state.setCurrentStep(call);
        QVERIFY(shown.wait(20000));
        view.showTab(QStringLiteral("usage"));
        QVERIFY(view.currentHtml().contains(formatBytes(int64_t(s.wire->requestBody.size()))));
        view.showTab(QStringLiteral("wire"));
        QVERIFY(view.currentHtml().contains(pending));
        QVERIFY(!view.currentHtml().contains(exactBytes));
        QTRY_VERIFY_WITH_TIMEOUT(view.currentHtml().contains(exactBytes), 20000);
        QVERIFY(!view.currentHtml().contains(pending));
        auto *browser = qobject_cast<QTextBrowser *>(view.findChild<QTabWidget *>()->currentWidget());
        QTRY_VERIFY_WITH_TIMEOUT(browser->toPlainText().contains(exactBytes), 20000);

        const StepIndex next = find(StepKind::ModelCall, 400);
        state.setCurrentStep(next);
        QVERIFY(shown.wait(20000));
        QCOMPARE(view.shownStep(), next);
        QVERIFY(view.currentHtml().contains(exactBytes));
        QVERIFY(!view.currentHtml().contains(pending));
    }

    // A tape that cannot be read shows the error, naming the file and the step.
    void inspectorLoadError()
    {
        std::vector<StepRow> rows(m_index->rows().begin(), m_index->rows().begin() + 10);
        std::vector<std::string> names;
        for (int32_t i = 0; i < m_index->nameCount(); ++i)
            names.push_back(m_index->name(i));
        const std::string missing = m_dir.filePath(QStringLiteral("gone.tape")).toStdString();
        auto index = std::make_shared<const TapeIndex>(missing, m_index->summary(), rows, names);
        ViewState state;
        state.setIndex(index);
        InspectorView view(&state);
        QSignalSpy shown(&view, &InspectorView::stepShown);
        state.setCurrentStep(StepIndex(4));
        QVERIFY(shown.wait(20000));
        QVERIFY(view.currentHtml().contains(QLatin1String("gone.tape")));
        QVERIFY(view.currentHtml().contains(QLatin1String("Step 4")));
        QVERIFY(view.currentHtml().contains(QLatin1String("class=\"err\"")));

        // A step the tape does not hold.
        state.setIndex(m_index);
        state.setCurrentStep(StepIndex(m_index->rowCount() + 5));
        QVERIFY(shown.wait(20000));
        QVERIFY(
            view.currentHtml().contains(QStringLiteral("Step %1").arg(m_index->rowCount() + 5)));
        QVERIFY(view.currentHtml().contains(QString::fromStdString(m_tape)));
    }

    // What a person sees: a model call on each tab and a tool result, offscreen, written
    // to /tmp/inspector*.png to be looked at; and how long jump-and-paint takes for the
    // largest request of the session.
    void inspectorScreenshots()
    {
        ShownInspector inspector(m_index, QSize(1100, 800));
        auto &[state, view, shown] = inspector;
        auto *tabs = view.findChild<QTabWidget *>();
        const auto showAndGrab = [&](StepIndex step, const QString &tab, const QString &file,
                                     const QString &anchor = QString()) {
            view.showTab(tab);
            if (step != view.shownStep()) {
                state.setCurrentStep(step);
                QVERIFY(shown.wait(20000));
            }
            if (!anchor.isEmpty())
                qobject_cast<QTextBrowser *>(tabs->currentWidget())->setSource(QUrl(anchor));
            const QImage image = view.grab().toImage();
            QVERIFY(!image.isNull());
            QVERIFY(image.save(file));
            // Something was drawn: the image is not one colour.
            const QRgb corner = image.pixel(image.width() / 2, image.height() / 2);
            bool varied = false;
            for (int y = 0; y < image.height() && !varied; y += 7)
                for (int x = 0; x < image.width() && !varied; x += 7)
                    varied = image.pixel(x, y) != corner;
            QVERIFY(varied);
        };
        const StepIndex call = findTwoNew();
        showAndGrab(call, QStringLiteral("conversation"), QStringLiteral("/tmp/inspector.png"));
        showAndGrab(call, QStringLiteral("new"), QStringLiteral("/tmp/inspector-new.png"));
        showAndGrab(call, QStringLiteral("response"),
                    QStringLiteral("/tmp/inspector-response.png"));
        showAndGrab(call, QStringLiteral("usage"), QStringLiteral("/tmp/inspector-usage.png"));
        view.showTab(QStringLiteral("wire"));
        QTRY_VERIFY_WITH_TIMEOUT(!view.currentHtml().contains(QLatin1String("being read")), 20000);
        showAndGrab(call, QStringLiteral("wire"), QStringLiteral("/tmp/inspector-wire.png"));
        showAndGrab(call, QStringLiteral("wire"),
                    QStringLiteral("/tmp/inspector-wire-response.png"),
                    QStringLiteral("#response-body"));
        showAndGrab(call, QStringLiteral("conversation"),
                    QStringLiteral("/tmp/inspector-last-message.png"),
                    QStringLiteral("#last-message"));
        showAndGrab(find(StepKind::ToolResult, 600), QStringLiteral("conversation"),
                    QStringLiteral("/tmp/inspector-tool-result.png"));

        int64_t largest = 0;
        StepIndex biggest;
        for (const StepRow &row : m_index->rows()) {
            if (row.kind == StepKind::ModelCall && row.requestBytes > largest) {
                largest = row.requestBytes;
                biggest = row.index;
            }
        }
        for (const char *tab : {"conversation", "wire"}) {
            view.showTab(QLatin1String(tab));
            state.setCurrentStep(StepIndex());
            QElapsedTimer timer;
            timer.start();
            state.setCurrentStep(biggest);
            QVERIFY(shown.wait(20000));
            const qint64 loaded = timer.elapsed();
            view.grab();
            qInfo("jump and paint, %s tab, step %lld (%s request): shown after %lld ms, "
                  "painted after %lld ms",
                  tab, qlonglong(biggest.value), qPrintable(formatBytes(largest)),
                  qlonglong(loaded), qlonglong(timer.elapsed()));
            QTest::qWait(1000); // let the hidden tabs' parse finish before the next jump
        }
    }
};

QTEST_MAIN(TestConversationRenderer)
#include "tst_conversationrenderer.moc"
