// tapedeck-agent end to end: the real agent binary against the real tapedeck-model binary
// (script policy) over loopback HTTP, in a temporary workspace. What the model was sent is
// read back from the server's --log and decoded with the wire codecs, so each test checks
// both sides: the real effect of a tool on the files, and the result the model received.
#include "modelprocess.h"

#include <tapedeck/formats/wire.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

// One request as the server saw it: its log line and its neutral form.
struct SeenRequest {
    json line;
    wire::Request request;

    const wire::Message &last() const { return request.messages.back(); }
    std::string header(const std::string &name) const
    {
        for (const auto &[key, value] : line["headers"].items()) {
            if (QString::fromStdString(key).compare(q(name), Qt::CaseInsensitive) == 0)
                return value.get<std::string>();
        }
        return {};
    }
};

struct AgentRun {
    int exitCode = -1; // -1: crashed or timed out
    QByteArray out;
    QByteArray err;
    qint64 ms = 0;
    std::vector<SeenRequest> requests;
    QString problem; // what went wrong with the harness itself

    QByteArray describe() const
    {
        QByteArray text =
            "exit " + QByteArray::number(exitCode) + " after " + QByteArray::number(ms) + " ms, " +
            QByteArray::number(static_cast<qsizetype>(requests.size())) +
            " requests\n--- stdout:\n" + out.left(3000) + "\n--- stderr:\n" + err.left(6000);
        if (!problem.isEmpty())
            text += "\n--- harness: " + problem.toUtf8();
        return text;
    }
};

// A workspace, a script, a running model server and the agent run against it.
class Scenario {
public:
    Scenario(const std::vector<json> &turns, const QString &api = QStringLiteral("openai"),
             const QStringList &serverArgs = {})
        : m_api(api)
    {
        QDir(m_dir.path()).mkdir(QStringLiteral("ws"));
        QFile script(m_dir.filePath(QStringLiteral("script.jsonl")));
        if (script.open(QIODevice::WriteOnly)) {
            for (const json &turn : turns)
                script.write(QByteArray::fromStdString(turn.dump()) + "\n");
        }
        script.close();
        m_server = std::make_unique<ModelProcess>(
            QStringList{QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--policy"), QStringLiteral("script"),
                        QStringLiteral("--script"), script.fileName(), QStringLiteral("--log"),
                        logPath(), QStringLiteral("--quiet")} +
            serverArgs);
    }

    bool ready() const { return m_dir.isValid() && m_server->port() > 0; }
    QString baseUrl(const QString &suffix = {}) const
    {
        return QStringLiteral("http://127.0.0.1:%1").arg(m_server->port()) + suffix;
    }
    QString workspace(const QString &name = {}) const
    {
        return name.isEmpty() ? m_dir.filePath(QStringLiteral("ws"))
                              : m_dir.filePath(QStringLiteral("ws/") + name);
    }
    QString logPath() const { return m_dir.filePath(QStringLiteral("log.jsonl")); }
    void stopServer() { m_server->stop(); }

    void writeFile(const QString &name, const QByteArray &content) const
    {
        QFile file(workspace(name));
        QDir().mkpath(QFileInfo(file).absolutePath());
        if (file.open(QIODevice::WriteOnly))
            file.write(content);
    }
    QByteArray readFile(const QString &name) const
    {
        QFile file(workspace(name));
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }

    // The agent as a process; the base URL comes from the environment unless `args` gives it.
    void start(QProcess &agent, const QStringList &args) const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("OPENAI_BASE_URL"), baseUrl(QStringLiteral("/v1")));
        env.insert(QStringLiteral("ANTHROPIC_BASE_URL"), baseUrl());
        env.insert(QStringLiteral("OPENAI_API_KEY"), QStringLiteral("sk-openai-test"));
        env.insert(QStringLiteral("ANTHROPIC_API_KEY"), QStringLiteral("sk-ant-test"));
        agent.setProcessEnvironment(env);
        agent.setProgram(QStringLiteral(TAPEDECK_AGENT_BIN));
        agent.setArguments(QStringList{QStringLiteral("--api"), m_api, QStringLiteral("--model"),
                                       m_api == QLatin1String("anthropic")
                                           ? QStringLiteral("claude-test")
                                           : QStringLiteral("gpt-test"),
                                       QStringLiteral("--workdir"), workspace()} +
                           args);
        agent.start();
    }

    // Waits for the agent, stops the server and reads what it logged.
    AgentRun finish(QProcess &agent, const QElapsedTimer &timer, int timeoutMs = 60000)
    {
        AgentRun run;
        if (!agent.waitForFinished(timeoutMs)) {
            agent.kill();
            agent.waitForFinished();
            run.problem = QStringLiteral("the agent did not finish in time");
        } else if (agent.exitStatus() == QProcess::NormalExit) {
            run.exitCode = agent.exitCode();
        }
        run.ms = timer.elapsed();
        run.out = agent.readAllStandardOutput();
        run.err = agent.readAllStandardError();
        stopServer();
        QFile log(logPath());
        if (!log.open(QIODevice::ReadOnly))
            return run;
        for (const QByteArray &raw : log.readAll().split('\n')) {
            if (raw.trimmed().isEmpty())
                continue;
            SeenRequest seen;
            seen.line = json::parse(raw.toStdString(), nullptr, false);
            const std::string path = seen.line.value("path", std::string());
            const auto api = wire::apiForPath(path);
            if (!api) {
                run.problem = QStringLiteral("a request to ") + q(path) +
                              QStringLiteral(" is not a model call");
                continue;
            }
            auto parsed = wire::parseRequest(*api, seen.line["body"]);
            if (!parsed) {
                run.problem = q(parsed.error().message);
                continue;
            }
            seen.request = std::move(*parsed);
            run.requests.push_back(std::move(seen));
        }
        return run;
    }

    AgentRun run(const QStringList &args, const QByteArray &input = {}, int timeoutMs = 60000)
    {
        QProcess agent;
        QElapsedTimer timer;
        timer.start();
        start(agent, args);
        if (!agent.waitForStarted(10000))
            return {};
        agent.write(input);
        agent.closeWriteChannel();
        return finish(agent, timer, timeoutMs);
    }

