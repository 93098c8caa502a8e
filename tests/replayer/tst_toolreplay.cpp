// Tool calls answered from a tape. ToolReplay as a class, on tapes written with the real
// TapeWriter; `tapedeck mcp --replay` as a real process, answering for the real
// @modelcontextprotocol/server-filesystem recorded by the real `tapedeck mcp` (the server's
// directory deleted before the replay); `tapedeck-agent --replay-tools` on a run of the
// reference agent recorded by the real `tapedeck record` against the real scripted model,
// replayed in an empty directory.
#include "lineprocess.h"
#include "modelprocess.h"
#include "recordedsteps.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/replayer/toolreplay.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <optional>

using namespace tapedeck;
using namespace tapedeck::testutil;
using nlohmann::json;
using replayer::ToolReplay;
using replayer::ToolReplaySelection;

namespace {

// A tape written step by step with the real writer, holding what the recorder writes for
// tool traffic: tool_call steps, tool_result steps linked to them, MCP listings.
class TapeBuilder {
public:
    explicit TapeBuilder(const QString &path)
    {
        auto writer = formats::TapeWriter::create(path.toStdString());
        if (writer)
            m_writer = std::move(*writer);
    }
    bool ok() const { return m_writer != nullptr; }

    formats::RunId beginRun(const std::string &name)
    {
        formats::RunInfo info;
        info.name = name;
        info.startedUs = 1'000'000;
        m_run = *m_writer->beginRun(info);
        m_branch = *m_writer->mainBranch(m_run);
        return m_run;
    }

    formats::ThreadId thread(const std::string &label)
    {
        formats::ThreadInfo info;
        info.branch = m_branch;
        info.label = label;
        return *m_writer->addThread(info);
    }

    formats::StepIndex call(formats::ThreadId thread, const std::string &tool,
                            const json &arguments)
    {
        formats::Step step;
        step.kind = formats::StepKind::ToolCall;
        step.thread = thread;
        step.name = tool;
        step.callId = "call_" + std::to_string(++m_calls);
        step.payload = arguments;
        return *m_writer->append(step);
    }

    formats::StepIndex result(formats::ThreadId thread, formats::StepIndex call,
                              const std::string &tool, const std::string &output,
                              bool isError = false,
                              formats::StepStatus status = formats::StepStatus::Ok,
                              const std::string &answerLine = {})
    {
        formats::Step step;
        step.kind = formats::StepKind::ToolResult;
        step.thread = thread;
        step.name = tool;
        step.parent = call;
        step.status = status;
        step.payload = {{"output", output}, {"is_error", isError}};
        if (!answerLine.empty()) {
            step.wire = formats::WireExchange{};
            step.wire->method = "tools/call";
            step.wire->url = "stdio";
            step.wire->responseBody = answerLine;
        }
        return *m_writer->append(step);
    }

    void listing(formats::ThreadId thread, const std::string &answerLine)
    {
        formats::Step step;
        step.kind = formats::StepKind::McpCall;
        step.thread = thread;
        step.name = "tools/list";
        step.payload = {{"method", "tools/list"}, {"server_info", {{"name", "fs-server"}}}};
        step.wire = formats::WireExchange{};
        step.wire->method = "tools/list";
        step.wire->url = "stdio";
        step.wire->responseBody = answerLine;
        (void)*m_writer->append(step);
    }

    void finish() { m_writer.reset(); }

private:
    std::unique_ptr<formats::TapeWriter> m_writer;
    formats::RunId m_run;
    formats::BranchId m_branch;
    int m_calls = 0;
};

std::string mcpAnswer(int id, const std::string &text)
{
    return json{{"jsonrpc", "2.0"},
                {"id", id},
                {"result", {{"content", json::array({{{"type", "text"}, {"text", text}}})}}}}
        .dump();
}


json request(const json &id, const std::string &method, const json &params = nullptr)
{
    json r = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null())
        r["params"] = params;
    return r;
}

json readCall(const json &id, const std::string &path)
{
    return request(id, "tools/call", {{"name", "read_text_file"}, {"arguments", {{"path", path}}}});
}

// What an MCP session said: the line that answered each request id (as JSON text).
using Answers = std::map<std::string, std::string>;

