// `tapedeck replay` as a user runs it: the reference agent recorded through the real
// recorder against the scripted model, then run again with no model server at all,
// answered from the tape; divergences (a changed prompt, a changed tool output) reported at
// the right step and part; recorded bytes served exactly; bad input refused clearly.
#include "modelprocess.h"
#include "recordedsteps.h"
#include "tapedeckprocess.h"

#include <tapedeck/formats/tape.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace tapedeck;
using namespace tapedeck::testutil;
using nlohmann::json;

namespace {

QStringList agentCommand(const QString &work, const QString &task)
{
    return {QStringLiteral(TAPEDECK_AGENT_BIN), "--api", "anthropic", "--model", "claude-sonnet-4-6",
            "--workdir", work, task};
}

// The agent's task: read data.txt, write a summary, check it; three model calls, two
// tools, streamed answers.
const std::vector<std::string> kScript = {
    R"({"tool_calls":[{"name":"read_file","arguments":{"path":"data.txt"}}]})",
    R"({"tool_calls":[{"name":"write_file","arguments":{"path":"summary.txt","content":"three lines\n"}}]})",
    R"({"text":"Done: data.txt has three lines; summary.txt says so."})"};

// Records the agent on the task in `work` into `tape`; the agent's stdout.
QByteArray recordAgent(const QString &dir, const QString &work, const QString &tape)
{
    const QString script = dir + "/turns.jsonl";
    writeScript(script, kScript);
    ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
    QStringList args = {"record", "-q", "-o", tape, "--upstream", QString::fromStdString(model.url("")), "--"};
    const Finished f = runTapedeck(args + agentCommand(work, "summarise data.txt"));
    if (f.exitCode != 0)
        qWarning("record failed: %s", f.err.constData());
    return f.exitCode == 0 ? f.out : QByteArray();
}

} // namespace