private:
    QTemporaryDir m_dir;
    QString m_api;
    std::unique_ptr<ModelProcess> m_server;
};

json toolTurn(const std::string &name, const json &arguments)
{
    return {{"tool_calls", json::array({{{"name", name}, {"arguments", arguments}}})}};
}

json textTurn(const std::string &text)
{
    return {{"text", text}};
}

const QString kTask = QStringLiteral("Do the task.");

bool processAlive(pid_t pid)
{
    return pid > 0 && ::kill(pid, 0) == 0;
}

} // namespace

class TestAgent : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFile::exists(QStringLiteral(TAPEDECK_AGENT_BIN)), TAPEDECK_AGENT_BIN);
        QVERIFY2(QFile::exists(QStringLiteral(TAPEDECK_MODEL_BIN)), TAPEDECK_MODEL_BIN);
    }

    // Each tool does its real work, and its real output is what the next request carries.
    void tool_data()
    {
        QTest::addColumn<QString>("api");
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QString>("arguments");  // JSON
        QTest::addColumn<QString>("resultHas");  // in the tool result the model receives
        QTest::addColumn<QString>("file");       // a file the tool must leave behind ...
        QTest::addColumn<QByteArray>("content"); // ... with this content
        for (const QString &api : {QStringLiteral("openai"), QStringLiteral("anthropic")}) {
            const QByteArray tag = api.toUtf8() + ": ";
            QTest::newRow(tag + "bash")
                << api << "bash"
                << R"({"command": "echo made > made.txt; echo to-stdout; echo to-stderr >&2"})"
                << "to-stdout\nto-stderr\n[exit status 0]"
                << "made.txt" << QByteArray("made\n");
            QTest::newRow(tag + "write_file")
                << api << "write_file"
                << R"({"path": "deep/er/new.txt", "content": "line 1\nline 2\n"})"
                << "wrote 14 bytes to deep/er/new.txt"
                << "deep/er/new.txt" << QByteArray("line 1\nline 2\n");
            QTest::newRow(tag + "read_file")
                << api << "read_file"
                << R"({"path": "given.txt"})"
                << "alpha beta gamma\nsecond line\n"
                << "given.txt" << QByteArray("alpha beta gamma\nsecond line\n");
            QTest::newRow(tag + "read_file part")
                << api << "read_file"
                << R"({"path": "given.txt", "offset": 2, "limit": 1})"
                << "second line"
                << "given.txt" << QByteArray("alpha beta gamma\nsecond line\n");
            QTest::newRow(tag + "edit_file")
                << api << "edit_file"
                << R"({"path": "given.txt", "old_string": "beta", "new_string": "BETA"})"
                << "replaced 1 occurrence in given.txt"
                << "given.txt" << QByteArray("alpha BETA gamma\nsecond line\n");
            QTest::newRow(tag + "list_dir")
                << api << "list_dir"
                << R"({})"
                << "given.txt (29 bytes)\nsub/\n"
                << "given.txt" << QByteArray("alpha beta gamma\nsecond line\n");
            QTest::newRow(tag + "todo")
                << api << "todo"
                << R"({"items": [{"content": "read the code", "status": "done"},
                                 {"content": "fix the bug", "status": "in_progress"},
                                 {"content": "run the tests", "status": "pending"}]})"
                << "[x] read the code\n[>] fix the bug\n[ ] run the tests"
                << "" << QByteArray();
        }
    }
    void tool()
    {
        QFETCH(QString, api);
        QFETCH(QString, tool);
        QFETCH(QString, arguments);
        QFETCH(QString, resultHas);
        QFETCH(QString, file);
        QFETCH(QByteArray, content);

        Scenario s({toolTurn(tool.toStdString(), json::parse(arguments.toStdString())),
                    textTurn("All done.")},
                   api);
        QVERIFY(s.ready());
        s.writeFile(QStringLiteral("given.txt"), "alpha beta gamma\nsecond line\n");
        QDir(s.workspace()).mkdir(QStringLiteral("sub"));
        const AgentRun run = s.run({kTask});
        QVERIFY2(run.exitCode == 0, run.describe());
        QCOMPARE(run.requests.size(), size_t(2));
        const wire::Message &result = run.requests[1].last();
        QCOMPARE(result.role, wire::Role::Tool);
        QVERIFY2(q(result.text).contains(resultHas), result.text.c_str());
        QVERIFY(!result.isError);
        QCOMPARE(result.toolCallId, run.requests[1].request.messages[1].toolCalls.at(0).id);
        if (!file.isEmpty())
            QCOMPARE(s.readFile(file), content);
        QVERIFY2(run.out.contains("All done."), run.describe());
        QVERIFY2(run.err.contains("[step 1]   " + tool.toUtf8()), run.describe());
    }

    // A tool that fails gives the model its error, and the run goes on.
    void failingTool_data()
    {
        QTest::addColumn<QString>("api");
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QString>("arguments");
        QTest::addColumn<QString>("errorHas");
        QTest::addColumn<QString>("progressHas");
        for (const QString &api : {QStringLiteral("openai"), QStringLiteral("anthropic")}) {
            const QByteArray tag = api.toUtf8() + ": ";
            QTest::newRow(tag + "bash exit 1") << api << "bash"
                                               << R"({"command": "echo broken >&2; exit 1"})"
                                               << "broken\n[exit status 1]"
                                               << "exit 1";
            QTest::newRow(tag + "read missing")
                << api << "read_file"
                << R"({"path": "nowhere.txt"})"
                << "read_file: nowhere.txt: No such file or directory"
                << "error";
            QTest::newRow(tag + "edit ambiguous")
                << api << "edit_file"
                << R"({"path": "given.txt", "old_string": "a", "new_string": "b"})"
                << "old_string occurs 4 times in the file; it must occur exactly once"
                << "error";
            QTest::newRow(tag + "edit absent")
                << api << "edit_file"
                << R"({"path": "given.txt", "old_string": "zebra", "new_string": "b"})"
                << "old_string does not occur in the file"
                << "error";
            QTest::newRow(tag + "missing argument")
                << api << "write_file"
                << R"({"path": "x.txt"})"
                << "write_file: argument \"content\" must be a string"
                << "error";
            QTest::newRow(tag + "unknown tool")
                << api << "browse"
                << R"({"url": "x"})"
                << "unknown tool \"browse\"; the tools are: bash, read_file"
                << "error";
        }
    }
    void failingTool()
    {
        QFETCH(QString, api);
        QFETCH(QString, tool);
        QFETCH(QString, arguments);
        QFETCH(QString, errorHas);
        QFETCH(QString, progressHas);

        Scenario s({toolTurn(tool.toStdString(), json::parse(arguments.toStdString())),
                    {{"expect", errorHas.toStdString()}, {"text", "I see the error."}}},
                   api);
        QVERIFY(s.ready());
        s.writeFile(QStringLiteral("given.txt"), "banana bread");
        const AgentRun run = s.run({kTask});
        QVERIFY2(run.exitCode == 0, run.describe());
        QCOMPARE(run.requests.size(), size_t(2));
        const wire::Message &result = run.requests[1].last();
        QVERIFY2(q(result.text).contains(errorHas), result.text.c_str());
        // Chat Completions has no error flag for tool results; Messages has is_error.
        if (api == QLatin1String("anthropic"))
            QVERIFY(result.isError);
        QCOMPARE(s.readFile(QStringLiteral("given.txt")), QByteArray("banana bread"));
        QVERIFY2(run.err.contains(") " + progressHas.toUtf8() + "\n"), run.describe());
        QVERIFY2(run.err.contains("errors:     1 tool results were errors"), run.describe());
    }

    // Arguments that are not JSON reach the model as an error, not a crash.
    void invalidArguments()
    {
        Scenario s({{{"tool_calls",
                      json::array({{{"name", "bash"}, {"arguments", "{\"command\": \"ls"}}})}},
                    {{"expect", "not valid JSON"}, {"text", "ok"}}});
        QVERIFY(s.ready());
        const AgentRun run = s.run({kTask});
        QVERIFY2(run.exitCode == 0, run.describe());
        QCOMPARE(run.requests.size(), size_t(2));
        QVERIFY(q(run.requests[1].last().text)
                    .contains(QStringLiteral("bash: the arguments are not valid JSON")));
    }

    // Both APIs, each with its own path and auth header; the base URL works with or without /v1.
    void apis_data()
    {
        QTest::addColumn<QString>("api");
        QTest::addColumn<QString>("suffix");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("authHeader");
        QTest::addColumn<QString>("authValue");
        for (const QString &suffix :
             {QString(), QStringLiteral("/"), QStringLiteral("/v1"), QStringLiteral("/v1/")}) {
            QTest::newRow(("openai " + suffix).toUtf8())
                << "openai" << suffix << "/v1/chat/completions"
                << "authorization"
                << "Bearer sk-o***(len=14)";
            QTest::newRow(("anthropic " + suffix).toUtf8())
                << "anthropic" << suffix << "/v1/messages"
                << "x-api-key"
                << "sk-a***(len=11)";
        }
    }
    void apis()
    {
        QFETCH(QString, api);
        QFETCH(QString, suffix);
        QFETCH(QString, path);
        QFETCH(QString, authHeader);
        QFETCH(QString, authValue);

        Scenario s({toolTurn("bash", {{"command", "echo hi"}}),
                    textTurn("The answer, streamed in many small pieces.")},
                   api);
        QVERIFY(s.ready());
        const AgentRun run = s.run({QStringLiteral("--base-url"), s.baseUrl(suffix), kTask});
        QVERIFY2(run.exitCode == 0, run.describe());
        QCOMPARE(run.requests.size(), size_t(2));
        for (const SeenRequest &seen : run.requests) {
            QCOMPARE(q(seen.line["path"].get<std::string>()), path);
            QCOMPARE(q(seen.header(authHeader.toStdString())), authValue);
            QVERIFY(seen.request.stream);
            QCOMPARE(seen.request.tools.size(), size_t(6));
            QCOMPARE(seen.request.messages.front().text, kTask.toStdString());
            QVERIFY(!seen.request.system.empty());
        }
        if (api == QLatin1String("anthropic"))
            QCOMPARE(q(run.requests[0].header("anthropic-version")), QStringLiteral("2023-06-01"));
        const auto &bash = run.requests[0].request.tools[0];
        QCOMPARE(bash.name, std::string("bash"));
        QVERIFY(bash.parameters["required"] == json::array({"command"}));
        QVERIFY2(run.out.contains("The answer, streamed in many small pieces."), run.describe());
    }

    // The answer is printed as it streams in, not when it is complete.
    void streamsLive()
    {
        const std::string text(200, 'w');
        Scenario s({textTurn(text)}, QStringLiteral("openai"),
                   {QStringLiteral("--chunk-ms"), QStringLiteral("100"),
                    QStringLiteral("--chars-per-delta"), QStringLiteral("20")});
        QVERIFY(s.ready());
        QProcess agent;
        QElapsedTimer timer;
        timer.start();
        s.start(agent, {kTask});
        QByteArray early;
        while (early.isEmpty() && agent.state() != QProcess::NotRunning &&
               timer.elapsed() < 10000) {
            agent.waitForReadyRead(50);
            early += agent.readAllStandardOutput();
        }
        const qint64 firstTextMs = timer.elapsed();
        QVERIFY(!early.isEmpty());
        QVERIFY2(early.size() < qsizetype(text.size()), early.constData());
        AgentRun run = s.finish(agent, timer);
        QVERIFY2(run.exitCode == 0, run.describe());
        QVERIFY2(
            run.ms - firstTextMs >= 400,
            qPrintable(
                QStringLiteral("first text at %1 ms, end at %2 ms").arg(firstTextMs).arg(run.ms)));
        QCOMPARE(early + run.out, QByteArray::fromStdString(text) + "\n");
    }

    void stepBudget()
    {
        std::vector<json> turns(5, toolTurn("bash", {{"command", "echo again"}}));
        Scenario s(turns);
        QVERIFY(s.ready());
        const AgentRun run = s.run({QStringLiteral("--max-steps"), QStringLiteral("2"), kTask});
        QVERIFY2(run.exitCode == 3, run.describe());
        QCOMPARE(run.requests.size(), size_t(2));
        QVERIFY2(
            run.err.contains("stopped:    step budget exhausted (exit 3): used 2 of 2 model calls"),
            run.describe());
        QVERIFY2(run.err.contains("tool calls: 2 (bash 2)"), run.describe());
    }

    void tokenBudget()
    {
        json turn = toolTurn("bash", {{"command", "true"}});
        turn["usage"] = {{"input_tokens", 1000}, {"output_tokens", 10}};
        Scenario s(std::vector<json>(5, turn));
        QVERIFY(s.ready());
        const AgentRun run = s.run({QStringLiteral("--max-tokens"), QStringLiteral("1500"), kTask});
        QVERIFY2(run.exitCode == 3, run.describe());
        // 1010 tokens after the first call is under the budget, 2020 after the second is not.
        QCOMPARE(run.requests.size(), size_t(2));
        QVERIFY2(run.err.contains("token budget exhausted (exit 3): used 2020 of 1500 tokens"),
                 run.describe());
        QVERIFY2(run.err.contains("tokens:     2000 in, 20 out"), run.describe());
    }

    void wallBudget()
    {
        Scenario s(std::vector<json>(6, toolTurn("bash", {{"command", "sleep 0.6"}})));
        QVERIFY(s.ready());
        const AgentRun run =
            s.run({QStringLiteral("--max-wall-seconds"), QStringLiteral("1"), kTask});
        QVERIFY2(run.exitCode == 3, run.describe());
        QCOMPARE(run.requests.size(), size_t(2));
        QVERIFY2(run.err.contains("wall-time budget exhausted (exit 3)"), run.describe());
        QVERIFY2(run.ms < 5000, run.describe());
    }

    void approvals_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<bool>("asked");
        QTest::addColumn<bool>("ran");
        const QString write = QStringLiteral("write_file");
        QTest::newRow("risky, n: write denied")
            << "risky" << write << QByteArray("n\n") << true << false;
        QTest::newRow("risky, y: write runs")
            << "risky" << write << QByteArray("y\n") << true << true;
        QTest::newRow("risky, no input: denied")
            << "risky" << write << QByteArray() << true << false;
        QTest::newRow("risky, other answer: denied")
            << "risky" << write << QByteArray("sure\n") << true << false;
        QTest::newRow("risky: bash asked") << "risky"
                                           << "bash" << QByteArray("n\n") << true << false;
        QTest::newRow("risky: read not asked") << "risky"
                                               << "read_file" << QByteArray() << false << true;
        QTest::newRow("always: read asked") << "always"
                                            << "read_file" << QByteArray("no\n") << true << false;
        QTest::newRow("never: write not asked")
            << "never" << write << QByteArray() << false << true;
    }
    void approvals()
    {
        QFETCH(QString, mode);
        QFETCH(QString, tool);
        QFETCH(QByteArray, input);
        QFETCH(bool, asked);
        QFETCH(bool, ran);

        const json arguments =
            tool == QLatin1String("bash")        ? json{{"command", "echo ran > out.txt"}}
            : tool == QLatin1String("read_file") ? json{{"path", "out.txt"}}
                                                 : json{{"path", "out.txt"}, {"content", "ran\n"}};
        Scenario s({toolTurn(tool.toStdString(), arguments), textTurn("ok")});
        QVERIFY(s.ready());
        if (tool == QLatin1String("read_file"))
            s.writeFile(QStringLiteral("out.txt"), "ran\n");
        const AgentRun run = s.run({QStringLiteral("--approve"), mode, kTask}, input);
        QVERIFY2(run.exitCode == 0, run.describe());
        QCOMPARE(run.requests.size(), size_t(2));
        QCOMPARE(run.err.contains("approve " + tool.toUtf8()), asked);
        const wire::Message &result = run.requests[1].last();
        if (ran) {
            QCOMPARE(s.readFile(QStringLiteral("out.txt")), QByteArray("ran\n"));
            QVERIFY2(!q(result.text).contains(QStringLiteral("denied")), result.text.c_str());
        } else {
            if (tool != QLatin1String("read_file"))
                QVERIFY(!QFile::exists(s.workspace(QStringLiteral("out.txt"))));
            QCOMPARE(result.text, std::string("The user denied this tool call; it was not run."));
            QVERIFY2(run.err.contains(") denied\n"), run.describe());
        }
    }

    // On a terminal the question is asked again until the answer is y or n.
    void approvalsOnATerminal()
    {
        Scenario s(
            {toolTurn("write_file", {{"path", "x.txt"}, {"content", "hi"}}), textTurn("ok")});
        QVERIFY(s.ready());
        int terminal = -1;
        const std::string program = TAPEDECK_AGENT_BIN;
        const std::string base = "OPENAI_BASE_URL=" + s.baseUrl().toStdString();
        const std::string workdir = s.workspace().toStdString();
        // Everything the child needs is made before the fork: only exec runs after it.
        std::vector<char *> argv{const_cast<char *>(program.c_str()),
                                 const_cast<char *>("--model"),
                                 const_cast<char *>("m"),
                                 const_cast<char *>("--workdir"),
                                 const_cast<char *>(workdir.c_str()),
                                 const_cast<char *>("--approve"),
                                 const_cast<char *>("risky"),
                                 const_cast<char *>("task"),
                                 nullptr};
        std::vector<char *> envp{const_cast<char *>(base.c_str()), nullptr};
        const pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
        QVERIFY(pid >= 0);
        if (pid == 0) {
            execve(program.c_str(), argv.data(), envp.data());
            _exit(127);
        }
        QByteArray screen;
        auto readUntil = [&](const QByteArray &needle, int count) {
            QElapsedTimer timer;
            timer.start();
            while (screen.count(needle) < count && timer.elapsed() < 10000) {
                pollfd pfd{terminal, POLLIN, 0};
                char buffer[4096];
                if (poll(&pfd, 1, 100) > 0) {
                    const ssize_t n = read(terminal, buffer, sizeof buffer);
                    if (n <= 0)
                        break;
                    screen.append(buffer, n);
                }
            }
            return screen.count(needle) >= count;
        };
        QVERIFY2(readUntil("approve write_file x.txt? [y/n] ", 1), screen.constData());
        QVERIFY(write(terminal, "maybe\n", 6) == 6);
        QVERIFY2(readUntil("approve write_file x.txt? [y/n] ", 2), screen.constData());
        QVERIFY(screen.contains("please answer y or n"));
        QVERIFY(write(terminal, "y\n", 2) == 2);
        QVERIFY2(readUntil("--- summary", 1), screen.constData());
        readUntil("stopped:", 1);
        int status = 0;
        QCOMPARE(waitpid(pid, &status, 0), pid);
        close(terminal);
        QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0, screen.constData());
        QCOMPARE(s.readFile(QStringLiteral("x.txt")), QByteArray("hi"));
    }

    // Two answers on stdin for two questions: each question takes one line.
    void approvalsOneLineEach()
    {
        Scenario s({{{"tool_calls",
                      json::array({{{"name", "write_file"},
                                    {"arguments", {{"path", "a.txt"}, {"content", "a"}}}},
                                   {{"name", "write_file"},
                                    {"arguments", {{"path", "b.txt"}, {"content", "b"}}}}})}},
                    textTurn("ok")});
        QVERIFY(s.ready());
        const AgentRun run =
            s.run({QStringLiteral("--approve"), QStringLiteral("risky"), kTask}, "n\ny\n");
        QVERIFY2(run.exitCode == 0, run.describe());
        QVERIFY(!QFile::exists(s.workspace(QStringLiteral("a.txt"))));
        QCOMPARE(s.readFile(QStringLiteral("b.txt")), QByteArray("b"));
        const auto &messages = run.requests.at(1).request.messages;
        QCOMPARE(messages[messages.size() - 2].text,
                 std::string("The user denied this tool call; it was not run."));
        QVERIFY(q(messages.back().text).startsWith(QStringLiteral("wrote 1 byte")));
    }

    // Past --compact-at-tokens the model is asked for a summary (tool use switched off, the
    // contract's prompt), and the next request starts from that summary plus the latest turn.
    void compaction_data()
    {
        QTest::addColumn<QString>("api");
        QTest::newRow("openai") << "openai";
        QTest::newRow("anthropic") << "anthropic";
    }
    void compaction()
    {
        QFETCH(QString, api);
        Scenario s({toolTurn("bash", {{"command", "printf 'x%.0s' $(seq 1 4000); echo"}}),
                    toolTurn("bash", {{"command", "echo second-step"}}),
                    {{"on", "compaction"},
                     {"text", "The task was X; bash printed many x and then second-step."}},
                    {{"expect", "second-step"}, {"text", "Finished after compaction."}}},
                   api);
        QVERIFY(s.ready());
        const AgentRun run =
            s.run({QStringLiteral("--compact-at-tokens"), QStringLiteral("500"), kTask});
        QVERIFY2(run.exitCode == 0, run.describe());
        QCOMPARE(run.requests.size(), size_t(4));

        const wire::Request &compaction = run.requests[2].request;
        QVERIFY(!compaction.tools.empty());
        const nlohmann::json toolChoice = compaction.extra.value("tool_choice", nlohmann::json());
        QVERIFY2(toolChoice == "none" || toolChoice == nlohmann::json({{"type", "none"}}),
                 toolChoice.dump().c_str());
        QCOMPARE(compaction.messages.back().role, wire::Role::User);
        QVERIFY(q(compaction.messages.back().text)
                    .startsWith(QStringLiteral("Write a summary of the conversation so far")));
        QCOMPARE(compaction.messages.size(), size_t(6)); // task, 2 x (call, result), the prompt
        QVERIFY(run.requests[2].line["response"]["decision"] == "compaction");

        const wire::Request &after = run.requests[3].request;
        QCOMPARE(after.tools.size(), size_t(6));
        QCOMPARE(after.messages.size(), size_t(3)); // the summary, the latest call and its result
        QCOMPARE(after.messages[0].role, wire::Role::User);
        QCOMPARE(after.messages[0].text,
                 std::string("[Summary of the earlier conversation] The task was X; "
                             "bash printed many x and then second-step."));
        QVERIFY(after.messages[1].toolCalls.at(0).arguments["command"] == "echo second-step");
        QVERIFY(!q(after.messages[2].text).contains(QStringLiteral("xxxx")));
        QVERIFY2(run.err.contains("[step 3] compaction"), run.describe());
        QVERIFY2(run.err.contains("steps:      4 model calls (1 compactions, 0 retries)"),
                 run.describe());
    }

    // An empty summary does not replace the conversation.
    void compactionWithoutSummary()
    {
        Scenario s({toolTurn("bash", {{"command", "printf 'x%.0s' $(seq 1 4000); echo"}}),
                    toolTurn("bash", {{"command", "echo second-step"}}),
                    {{"on", "compaction"}, {"text", ""}},
                    textTurn("Finished.")});
        QVERIFY(s.ready());
        const AgentRun run =
            s.run({QStringLiteral("--compact-at-tokens"), QStringLiteral("500"), kTask});
        QVERIFY2(run.exitCode == 0, run.describe());
        QCOMPARE(run.requests.size(), size_t(4));
        QCOMPARE(run.requests[3].request.messages.size(), size_t(5));
        QCOMPARE(run.requests[3].request.messages[0].text, kTask.toStdString());
        QVERIFY2(run.err.contains("compaction gave no summary; the conversation is kept"),
                 run.describe());
    }

    // A 429 with retry-after and a stream dropped halfway are retried; the run completes.
    void retries()
    {
        Scenario s(
            {{{"fault",
               {{"kind", "http"}, {"status", 429}, {"message", "slow down"}, {"retry_after", 1}}}},
             toolTurn("bash", {{"command", "echo after-429"}}),
             {{"fault", {{"kind", "drop"}, {"after_events", 2}}},
              {"text", "this answer is cut short"}},
             {{"expect", "after-429"}, {"text", "Complete answer."}}});
        QVERIFY(s.ready());
        const AgentRun run = s.run({kTask});
        QVERIFY2(run.exitCode == 0, run.describe());
        QCOMPARE(run.requests.size(), size_t(4));
        QVERIFY2(run.err.contains("retrying: HTTP 429 from"), run.describe());
        QVERIFY2(run.err.contains("slow down; retry 1 of 4 in 1.0s"), run.describe());
        QVERIFY2(run.err.contains("retrying: stream"), run.describe());
        QVERIFY2(run.ms >= 1000, run.describe()); // retry-after was waited for
        // The retried requests are the same conversation: nothing was lost or doubled.
        QCOMPARE(run.requests[1].request.messages.size(), run.requests[0].request.messages.size());
        QCOMPARE(run.requests[3].request.messages.size(), run.requests[2].request.messages.size());
        QVERIFY2(run.out.contains("Complete answer."), run.describe());
        QVERIFY2(run.err.contains("(0 compactions, 2 retries)"), run.describe());
    }

    // Errors that retrying cannot fix, or that outlast the retries, end the run with exit 1.
    void apiErrors_data()
    {
        QTest::addColumn<QString>("api");
        QTest::addColumn<QString>("turns"); // JSON array
        QTest::addColumn<QStringList>("errHas");
        QTest::addColumn<int>("requests");
        for (const QString &api : {QStringLiteral("openai"), QStringLiteral("anthropic")}) {
            const QByteArray tag = api.toUtf8() + ": ";
            QTest::newRow(tag + "400")
                << api
                << R"([{"fault": {"kind": "http", "status": 400, "message": "messages: bad shape"}}])"
                << QStringList{QStringLiteral("HTTP 400 from http://127.0.0.1:"),
                               QStringLiteral(": messages: bad shape")}
                << 1;
            QTest::newRow(tag + "500 twice")
                << api << R"([{"fault": {"kind": "http", "status": 500, "message": "boom"}},
                       {"fault": {"kind": "http", "status": 503, "message": "still down"}}])"
                << QStringList{QStringLiteral("HTTP 503 from"),
                               QStringLiteral("still down (gave up after 1 retries)")}
                << 2;
            QTest::newRow(tag + "malformed")
                << api
                << R"([{"fault": {"kind": "malformed", "after_events": 2}, "text": "hello there"}])"
                << QStringList{QStringLiteral("unreadable stream from")} << 1;
        }
    }
    void apiErrors()
    {
        QFETCH(QString, api);
        QFETCH(QString, turns);
        QFETCH(QStringList, errHas);
        QFETCH(int, requests);
        const json parsed = json::parse(turns.toStdString());
        Scenario s(std::vector<json>(parsed.begin(), parsed.end()), api);
        QVERIFY(s.ready());
        const AgentRun run = s.run({QStringLiteral("--max-retries"), QStringLiteral("1"), kTask});
        QVERIFY2(run.exitCode == 1, run.describe());
        QCOMPARE(run.requests.size(), size_t(requests));
        for (const QString &expected : errHas)
            QVERIFY2(run.err.contains(expected.toUtf8()),
                     run.describe() + "\nexpected: " + expected.toUtf8());
        QVERIFY2(run.err.contains("stopped:    model error (exit 1)"), run.describe());
    }

    void connectionRefused()
    {
        Scenario s({});
        QVERIFY(s.ready());
        s.stopServer();
        const AgentRun run = s.run({QStringLiteral("--max-retries"), QStringLiteral("1"), kTask});
        QVERIFY2(run.exitCode == 1, run.describe());
        QVERIFY2(run.err.contains("connection failed"), run.describe());
        QVERIFY2(run.err.contains("gave up after 1 retries"), run.describe());
    }

    void bashTimeoutKillsTheGroup()
    {
        Scenario s(
            {toolTurn(
                 "bash",
                 {{"command",
                   "(sleep 30; echo late > late.txt) & echo $! > bg.pid; echo started; sleep 30"}}),
             {{"expect", "timed out after 1s"}, {"text", "ok"}}});
        QVERIFY(s.ready());
        const AgentRun run = s.run({QStringLiteral("--bash-timeout"), QStringLiteral("1"), kTask});
        QVERIFY2(run.exitCode == 0, run.describe());
        QVERIFY2(run.ms < 10000, run.describe());
        const std::string result = run.requests.at(1).last().text;
        QVERIFY2(q(result).startsWith(
                     QStringLiteral("started\n[timed out after 1s; its process group was killed]")),
                 result.c_str());
        QVERIFY2(run.err.contains(") timeout\n"), run.describe());
        const pid_t background = s.readFile(QStringLiteral("bg.pid")).trimmed().toInt();
        QVERIFY(background > 0);
        QTRY_VERIFY_WITH_TIMEOUT(!processAlive(background), 5000);
    }

    void bashOutputCap()
    {
        Scenario s(
            {toolTurn("bash",
                      {{"command",
                        "echo FIRST; head -c 100000 /dev/zero | tr '\\0' a; echo; echo LAST"}}),
             textTurn("ok")});
        QVERIFY(s.ready());
        const AgentRun run =
            s.run({QStringLiteral("--bash-output-cap"), QStringLiteral("1000"), kTask});
        QVERIFY2(run.exitCode == 0, run.describe());
        const QString result = q(run.requests.at(1).last().text);
        QVERIFY(result.startsWith(QStringLiteral("FIRST\n")));
        QVERIFY(result.contains(QStringLiteral("bytes of output omitted")));
        QVERIFY(result.endsWith(QStringLiteral("LAST\n[exit status 0]")));
        QVERIFY2(result.size() < 1200, qPrintable(QString::number(result.size())));
    }

    // SIGINT during a slow command: the command finishes, then the agent stops with its
    // summary and exit 4, without another model call.
    void sigintFinishesTheStep()
    {
        Scenario s({toolTurn("bash",
                             {{"command", "touch started; sleep 1.5; echo finished > marker.txt"}}),
                    toolTurn("bash", {{"command", "echo never > never.txt"}}), textTurn("never")});
        QVERIFY(s.ready());
        QProcess agent;
        QElapsedTimer timer;
        timer.start();
        s.start(agent, {kTask});
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(s.workspace(QStringLiteral("started"))), 10000);
        ::kill(static_cast<pid_t>(agent.processId()), SIGINT);
        const AgentRun run = s.finish(agent, timer);
        QVERIFY2(run.exitCode == 4, run.describe());
        QCOMPARE(s.readFile(QStringLiteral("marker.txt")), QByteArray("finished\n"));
        QVERIFY(!QFile::exists(s.workspace(QStringLiteral("never.txt"))));
        QCOMPARE(run.requests.size(), size_t(1));
        QVERIFY2(run.err.contains("bash touch started; sleep 1.5; echo finished > marker.txt") &&
                     run.err.contains(") exit 0\n"),
                 run.describe());
        QVERIFY2(run.err.contains("--- summary"), run.describe());
        QVERIFY2(
            run.err.contains("stopped:    interrupted (exit 4): interrupted by the user (SIGINT)"),
            run.describe());
    }

    // A second SIGINT stops at once and kills the running command's process group.
    void secondSigintStopsNow()
    {
        Scenario s(
            {toolTurn("bash", {{"command", "echo $$ > shell.pid; sleep 30"}}), textTurn("never")});
        QVERIFY(s.ready());
        QProcess agent;
        QElapsedTimer timer;
        timer.start();
        s.start(agent, {kTask});
        QTRY_VERIFY_WITH_TIMEOUT(!s.readFile(QStringLiteral("shell.pid")).isEmpty(), 10000);
        const pid_t shell = s.readFile(QStringLiteral("shell.pid")).trimmed().toInt();
        ::kill(static_cast<pid_t>(agent.processId()), SIGINT);
        QTest::qWait(200);
        ::kill(static_cast<pid_t>(agent.processId()), SIGINT);
        const AgentRun run = s.finish(agent, timer, 10000);
        QVERIFY2(run.exitCode == 4, run.describe());
        QVERIFY2(run.ms < 8000, run.describe());
        QVERIFY2(run.err.contains(") interrupted\n"), run.describe());
        QTRY_VERIFY_WITH_TIMEOUT(!processAlive(shell), 5000);
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("errHas");
        QTest::newRow("no task") << QStringList{QStringLiteral("--model"), QStringLiteral("m")}
                                 << "no task";
        QTest::newRow("no model") << QStringList{QStringLiteral("task")} << "--model is required";
        QTest::newRow("bad api") << QStringList{QStringLiteral("--api"), QStringLiteral("gemini"),
                                                QStringLiteral("--model"), QStringLiteral("m"),
                                                QStringLiteral("t")}
                                 << "--api";
        QTest::newRow("bad approve")
            << QStringList{QStringLiteral("--approve"), QStringLiteral("sometimes"),
                           QStringLiteral("--model"), QStringLiteral("m"), QStringLiteral("t")}
            << "--approve";
        QTest::newRow("missing workdir")
            << QStringList{QStringLiteral("--model"), QStringLiteral("m"),
                           QStringLiteral("--workdir"), QStringLiteral("/nonexistent/dir"),
                           QStringLiteral("t")}
            << "workdir: /nonexistent/dir is not a directory";
        QTest::newRow("missing task file")
            << QStringList{QStringLiteral("--model"), QStringLiteral("m"),
                           QStringLiteral("--task-file"), QStringLiteral("/nonexistent/task.md")}
            << "cannot read the task file /nonexistent/task.md";
    }
    void usageErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, errHas);
        QProcess agent;
        agent.start(QStringLiteral(TAPEDECK_AGENT_BIN), args);
        QVERIFY(agent.waitForFinished(10000));
        const QByteArray err = agent.readAllStandardError();
        QCOMPARE(agent.exitCode(), 2);
        QVERIFY2(err.contains(errHas.toUtf8()), err.constData());
    }

    void help()
    {
        QProcess agent;
        agent.start(QStringLiteral(TAPEDECK_AGENT_BIN), {QStringLiteral("--help")});
        QVERIFY(agent.waitForFinished(10000));
        QCOMPARE(agent.exitCode(), 0);
        const QByteArray out = agent.readAllStandardOutput();
        for (const char *needle : {"--api", "--max-steps", "--max-tokens", "--max-wall-seconds",
                                   "--approve", "--compact-at-tokens", "--bash-timeout",
                                   "OPENAI_BASE_URL", "Exit codes", "4  interrupted"})
            QVERIFY2(out.contains(needle), needle);
    }

    // The task and system prompt can come from files.
    void promptFiles()
    {
        Scenario s({textTurn("ok")}, QStringLiteral("anthropic"));
        QVERIFY(s.ready());
        s.writeFile(QStringLiteral("task.md"), "The task from a file.");
        s.writeFile(QStringLiteral("system.md"), "You are a test system prompt.");
        const AgentRun run = s.run(
            {QStringLiteral("--task-file"), s.workspace(QStringLiteral("task.md")),
             QStringLiteral("--system-prompt-file"), s.workspace(QStringLiteral("system.md"))});
        QVERIFY2(run.exitCode == 0, run.describe());
        QCOMPARE(run.requests.at(0).request.messages.at(0).text,
                 std::string("The task from a file."));
        QCOMPARE(run.requests.at(0).request.system, std::string("You are a test system prompt."));
    }
};

QTEST_GUILESS_MAIN(TestAgent)
#include "tst_agent.moc"