// initialize and its notification, tools/list, a read that works, one the server refuses
// (outside its directory), a listing with a string id.
std::optional<Answers> talk(LineProcess &client, const QString &allowed, const QString &outside)
{
    const std::vector<json> requests = {
        request(1, "initialize",
                {{"protocolVersion", "2025-06-18"},
                 {"capabilities", json::object()},
                 {"clientInfo", {{"name", "tst_toolreplay"}, {"version", "1"}}}}),
        request(2, "tools/list"),
        readCall(3, (allowed + "/hello.txt").toStdString()),
        readCall(4, outside.toStdString()),
        request("five", "tools/call",
                {{"name", "list_directory"}, {"arguments", {{"path", allowed.toStdString()}}}}),
    };
    Answers answers;
    for (const json &r : requests) {
        const std::optional<std::string> answer = client.call(r);
        if (!answer)
            return std::nullopt;
        answers[r["id"].dump()] = *answer;
        if (r["method"] == "initialize")
            client.send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
                        "\n");
    }
    return answers;
}

QString serverScript()
{
    return QStringLiteral(TAPEDECK_MCP_FILESYSTEM_SERVER);
}

QStringList serverCommand(const QString &dir)
{
    return {QStringLiteral(TAPEDECK_NODE_BIN), serverScript(), dir};
}

// A finished process's exit code and output.
struct Finished {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Finished runProcess(const QString &program, const QStringList &args,
                    const QMap<QString, QString> &env = {}, int timeoutMs = 60000)
{
    QProcess p;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("TAPEDECK_PROXY_URL"));
    for (auto it = env.begin(); it != env.end(); ++it)
        environment.insert(it.key(), it.value());
    p.setProcessEnvironment(environment);
    p.start(program, args);
    Finished f;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return f;
    }
    f.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    f.out = p.readAllStandardOutput();
    f.err = p.readAllStandardError();
    return f;
}

// Qt Test cannot print a json (its conversions confuse QCOMPARE): a failure prints both.
bool jsonEqual(const json &actual, const json &expected)
{
    if (actual == expected)
        return true;
    qWarning("got %s, expected %s", actual.dump().c_str(), expected.dump().c_str());
    return false;
}

std::vector<formats::Step> stepsOfKind(const QString &tape, formats::StepKind kind)
{
    std::vector<formats::Step> out;
    for (formats::Step &s : allSteps(tape))
        if (s.kind == kind)
            out.push_back(std::move(s));
    return out;
}

// The reference agent's task: a file written, a command whose output differs on every run
// (so that a replayed answer cannot be a re-run), a command that fails, a file read back.
const std::vector<std::string> kAgentScript = {
    R"({"tool_calls":[{"name":"write_file","arguments":{"path":"note.txt","content":"hello\n"}}]})",
    R"({"tool_calls":[{"name":"bash","arguments":{"command":"date +%s%N | tee stamp.txt"}}]})",
    R"({"tool_calls":[{"name":"bash","arguments":{"command":"cat missing.txt"}}]})",
    R"({"tool_calls":[{"name":"read_file","arguments":{"path":"note.txt"}}]})",
    R"({"expect":"hello","text":"Done: note.txt says hello."})",
};
const char *kAgentTask = "write a note, stamp it, and read the note back";

QStringList agentCommand(const QString &workdir, const QStringList &extra = {})
{
    return QStringList{QStringLiteral(TAPEDECK_AGENT_BIN),
                       "--api",
                       "anthropic",
                       "--model",
                       "claude-sonnet-4-6",
                       "--workdir",
                       workdir} +
           extra + QStringList{kAgentTask};
}

} // namespace