class TestReplay : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_tape;
    QString m_work;
    QByteArray m_recordedOut;

    // A fresh copy of the workspace as it was before the recorded run.
    QString freshWorkspace(const QString &name, const QByteArray &data = "one\ntwo\nthree\n")
    {
        const QString work = m_dir.filePath(name);
        QDir(work).removeRecursively();
        QDir().mkpath(work);
        writeFile(work + "/data.txt", data);
        return work;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_tape = m_dir.filePath("agent.tape");
        m_work = freshWorkspace("work");
        m_recordedOut = recordAgent(m_dir.path(), m_work, m_tape);
        QVERIFY2(!m_recordedOut.isEmpty(), "the recording failed");
        QVERIFY(QFile::exists(m_work + "/summary.txt"));
    }

    // The whole run again with no model server: the same output, no divergence, every
    // recorded call asked for; --check passes.
    void replaysOffline()
    {
        const QString work = freshWorkspace("work");
        const QString report = m_dir.filePath("report.json");
        const Finished f = runTapedeck(QStringList{"replay", "--check", "--report", report, m_tape, "--"} +
                                       agentCommand(work, "summarise data.txt"));
        QVERIFY2(f.exitCode == 0, f.err.constData());
        QCOMPARE(f.out, m_recordedOut);
        QVERIFY2(f.err.contains("check passed"), f.err.constData());
        QVERIFY(QFile::exists(work + "/summary.txt"));
        const json r = readJson(report);
        QCOMPARE(r["divergences"].size(), size_t(0));
        QCOMPARE(r["unused_model_calls"].get<int>(), 0);
        QCOMPARE(r["served"].get<int>(), 3);
    }

    // In another directory: the workspace path in the agent's system prompt changes, which
    // the built-in rules do not count.
    void replaysInAnotherDirectory()
    {
        const QString work = freshWorkspace("elsewhere");
        const Finished f =
            runTapedeck(QStringList{"replay", "--check", m_tape, "--"} + agentCommand(work, "summarise data.txt"));
        QVERIFY2(f.exitCode == 0, f.err.constData());
        QCOMPARE(f.out, m_recordedOut);
    }

    // One word of the task changed: a divergence at the first model call, in the user
    // message, with a diff that shows the word; the agent is stopped; exit 6.
    void changedPromptDiverges()
    {
        const QString work = freshWorkspace("work");
        const QString report = m_dir.filePath("prompt.json");
        const Finished f = runTapedeck(QStringList{"replay", "--report", report, m_tape, "--"} +
                                       agentCommand(work, "summarise notes.txt"));
        QCOMPARE(f.exitCode, 6);
        QVERIFY2(f.err.contains("divergence at request 1"), f.err.constData());
        QVERIFY2(f.err.contains("notes.txt"), f.err.constData());
        const json r = readJson(report);
        QCOMPARE(r["divergences"].size(), size_t(1));
        const json &d = r["divergences"][0];
        QCOMPARE(d["environment_drift"].get<bool>(), false);
        const std::vector<formats::Step> steps = allSteps(m_tape);
        QCOMPARE(d["expected_step"].get<int64_t>(), steps.front().index.value);
        const json &difference = d["candidates"][0]["differences"][0];
        QCOMPARE(difference["kind"].get<std::string>(), std::string("message"));
        const std::string diff = difference["diff"].get<std::string>();
        QVERIFY2(diff.find("-") != std::string::npos && diff.find("notes.txt") != std::string::npos, diff.c_str());
        QVERIFY2(!QFile::exists(work + "/summary.txt"), "the agent went on after the divergence");
    }

    // data.txt changed: the second model call carries another tool output. That is
    // environment drift, named as such at the right step; --tool-drift allow goes on.
    void changedToolOutputIsDrift()
    {
        const std::vector<formats::Step> steps = allSteps(m_tape);
        std::vector<formats::StepIndex> calls;
        for (const formats::Step &s : steps)
            if (s.kind == formats::StepKind::ModelCall)
                calls.push_back(s.index);
        QCOMPARE(calls.size(), size_t(3));

        QString work = freshWorkspace("work", "one\ntwo\nTHREE\nfour\n");
        const QString report = m_dir.filePath("drift.json");
        Finished f = runTapedeck(QStringList{"replay", "--report", report, m_tape, "--"} +
                                 agentCommand(work, "summarise data.txt"));
        QCOMPARE(f.exitCode, 6);
        QVERIFY2(f.err.contains("environment drift"), f.err.constData());
        json d = readJson(report)["divergences"][0];
        QCOMPARE(d["request"].get<int>(), 2);
        QCOMPARE(d["expected_step"].get<int64_t>(), calls[1].value);
        QCOMPARE(d["environment_drift"].get<bool>(), true);
        const json &difference = d["candidates"][0]["differences"][0];
        QCOMPARE(difference["kind"].get<std::string>(), std::string("tool_output"));
        QVERIFY2(difference["diff"].get<std::string>().find("THREE") != std::string::npos, d.dump().c_str());

        work = freshWorkspace("work", "one\ntwo\nTHREE\nfour\n");
        f = runTapedeck(QStringList{"replay", "--tool-drift", "allow", "--report", report, m_tape, "--"} +
                        agentCommand(work, "summarise data.txt"));
        QVERIFY2(f.exitCode == 0, f.err.constData());
        QCOMPARE(f.out, m_recordedOut);
        d = readJson(report);
        QCOMPARE(d["divergences"].size(), size_t(1));
        QCOMPARE(d["divergences"][0]["served"].get<bool>(), true);

        // --check still fails: the run did not replay as recorded.
        work = freshWorkspace("work", "one\ntwo\nTHREE\nfour\n");
        f = runTapedeck(QStringList{"replay", "--check", "--tool-drift", "allow", m_tape, "--"} +
                        agentCommand(work, "summarise data.txt"));
        QCOMPARE(f.exitCode, 6);
        QVERIFY2(f.err.contains("check FAILED"), f.err.constData());
    }

    // --serve: a client re-sending the recorded requests gets the recorded bytes, status
    // and content type exactly; at the recorded pace the stream takes about as long as it
    // did; a request that was never recorded is refused in the API's error shape.
    void serveAnswersWithTheRecordedBytes()
    {
        ListeningProcess replay(QStringLiteral(TAPEDECK_BIN), {"replay", "--serve", m_tape, "--on-miss", "nearest"});
        QVERIFY2(replay.port() > 0, replay.firstLine().constData());
        for (const formats::Step &s : allSteps(m_tape)) {
            if (s.kind != formats::StepKind::ModelCall)
                continue;
            const HttpReply reply = httpRequest("POST", replay.url(s.wire->url), s.wire->requestBody,
                                                {"content-type: application/json", "anthropic-version: 2023-06-01"});
            QCOMPARE(reply.status, long(s.wire->status));
            QCOMPARE(reply.body, s.wire->responseBody);
            QCOMPARE(reply.headers.value("content-type").toStdString(),
                     s.wire->responseHeaders["content-type"].get<std::string>());
        }
        const HttpReply missing = httpRequest("GET", replay.url("/v1/not-recorded"));
        QCOMPARE(missing.status, 400L);
        QVERIFY2(missing.body.find("was not recorded") != std::string::npos, missing.body.c_str());
        // A client that speaks another API than the one recorded: refused in its own shape.
        const HttpReply otherApi = httpRequest(
            "POST", replay.url("/v1/chat/completions"),
            R"({"model":"gpt-4o","messages":[{"role":"user","content":"summarise data.txt"}]})");
        QCOMPARE(otherApi.status, 400L);
        QVERIFY2(otherApi.body.find("no recorded call to /v1/chat/completions") != std::string::npos,
                 otherApi.body.c_str());
        QVERIFY(json::parse(otherApi.body)["error"].is_object());
        QCOMPARE(replay.stop(), 0);
    }

    void recordedPace()
    {
        // The scripted model streams a long answer slowly; replayed at the recorded pace it
        // takes about as long, and instantly it takes far less.
        QTemporaryDir dir;
        const QString script = dir.filePath("slow.jsonl");
        writeScript(script, {R"({"text":"a slow answer, streamed in many small pieces over about a second"})"});
        ModelProcess model({"--policy", "script", "--script", script, "--quiet", "--chars-per-delta", "4",
                            "--chunk-ms", "30"});
        QVERIFY(model.port() > 0);
        const QString tape = dir.filePath("slow.tape");
        ListeningProcess proxy(QStringLiteral(TAPEDECK_BIN),
                               {"proxy", "-q", "--listen", "127.0.0.1:0", "-o", tape, "--upstream",
                                QString::fromStdString(model.url(""))});
        const std::string body = R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"go"}]})";
        const HttpReply recorded = httpRequest("POST", proxy.url("/v1/chat/completions"), body);
        QCOMPARE(recorded.status, 200L);
        QCOMPARE(proxy.stop(), 0);
        const qint64 recordedMs = recorded.chunkAtMs.back();
        QVERIFY2(recordedMs > 300, QByteArray::number(recordedMs).constData());

        for (const char *pace : {"recorded", "instant"}) {
            ListeningProcess replay(QStringLiteral(TAPEDECK_BIN), {"replay", "--serve", "--pace", pace, tape});
            const HttpReply replayed = httpRequest("POST", replay.url("/v1/chat/completions"), body);
            QCOMPARE(replayed.body, recorded.body);
            const qint64 ms = replayed.chunkAtMs.back();
            qInfo("pace %s: %lld ms (recorded %lld ms)", pace, ms, recordedMs);
            if (std::string(pace) == "recorded")
                QVERIFY2(ms > recordedMs * 7 / 10, QByteArray::number(ms).constData());
            else
                QVERIFY2(ms < recordedMs / 3, QByteArray::number(ms).constData());
            QCOMPARE(replay.stop(), 0);
        }
    }

    // The reference agent on the kernel-tuning task (compiling and timing real code), then
    // the whole run again with its tools answered from the tape too: in an empty directory,
    // with no model server, the same output, every call matched, nothing written.
    void kernelTuningRunReplaysWithNoSideEffect()
    {
        QTemporaryDir dir;
        const QString work = dir.filePath("work");
        copyKernelWorkspace(work);
        const QString task = "Make kernel_matmul in kernel.c faster while it stays correct; see TASK.md. "
                             "You have a budget of 4 benchmark evaluations.";
        auto agent = [&](const QString &workdir) {
            return QStringList{QStringLiteral(TAPEDECK_AGENT_BIN), "--api", "openai", "--model", "kernel-tuner",
                               "--workdir", workdir, "--max-steps", "200"};
        };
        const QString tape = dir.filePath("kernel.tape");
        Finished recorded;
        {
            ModelProcess model({"--policy", "kernel-tuner", "--seed", "3", "--quiet"});
            QVERIFY(model.port() > 0);
            recorded = runTapedeck(QStringList{"record", "-q", "-o", tape, "--upstream",
                                               QString::fromStdString(model.url("")), "--"} +
                                       agent(work) + QStringList{task},
                                   240000);
        }
        QVERIFY2(recorded.exitCode == 0, recorded.err.constData());
        QVERIFY2(recorded.out.contains("Best speed-up"), recorded.out.constData());

        const QString empty = dir.filePath("empty");
        QVERIFY(QDir().mkpath(empty));
        const Finished replayed = runTapedeck(QStringList{"replay", "--check", tape, "--"} + agent(empty) +
                                                  QStringList{"--replay-tools", tape, task},
                                              240000);
        QVERIFY2(replayed.exitCode == 0, replayed.err.right(4000).constData());
        QCOMPARE(replayed.out, recorded.out);
        QVERIFY2(replayed.err.contains("check passed"), replayed.err.right(2000).constData());
        QCOMPARE(QDir(empty).entryList(QDir::AllEntries | QDir::NoDotAndDotDot).size(), 0);
    }

    void badInput_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("no such run") << QStringList{"replay", "--run", "9", "TAPE", "--", "true"} << 1
                                     << "has no run 9 (its runs: 1)";
        QTest::newRow("no such branch") << QStringList{"replay", "--branch", "7", "TAPE", "--", "true"} << 1
                                        << "has no branch 7";
        QTest::newRow("not a tape") << QStringList{"replay", "NOTATAPE", "--", "true"} << 3 << "not a tape";
        QTest::newRow("damaged tape") << QStringList{"replay", "DAMAGED", "--", "true"} << 3 << "damaged.tape";
        QTest::newRow("no command") << QStringList{"replay", "TAPE"} << 2 << "--serve";
        QTest::newRow("bad pace") << QStringList{"replay", "--pace", "fast", "TAPE", "--", "true"} << 2 << "--pace";
        QTest::newRow("command not found")
            << QStringList{"replay", "TAPE", "--", "no-such-agent-here"} << 2 << "no-such-agent-here";
    }
    void badInput()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        const QString notATape = m_dir.filePath("not-a-tape.txt");
        writeFile(notATape, "hello\n");
        args.replaceInStrings("NOTATAPE", notATape);
        // The tape with its second half cut off: its step rows are gone.
        const QString damaged = m_dir.filePath("damaged.tape");
        QFile::remove(damaged);
        QVERIFY(QFile::copy(m_tape, damaged));
        QVERIFY(QFile::resize(damaged, QFileInfo(m_tape).size() / 2));
        args.replaceInStrings("DAMAGED", damaged);
        args.replaceInStrings("TAPE", m_tape);
        const qint64 sizeBefore = QFileInfo(m_tape).size();
        const Finished f = runTapedeck(args);
        QVERIFY2(f.exitCode == exitCode, f.err.constData());
        QVERIFY2(f.err.contains(message.toUtf8()), f.err.constData());
        QCOMPARE(QFileInfo(m_tape).size(), sizeBefore);
    }
};

QTEST_GUILESS_MAIN(TestReplay)
#include "tst_replay.moc"