class TestToolReplay : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    // The tape of `tapedeck mcp -o` in front of the filesystem server (recorded once), the
    // answers the client got, and the paths it asked about. The server's directory is gone
    // once this returns: only the tape can answer now.
    struct McpRecording {
        QString tape, allowed, outside;
        Answers answers;
    };
    std::optional<McpRecording> m_mcp;
    const McpRecording *mcpRecording()
    {
        if (m_mcp)
            return &*m_mcp;
        McpRecording r;
        r.allowed = m_dir.filePath("mcp/allowed");
        r.outside = m_dir.filePath("mcp/outside.txt");
        r.tape = m_dir.filePath("mcp.tape");
        if (!QDir().mkpath(r.allowed))
            return nullptr;
        QFile hello(r.allowed + "/hello.txt");
        hello.open(QIODevice::WriteOnly);
        hello.write("hello from the allowed directory\n");
        hello.close();
        {
            LineProcess relay(QStringLiteral(TAPEDECK_BIN),
                              QStringList{"mcp", "-o", r.tape, "--"} + serverCommand(r.allowed));
            std::optional<Answers> answers = talk(relay, r.allowed, r.outside);
            if (!answers || relay.closeAndWait() != 0) {
                qWarning("recording failed: %s", relay.stderrText().constData());
                return nullptr;
            }
            r.answers = std::move(*answers);
        }
        if (!QDir(m_dir.filePath("mcp")).removeRecursively())
            return nullptr;
        m_mcp = std::move(r);
        return &*m_mcp;
    }

    // The reference agent's run under `tapedeck record` (recorded once): the tape, what the
    // agent printed, and the directory it worked in.
    struct AgentRecording {
        QString tape, work;
        QByteArray out;
    };
    std::optional<AgentRecording> m_agent;
    const AgentRecording *agentRecording()
    {
        if (m_agent)
            return &*m_agent;
        AgentRecording r;
        r.tape = m_dir.filePath("agent.tape");
        r.work = m_dir.filePath("agent-work");
        QDir().mkpath(r.work);
        const QString script = m_dir.filePath("agent-turns.jsonl");
        writeScript(script, kAgentScript);
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        if (model.port() <= 0)
            return nullptr;
        const Finished f = runProcess(QStringLiteral(TAPEDECK_BIN),
                                      QStringList{"record", "-o", r.tape, "--upstream",
                                                  QString::fromStdString(model.url("")), "--"} +
                                          agentCommand(r.work));
        if (f.exitCode != 0) {
            qWarning("recording failed: %s", f.err.constData());
            return nullptr;
        }
        r.out = f.out;
        m_agent = std::move(r);
        return &*m_agent;
    }

    static bool hasMcpServer()
    {
        return QFileInfo::exists(serverScript()) &&
               QFileInfo(QStringLiteral(TAPEDECK_NODE_BIN)).isExecutable();
    }

private Q_SLOTS:
    // ---- ToolReplay on tapes written with the real writer

    // Equal arguments in recorded order, each result once; JSON equality, not text.
    void takesInRecordedOrder()
    {
        const QString path = m_dir.filePath("order.tape");
        TapeBuilder b(path);
        QVERIFY(b.ok());
        b.beginRun("agent");
        const formats::ThreadId main = b.thread("main");
        for (const auto &[file, output] : std::vector<std::pair<std::string, std::string>>{
                 {"a.txt", "A first"}, {"b.txt", "B"}, {"a.txt", "A second"}}) {
            const formats::StepIndex call = b.call(main, "read_file", {{"path", file}});
            b.result(main, call, "read_file", output);
        }
        const formats::StepIndex numeric =
            b.call(main, "read_file", {{"path", "c.txt"}, {"offset", 10}, {"limit", 5}});
        b.result(main, numeric, "read_file", "C", true, formats::StepStatus::Error);
        b.finish();

        auto replay = ToolReplay::load(path.toStdString(), {});
        QVERIFY2(replay.ok(), replay.ok() ? "" : replay.error().message.c_str());
        QCOMPARE(replay->recordedCount(), size_t(4));
        auto first = replay->take("read_file", {{"path", "a.txt"}});
        QVERIFY(first.ok());
        QCOMPARE(first->output, std::string("A first"));
        QCOMPARE(replay->take("read_file", {{"path", "b.txt"}})->output, std::string("B"));
        QCOMPARE(replay->take("read_file", {{"path", "a.txt"}})->output, std::string("A second"));

        auto third = replay->take("read_file", {{"path", "a.txt"}});
        QVERIFY(!third.ok());
        QCOMPARE(third.error().code, formats::ErrorCode::NotFound);
        QVERIFY2(third.error().message.find("2 with these arguments, answered already") !=
                     std::string::npos,
                 third.error().message.c_str());

        // Other member order, 5.0 for 5: the same arguments.
        auto reordered =
            replay->take("read_file", json::parse(R"({"limit":5.0,"offset":10,"path":"c.txt"})"));
        QVERIFY2(reordered.ok(), reordered.ok() ? "" : reordered.error().message.c_str());
        QCOMPARE(reordered->output, std::string("C"));
        QVERIFY(reordered->isError);
        QCOMPARE(reordered->callStep, numeric);
        QCOMPARE(replay->usedCount(), size_t(4));
    }

    // A miss says which tool, which arguments, and what was recorded for that tool.
    void missNamesTheNearestRecorded()
    {
        const QString path = m_dir.filePath("miss.tape");
        TapeBuilder b(path);
        QVERIFY(b.ok());
        b.beginRun("agent");
        const formats::ThreadId main = b.thread("main");
        for (const char *command : {"pwd", "ls -l src", "make test"}) {
            const formats::StepIndex call = b.call(main, "bash", {{"command", command}});
            b.result(main, call, "bash", std::string("ran ") + command);
        }
        b.finish();
        auto replay = ToolReplay::load(path.toStdString(), {});
        QVERIFY(replay.ok());

        auto miss = replay->take("bash", {{"command", "ls -la src"}});
        QVERIFY(!miss.ok());
        const std::string message = miss.error().message;
        for (const std::string &part :
             {std::string(
                  "tool bash was not recorded with the arguments {\"command\":\"ls -la src\"}"),
              std::string("3 calls of bash recorded"),
              std::string("nearest recorded arguments (step 3): {\"command\":\"ls -l src\"}"),
              std::string("differ in: command"), path.toStdString()})
            QVERIFY2(message.find(part) != std::string::npos, (part + " | " + message).c_str());

        auto unknown = replay->take("write_file", {{"path", "x"}});
        QVERIFY(!unknown.ok());
        QVERIFY2(unknown.error().message.find(
                     "no call of write_file was recorded; recorded tools: bash x3") !=
                     std::string::npos,
                 unknown.error().message.c_str());
        QCOMPARE(replay->usedCount(), size_t(0)); // a miss uses nothing up
    }

    // Calls answered in the order they were asked, whatever order their results came in; a
    // call without a result, or whose tool never answered, is not a recorded result.
    void onlyAnsweredCallsInCallOrder()
    {
        const QString path = m_dir.filePath("parallel.tape");
        TapeBuilder b(path);
        QVERIFY(b.ok());
        b.beginRun("agent");
        const formats::ThreadId main = b.thread("main");
        const formats::StepIndex first = b.call(main, "bash", {{"command", "sleep 1"}});
        const formats::StepIndex second = b.call(main, "bash", {{"command", "sleep 1"}});
        b.result(main, second, "bash", "second");
        b.result(main, first, "bash", "first");
        const formats::StepIndex cancelled = b.call(main, "bash", {{"command", "hang"}});
        b.result(main, cancelled, "bash", "", true, formats::StepStatus::Cancelled);
        b.call(main, "bash", {{"command", "never answered"}});
        b.finish();

        auto replay = ToolReplay::load(path.toStdString(), {});
        QVERIFY(replay.ok());
        QCOMPARE(replay->recordedCount(), size_t(2));
        QCOMPARE(replay->take("bash", {{"command", "sleep 1"}})->output, std::string("first"));
        QCOMPARE(replay->take("bash", {{"command", "sleep 1"}})->output, std::string("second"));
        QVERIFY(!replay->take("bash", {{"command", "hang"}}).ok());
        QVERIFY(!replay->take("bash", {{"command", "never answered"}}).ok());
    }

    // The agent's tools and each MCP server's are told apart by their threads; runs by id.
    void selectsRunAndSource()
    {
        const QString path = m_dir.filePath("sources.tape");
        TapeBuilder b(path);
        QVERIFY(b.ok());
        const formats::RunId firstRun = b.beginRun("first");
        formats::ThreadId main = b.thread("main");
        b.result(main, b.call(main, "bash", {{"command", "ls"}}), "bash", "run 1 ls");
        const formats::ThreadId fs = b.thread("mcp: fs");
        b.listing(fs, R"({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"read"}]}})");
        b.listing(
            fs,
            R"({"jsonrpc":"2.0","id":9,"result":{"tools":[{"name":"read"},{"name":"write"}]}})");
        b.result(fs, b.call(fs, "read", {{"path", "/a"}}), "read", "fs a", false,
                 formats::StepStatus::Ok, mcpAnswer(2, "fs a"));
        // A server whose answer was not JSON-RPC: nothing to give a client.
        b.result(fs, b.call(fs, "read", {{"path", "/b"}}), "read", "", true,
                 formats::StepStatus::Error, "not json");
        const formats::ThreadId git = b.thread("mcp: git");
        b.result(git, b.call(git, "log", json::object()), "log", "git log", false,
                 formats::StepStatus::Ok, mcpAnswer(3, "git log"));
        b.beginRun("second");
        main = b.thread("main");
        b.result(main, b.call(main, "bash", {{"command", "ls"}}), "bash", "run 2 ls");
        b.finish();

        // Default: the last run, the agent's own tools.
        auto last = ToolReplay::load(path.toStdString(), {});
        QVERIFY(last.ok());
        QCOMPARE(last->run(), formats::RunId(2));
        QCOMPARE(last->take("bash", {{"command", "ls"}})->output, std::string("run 2 ls"));

        ToolReplaySelection agent;
        agent.run = firstRun;
        auto ofFirst = ToolReplay::load(path.toStdString(), agent);
        QVERIFY(ofFirst.ok());
        QCOMPARE(ofFirst->recordedCount(), size_t(1)); // not the MCP servers' calls
        QCOMPARE(ofFirst->take("bash", {{"command", "ls"}})->output, std::string("run 1 ls"));

        ToolReplaySelection mcp;
        mcp.source = ToolReplaySelection::Source::Mcp;
        mcp.run = firstRun;
        auto several = ToolReplay::load(path.toStdString(), mcp);
        QVERIFY(!several.ok());
        QCOMPARE(several.error().code, formats::ErrorCode::InvalidArgument);
        QVERIFY2(several.error().message.find("several MCP servers (fs, git)") != std::string::npos,
                 several.error().message.c_str());

        mcp.server = "fs";
        auto fsReplay = ToolReplay::load(path.toStdString(), mcp);
        QVERIFY(fsReplay.ok());
        QCOMPARE(fsReplay->recordedCount(), size_t(1));
        QVERIFY(jsonEqual(fsReplay->serverInfo()["name"], json("fs-server")));
        auto read = fsReplay->take("read", {{"path", "/a"}});
        QVERIFY(read.ok());
        QCOMPARE(read->answerLine, mcpAnswer(2, "fs a"));
        QVERIFY(!fsReplay->take("log", json::object()).ok()); // git's, not fs's
        QVERIFY(fsReplay->nextToolListLine()->find("\"id\":1") != std::string::npos);
        QVERIFY(fsReplay->nextToolListLine()->find("write") != std::string::npos);
        QVERIFY(fsReplay->nextToolListLine()->find("write") != std::string::npos); // the last again

        mcp.server = "nope";
        auto unknown = ToolReplay::load(path.toStdString(), mcp);
        QVERIFY(!unknown.ok());
        QCOMPARE(unknown.error().code, formats::ErrorCode::NotFound);
        QVERIFY2(unknown.error().message.find(
                     "no MCP server named \"nope\" (it recorded: fs, git)") != std::string::npos,
                 unknown.error().message.c_str());

        mcp.server.clear();
        mcp.run.reset(); // the second run has no MCP server
        auto none = ToolReplay::load(path.toStdString(), mcp);
        QVERIFY(!none.ok());
        QVERIFY2(none.error().message.find("recorded no MCP server") != std::string::npos,
                 none.error().message.c_str());

        agent.run = formats::RunId(7);
        auto noRun = ToolReplay::load(path.toStdString(), agent);
        QVERIFY(!noRun.ok());
        QCOMPARE(noRun.error().code, formats::ErrorCode::NotFound);
        QVERIFY2(noRun.error().message.find("has no run 7") != std::string::npos,
                 noRun.error().message.c_str());

        auto missing = ToolReplay::load(m_dir.filePath("no-such.tape").toStdString(), {});
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().code, formats::ErrorCode::Io);
    }

    // ---- tapedeck mcp --replay, for the real filesystem server

    // The same calls get the same answers, byte for byte, with the server's directory gone
    // and no server started; another id gets the same answer under its own id.
    void mcpReplayAnswersAsRecorded()
    {
        if (!hasMcpServer())
            QSKIP("node or @modelcontextprotocol/server-filesystem is missing: run npm ci "
                  "--prefix tests/npm");
        const McpRecording *recorded = mcpRecording();
        QVERIFY(recorded);
        QVERIFY(!QFileInfo::exists(recorded->allowed));

        LineProcess replay(QStringLiteral(TAPEDECK_BIN),
                           QStringList{"mcp", "--replay", recorded->tape, "--"} +
                               serverCommand(recorded->allowed));
        const std::optional<Answers> answers = talk(replay, recorded->allowed, recorded->outside);
        QVERIFY2(answers, replay.stderrText().constData());
        for (const char *id : {"2", "3", "4", "\"five\""})
            QVERIFY2(answers->at(id) == recorded->answers.at(id),
                     (std::string("the answer to id ") + id +
                      " differs: " + answers->at(id).substr(0, 200))
                         .c_str());
        // The refused read stays refused, and the listing names what was listed.
        QVERIFY(json::parse(answers->at("4"))["result"]["isError"] == true);
        QVERIFY(answers->at("3").find("hello from the allowed directory") != std::string::npos);

        const json init = json::parse(answers->at("1"));
        QVERIFY(jsonEqual(init["result"]["protocolVersion"], json("2025-06-18")));
        QVERIFY(jsonEqual(init["result"]["capabilities"], json({{"tools", json::object()}})));
        QVERIFY2(init["result"]["serverInfo"]["name"].get<std::string>().find("tapedeck") !=
                     std::string::npos,
                 answers->at("1").c_str());

        const std::optional<std::string> listedAgain = replay.call(request(42, "tools/list"));
        QVERIFY(listedAgain);
        json expected = json::parse(recorded->answers.at("2"));
        expected["id"] = 42;
        QVERIFY(jsonEqual(json::parse(*listedAgain), expected));
        const std::optional<std::string> pong = replay.call(request(43, "ping"));
        QVERIFY(pong);
        QVERIFY(jsonEqual(json::parse(*pong)["result"], json::object()));

        QCOMPARE(replay.closeAndWait(), 0);
        QVERIFY2(replay.restOfStdout().isEmpty(), replay.restOfStdout().constData());
        QVERIFY2(replay.stderrText().contains("no server is started"),
                 replay.stderrText().constData());
        QVERIFY(!QFileInfo::exists(recorded->allowed));
    }

    // A call the tape does not hold is a JSON-RPC error naming the tool and saying it was
    // not recorded with those arguments; a line on stderr; exit 1 at the end.
    void mcpReplayMissIsAJsonRpcError()
    {
        if (!hasMcpServer())
            QSKIP("node or @modelcontextprotocol/server-filesystem is missing: run npm ci "
                  "--prefix tests/npm");
        const McpRecording *recorded = mcpRecording();
        QVERIFY(recorded);
        LineProcess replay(QStringLiteral(TAPEDECK_BIN), {"mcp", "--replay", recorded->tape});
        const std::string other = (recorded->allowed + "/other.txt").toStdString();
        const std::optional<std::string> line = replay.call(readCall(7, other));
        QVERIFY2(line, replay.stderrText().constData());
        const json answer = json::parse(*line);
        QVERIFY2(answer.contains("error") && !answer.contains("result"), line->c_str());
        QVERIFY(jsonEqual(answer["id"], json(7)));
        QVERIFY(jsonEqual(answer["error"]["code"], json(-32602)));
        const std::string message = answer["error"]["message"].get<std::string>();
        for (const std::string &part :
             {std::string("tool read_text_file was not recorded with the arguments"), other,
              std::string("nearest recorded arguments"),
              (recorded->allowed + "/hello.txt").toStdString()})
            QVERIFY2(message.find(part) != std::string::npos, (part + " | " + message).c_str());
        QVERIFY(jsonEqual(answer["error"]["data"]["tool"], json("read_text_file")));
        QVERIFY(jsonEqual(answer["error"]["data"]["arguments"], json({{"path", other}})));

        // The recorded read is answered once; asked twice, the second is a miss.
        const std::string hello = (recorded->allowed + "/hello.txt").toStdString();
        QVERIFY(json::parse(*replay.call(readCall(8, hello))).contains("result"));
        const json again = json::parse(*replay.call(readCall(9, hello)));
        QVERIFY2(again["error"]["message"].get<std::string>().find("answered already") !=
                     std::string::npos,
                 again.dump().c_str());
        const json unknown = json::parse(*replay.call(
            request(10, "tools/call", {{"name", "write_file"}, {"arguments", {{"path", "/x"}}}})));
        QVERIFY2(unknown["error"]["message"].get<std::string>().find(
                     "no call of write_file was recorded") != std::string::npos,
                 unknown.dump().c_str());
        const json method = json::parse(*replay.call(request(11, "resources/list")));
        QVERIFY(jsonEqual(method["error"]["code"], json(-32601)));

        QCOMPARE(replay.closeAndWait(), 1);
        const QByteArray err = replay.stderrText();
        QVERIFY2(
            err.contains(("tool read_text_file was not recorded with the arguments {\"path\":\"" +
                          other + "\"}")
                             .c_str()),
            err.constData());
        QVERIFY2(err.contains("3 of 4 tool calls were not on the tape"), err.constData());
    }

    void mcpReplayBadInput_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("no such tape")
            << QStringList{"mcp", "--replay", "no-such.tape"} << 3 << "no-such.tape";
        QTest::newRow("no such run")
            << QStringList{"mcp", "--replay", "@mcp", "--run", "5"} << 1 << "has no run 5";
        QTest::newRow("no such server")
            << QStringList{"mcp", "--replay", "@mcp", "--server", "git"} << 1
            << "no MCP server named \"git\" (it recorded: server-filesystem)";
        QTest::newRow("server picked by its command")
            << QStringList{"mcp", "--replay", "@mcp", "--", "npx", "-y", "@acme/mcp-git@1.0"} << 1
            << "no MCP server named \"mcp-git\"";
        QTest::newRow("a tape without MCP")
            << QStringList{"mcp", "--replay", "@agent"} << 1 << "recorded no MCP server";
        QTest::newRow("replay and record")
            << QStringList{"mcp", "--replay", "@mcp", "-o", "x.tape"} << 2 << "excludes";
    }
    void mcpReplayBadInput()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        for (QString &arg : args) {
            if (arg == "@mcp") {
                const QString tape = m_dir.filePath("sources-mcp.tape");
                if (!QFileInfo::exists(tape)) {
                    TapeBuilder b(tape);
                    b.beginRun("mcp");
                    const formats::ThreadId fs = b.thread("mcp: server-filesystem");
                    b.result(fs, b.call(fs, "read", {{"path", "/a"}}), "read", "a", false,
                             formats::StepStatus::Ok, mcpAnswer(1, "a"));
                }
                arg = tape;
            } else if (arg == "@agent") {
                const QString tape = m_dir.filePath("sources-agent.tape");
                if (!QFileInfo::exists(tape)) {
                    TapeBuilder b(tape);
                    b.beginRun("agent");
                    const formats::ThreadId main = b.thread("main");
                    b.result(main, b.call(main, "bash", {{"command", "ls"}}), "bash", "ls");
                }
                arg = tape;
            }
        }
        QProcess p;
        p.setWorkingDirectory(m_dir.path());
        p.setProcessChannelMode(QProcess::SeparateChannels);
        p.start(QStringLiteral(TAPEDECK_BIN), args);
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(20000));
        const QByteArray err = p.readAllStandardError();
        QCOMPARE(p.exitCode(), exitCode);
        QVERIFY2(err.contains(message.toUtf8()), err.constData());
    }

    // ---- tapedeck-agent --replay-tools

    // The recorded run again, in an empty directory: the same answer, no file created, and
    // each tool output the one recorded (the timestamp too, so nothing was run again).
    void agentReplaysItsTools()
    {
        const AgentRecording *recorded = agentRecording();
        QVERIFY(recorded);
        QVERIFY(QFileInfo::exists(recorded->work + "/stamp.txt"));

        const QString empty = m_dir.filePath("agent-empty");
        QVERIFY(QDir().mkpath(empty));
        const QString script = m_dir.filePath("agent-turns-again.jsonl");
        writeScript(script, kAgentScript);
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        QVERIFY(model.port() > 0);
        const QString again = m_dir.filePath("agent-again.tape");
        const Finished f = runProcess(QStringLiteral(TAPEDECK_BIN),
                                      QStringList{"record", "-o", again, "--upstream",
                                                  QString::fromStdString(model.url("")), "--"} +
                                          agentCommand(empty, {"--replay-tools", recorded->tape}));
        QVERIFY2(f.exitCode == 0, f.err.constData());
        QCOMPARE(f.out, recorded->out);
        QVERIFY2(f.out.contains("Done: note.txt says hello."), f.out.constData());
        QVERIFY2(f.err.contains("tools are not run"), f.err.constData());
        QCOMPARE(QDir(empty).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
                 QStringList());

        const std::vector<formats::Step> before =
            stepsOfKind(recorded->tape, formats::StepKind::ToolResult);
        const std::vector<formats::Step> after = stepsOfKind(again, formats::StepKind::ToolResult);
        QCOMPARE(before.size(), size_t(4));
        QCOMPARE(after.size(), before.size());
        for (size_t k = 0; k < before.size(); ++k) {
            QCOMPARE(after[k].name, before[k].name);
            QVERIFY2(after[k].payload == before[k].payload,
                     (after[k].payload.dump() + " vs " + before[k].payload.dump()).c_str());
        }
        QVERIFY(before[2].payload["is_error"] == true); // cat missing.txt failed, and again
        const QByteArray stamp = [&] {
            QFile file(recorded->work + "/stamp.txt");
            file.open(QIODevice::ReadOnly);
            return file.readAll();
        }();
        QVERIFY2(after[1].payload["output"].get<std::string>().find(
                     stamp.trimmed().toStdString()) != std::string::npos,
                 after[1].payload.dump().c_str());
    }

    // A tool call that was not recorded stops the agent: a clear error, exit 5, and no
    // further model call.
    void agentStopsAtAToolCallNotRecorded()
    {
        const AgentRecording *recorded = agentRecording();
        QVERIFY(recorded);
        const QString empty = m_dir.filePath("agent-empty-miss");
        QVERIFY(QDir().mkpath(empty));
        std::vector<std::string> changed = kAgentScript;
        changed[1] =
            R"({"tool_calls":[{"name":"bash","arguments":{"command":"date +%s%N | tee other.txt"}}]})";
        const QString script = m_dir.filePath("agent-turns-changed.jsonl");
        writeScript(script, changed);
        const QString log = m_dir.filePath("agent-miss-model.log");
        ModelProcess model({"--policy", "script", "--script", script, "--quiet", "--log", log});
        QVERIFY(model.port() > 0);
        const Finished f =
            runProcess(QStringLiteral(TAPEDECK_AGENT_BIN),
                       agentCommand(empty, {"--replay-tools", recorded->tape}).mid(1),
                       {{"ANTHROPIC_BASE_URL", QString::fromStdString(model.url(""))}});
        QVERIFY2(f.exitCode == 5, f.err.constData());
        for (const char *part :
             {"tool bash was not recorded with the arguments {\"command\":\"date +%s%N | tee "
              "other.txt\"}",
              "nearest recorded arguments", "date +%s%N | tee stamp.txt", "differ in: command",
              "stopped:    tool call not answered (exit 5)"})
            QVERIFY2(f.err.contains(part),
                     (std::string(part) + " | " + f.err.toStdString()).c_str());
        QVERIFY2(f.err.contains(recorded->tape.toUtf8()), f.err.constData());
        QCOMPARE(QDir(empty).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
                 QStringList());
        std::ifstream in(log.toStdString());
        int requests = 0;
        for (std::string line; std::getline(in, line);)
            requests += line.empty() ? 0 : 1;
        QCOMPARE(requests, 2); // the write_file turn and the one that asked for the new command
    }

    void agentCannotReadTheTape()
    {
        const Finished f = runProcess(QStringLiteral(TAPEDECK_AGENT_BIN),
                                      {"--model", "m", "--base-url", "http://127.0.0.1:1",
                                       "--replay-tools", m_dir.filePath("no-such.tape"), "task"});
        QCOMPARE(f.exitCode, 2);
        QVERIFY2(f.err.contains("cannot answer tools from"), f.err.constData());
        QVERIFY2(f.err.contains("no-such.tape"), f.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestToolReplay)
#include "tst_toolreplay.moc"
