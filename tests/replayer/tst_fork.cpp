// `tapedeck fork` as a user runs it: the reference agent's kernel-tuning run, recorded
// through the real recorder against the scripted model, forked at a middle step with an
// edited tool result and continued against the scripted model; the new branch is in the
// same tape, its prefix is the original's byte for byte and stored once, and it replays in
// turn with no side effect. A user message added and the model changed; the model's answer
// replaced with no live call at all; a replay that goes live at a miss; bad and mismatched
// input refused, the tape left as it was.
#include "modelprocess.h"
#include "recordedsteps.h"
#include "tapedeckprocess.h"

#include <tapedeck/formats/tape.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace tapedeck;
using namespace tapedeck::testutil;
using formats::StepKind;
using nlohmann::json;

namespace {

const QString kKernelTask = "Make kernel_matmul in kernel.c faster while it stays correct; see TASK.md. "
                            "You have a budget of 4 benchmark evaluations.";

QStringList kernelAgent(const QString &work)
{
    return {QStringLiteral(TAPEDECK_AGENT_BIN), "--api", "openai", "--model", "kernel-tuner",
            "--workdir", work, "--max-steps", "200"};
}

// The small task of tst_replay: three model calls over the Anthropic API.
const std::vector<std::string> kScript = {
    R"({"tool_calls":[{"name":"read_file","arguments":{"path":"data.txt"}}]})",
    R"({"tool_calls":[{"name":"write_file","arguments":{"path":"summary.txt","content":"three lines\n"}}]})",
    R"({"text":"Done: data.txt has three lines; summary.txt says so."})"};

QStringList smallAgent(const QString &work, const QString &api = "anthropic")
{
    return {QStringLiteral(TAPEDECK_AGENT_BIN), "--api", api, "--model", "claude-sonnet-4-6", "--workdir", work,
            "summarise data.txt"};
}

struct TapeState {
    std::vector<formats::BranchInfo> branches;
    std::vector<formats::Step> steps;
    formats::TapeSummary summary;
};

TapeState stateOf(const QString &tape)
{
    TapeState state;
    auto reader = formats::TapeReader::open(tape.toStdString());
    if (!reader)
        return state;
    state.branches = *(*reader)->branches();
    state.summary = *(*reader)->summary();
    state.steps = allSteps(tape);
    return state;
}

std::vector<formats::Step> stepsOf(const TapeState &state, formats::BranchId branch)
{
    std::vector<formats::Step> out;
    for (const formats::Step &s : state.steps)
        if (s.branch == branch)
            out.push_back(s);
    return out;
}

std::vector<formats::Step> modelCallsOf(const TapeState &state, formats::BranchId branch)
{
    std::vector<formats::Step> out;
    for (const formats::Step &s : stepsOf(state, branch))
        if (s.kind == StepKind::ModelCall)
            out.push_back(s);
    return out;
}

// The request's conversation, as the client sent it.
json conversationOf(const formats::Step &modelCall)
{
    const json body = json::parse(modelCall.wire->requestBody);
    return body.contains("messages") ? body["messages"] : body["input"];
}

QString fileWith(const QTemporaryDir &dir, const QString &name, const QByteArray &content)
{
    const QString path = dir.filePath(name);
    writeFile(path, content);
    return path;
}

} // namespace

class TestFork : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_kernelTape;
    QString m_smallTape;

    QString freshSmallWorkspace(const QString &name)
    {
        const QString work = m_dir.filePath(name);
        QDir(work).removeRecursively();
        QDir().mkpath(work);
        writeFile(work + "/data.txt", "one\ntwo\nthree\n");
        return work;
    }

    // A copy of the small tape, to fork without touching the others' input.
    QString smallTapeCopy(const QString &name)
    {
        const QString copy = m_dir.filePath(name);
        QFile::remove(copy);
        if (!QFile::copy(m_smallTape, copy))
            return {};
        return copy;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_kernelTape = m_dir.filePath("kernel.tape");
        {
            const QString work = m_dir.filePath("kernel-work");
            copyKernelWorkspace(work);
            ModelProcess model({"--policy", "kernel-tuner", "--seed", "3", "--quiet"});
            QVERIFY(model.port() > 0);
            const Finished recorded =
                runTapedeck(QStringList{"record", "-q", "-o", m_kernelTape, "--upstream",
                                        QString::fromStdString(model.url("")), "--"} +
                                kernelAgent(work) + QStringList{kKernelTask},
                            240000);
            QVERIFY2(recorded.exitCode == 0, recorded.err.constData());
        }
        m_smallTape = m_dir.filePath("small.tape");
        const QString script = m_dir.filePath("turns.jsonl");
        writeScript(script, kScript);
        ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        const Finished small =
            runTapedeck(QStringList{"record", "-q", "-o", m_smallTape, "--upstream",
                                    QString::fromStdString(model.url("")), "--"} +
                        smallAgent(freshSmallWorkspace("small-work")));
        QVERIFY2(small.exitCode == 0, small.err.constData());
    }

    // The kernel-tuning run forked at the result of its second benchmark, which the model
    // is told failed, and continued against the scripted model.
    void kernelRunForkedAtEditedToolResult()
    {
        const TapeState before = stateOf(m_kernelTape);
        QCOMPARE(before.branches.size(), size_t(1));
        const formats::BranchId original = before.branches[0].id;
        std::vector<const formats::Step *> benchResults;
        for (const formats::Step &s : before.steps)
            if (s.kind == StepKind::ToolResult && s.name == "bash" &&
                s.payload.value("output", "").find("speedup:") != std::string::npos)
                benchResults.push_back(&s);
        QVERIFY2(benchResults.size() >= 3, "the recorded run has too few benchmark runs to fork in the middle");
        const formats::Step &at = *benchResults[1];
        const QByteArray edited = "./run_bench\nerror: results differ from the reference at C[3][7]\nFAILED\n";
        const QString editFile = fileWith(m_dir, "edited-output.txt", edited);

        const QString work = m_dir.filePath("fork-work");
        copyKernelWorkspace(work);
        const Finished forked = runTapedeck(
            QStringList{"fork", m_kernelTape, "--at", QString::number(at.index.value), "--edit-tool-result",
                        "@" + editFile, "--scripted", "kernel-tuner", "--seed", "3", "--tool-drift", "allow", "--"} +
                kernelAgent(work) + QStringList{kKernelTask},
            240000);
        QVERIFY2(forked.exitCode == 0, forked.err.right(3000).constData());
        // The summary says what the edit changed in the first live request.
        const std::string changed = "tool output of " + at.callId + " replaced (";
        QVERIFY2(forked.err.contains(changed.c_str()), forked.err.constData());
        // The model was told the benchmark failed, and the agent went on from there.
        QVERIFY2(forked.out.contains("results differ from the reference"), forked.out.right(3000).constData());

        const TapeState after = stateOf(m_kernelTape);
        QCOMPARE(after.branches.size(), size_t(2));
        const formats::BranchInfo &branch = after.branches[1];
        QCOMPARE(branch.run, before.branches[0].run);
        QVERIFY(branch.parent && *branch.parent == original);
        QVERIFY(branch.forkStep && branch.forkStep->value == at.index.value - 1);
        QVERIFY2(branch.description.find("fork at step " + std::to_string(at.index.value)) != std::string::npos,
                 branch.description.c_str());
        QVERIFY(branch.createdUs > 0);

        // The original branch is as it was, step for step.
        const std::vector<formats::Step> originalBefore = stepsOf(before, original);
        const std::vector<formats::Step> originalAfter = stepsOf(after, original);
        QCOMPARE(originalAfter.size(), originalBefore.size());
        for (size_t i = 0; i < originalBefore.size(); ++i)
            QVERIFY2(formats::stepToJson(originalAfter[i]) == formats::stepToJson(originalBefore[i]),
                     ("step " + std::to_string(originalBefore[i].index.value) + " changed").c_str());

        // The branch: its fork point, the edited result linked to the prefix's tool call, then
        // the continuation, and its outcome.
        const std::vector<formats::Step> own = stepsOf(after, branch.id);
        QVERIFY(own.size() > 4);
        QCOMPARE(own.front().kind, StepKind::ForkPoint);
        QCOMPARE(own.front().payload["at"].get<int64_t>(), at.index.value);
        QCOMPARE(own.front().payload["edits"][0]["kind"].get<std::string>(), std::string("tool_result"));
        QCOMPARE(own.back().kind, StepKind::Annotation);
        QCOMPARE(own.back().payload["branch_outcome"].get<std::string>(), std::string("exit 0"));
        const formats::Step &result = own[1];
        QCOMPARE(result.kind, StepKind::ToolResult);
        QCOMPARE(result.callId, at.callId);
        QCOMPARE(result.payload["output"].get<std::string>(), edited.toStdString());
        QVERIFY(result.parent && *result.parent == *at.parent);

        // Its first model call sent the recorded conversation byte for byte, but for the
        // edited output.
        const formats::Step *firstLive = nullptr;
        for (const formats::Step &s : own)
            if (!firstLive && s.kind == StepKind::ModelCall)
                firstLive = &s;
        QVERIFY(firstLive);
        const formats::Step *recordedNext = nullptr;
        for (const formats::Step &s : originalBefore)
            if (!recordedNext && s.kind == StepKind::ModelCall && s.index > at.index)
                recordedNext = &s;
        QVERIFY(recordedNext);
        const json sent = conversationOf(*firstLive);
        const json recorded = conversationOf(*recordedNext);
        QCOMPARE(sent.size(), recorded.size());
        size_t differing = 0;
        for (size_t i = 0; i < sent.size(); ++i) {
            if (sent[i] == recorded[i])
                continue;
            ++differing;
            QCOMPARE(sent[i]["tool_call_id"].get<std::string>(), at.callId);
            QCOMPARE(sent[i]["content"].get<std::string>(), edited.toStdString());
        }
        QCOMPARE(differing, size_t(1));
        // Stored once: the branch's requests resend the whole prefix, which adds references,
        // not messages.
        const int64_t newMessages = after.summary.messageCount - before.summary.messageCount;
        const int64_t newReferences = after.summary.messageReferences - before.summary.messageReferences;
        int64_t liveCalls = 0;
        for (const formats::Step &s : own)
            liveCalls += s.kind == StepKind::ModelCall;
        QVERIFY2(newMessages <= 3 * liveCalls, (std::to_string(newMessages) + " new messages").c_str());
        QVERIFY2(newReferences >= liveCalls * int64_t(recorded.size()), std::to_string(newReferences).c_str());

        // It replays in turn, tools answered from the branch: the same output, no miss, no
        // side effect.
        const QString empty = m_dir.filePath("replay-empty");
        QVERIFY(QDir().mkpath(empty));
        const Finished replayed = runTapedeck(
            QStringList{"replay", "--check", m_kernelTape, "--branch", QString::number(branch.id.value), "--"} +
                kernelAgent(empty) + QStringList{"--replay-tools", m_kernelTape, kKernelTask},
            240000);
        QVERIFY2(replayed.exitCode == 0, replayed.err.right(4000).constData());
        QVERIFY2(replayed.err.contains("check passed"), replayed.err.right(2000).constData());
        auto withoutWallTime = [](const QByteArray &out) {
            QList<QByteArray> lines = out.split('\n');
            lines.removeIf([](const QByteArray &line) { return line.startsWith("wall time:"); });
            return lines.join('\n');
        };
        QCOMPARE(withoutWallTime(replayed.out), withoutWallTime(forked.out));
        QCOMPARE(QDir(empty).entryList(QDir::AllEntries | QDir::NoDotAndDotDot).size(), 0);

        // info and dump show the tree.
        const Finished info = runTapedeck({"info", m_kernelTape});
        QVERIFY2(info.out.contains(("└─ #" + std::to_string(branch.id.value) + " after step " +
                                    std::to_string(branch.forkStep->value))
                                       .c_str()),
                 info.out.constData());
        const Finished dump = runTapedeck({"dump", m_kernelTape, "--limit", "3"});
        QVERIFY2(dump.out.contains("as recorded"), dump.out.constData());
        const json infoJson = json::parse(runTapedeck({"info", "--json", m_kernelTape}).out.toStdString());
        QCOMPARE(infoJson["branch_tree"][1]["parent"].get<int64_t>(), original.value);
    }

    // A user message added at the second model call and another model asked: every live
    // request carries both; the scripted model answers.
    void appendUserAndModel()
    {
        const QString tape = smallTapeCopy("append.tape");
        const TapeState before = stateOf(tape);
        std::vector<formats::StepIndex> calls;
        for (const formats::Step &s : before.steps)
            if (s.kind == StepKind::ModelCall)
                calls.push_back(s.index);
        QCOMPARE(calls.size(), size_t(3));
        const Finished f = runTapedeck(QStringList{"fork", tape, "--at", QString::number(calls[1].value),
                                                   "--append-user", "Count the words as well.", "--model",
                                                   "claude-opus-4-1", "--scripted", "generic", "--"} +
                                       smallAgent(freshSmallWorkspace("append-work")));
        QVERIFY2(f.exitCode == 0, f.err.constData());
        const TapeState after = stateOf(tape);
        QCOMPARE(after.branches.size(), size_t(2));
        const std::vector<formats::Step> live = modelCallsOf(after, after.branches[1].id);
        QVERIFY(!live.empty());
        auto occurrences = [](const std::string &text, const std::string &what) {
            size_t count = 0;
            for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
                ++count;
            return count;
        };
        for (const formats::Step &call : live) {
            const json body = json::parse(call.wire->requestBody);
            QCOMPARE(body["model"].get<std::string>(), std::string("claude-opus-4-1"));
            QVERIFY2(occurrences(call.wire->requestBody, "Count the words as well.") == 1,
                     call.wire->requestBody.c_str());
        }
        QCOMPARE(live.front().name, std::string("claude-opus-4-1"));
        // The first live request is the recorded second one with the message added: it ends
        // with the user's turn, tool result first, the added text after it.
        const json last = json::parse(live.front().wire->requestBody)["messages"].back();
        QCOMPARE(last["role"].get<std::string>(), std::string("user"));
        QCOMPARE(last["content"].back()["text"].get<std::string>(), std::string("Count the words as well."));
        QCOMPARE(last["content"].front()["type"].get<std::string>(), std::string("tool_result"));
        const size_t position = json::parse(live.front().wire->requestBody)["messages"].size() - 1;
        for (const formats::Step &call : live)
            QVERIFY2(json::parse(call.wire->requestBody)["messages"][position].dump().find("Count the words") !=
                         std::string::npos,
                     call.wire->requestBody.c_str());

        // A fork of that fork, at its last model call: the prefix it replays holds the added
        // message, which the agent never sends, so it is made again; the new answer needs
        // no live call.
        const formats::BranchId forked = after.branches[1].id;
        const Finished again = runTapedeck(
            QStringList{"fork", tape, "--branch", QString::number(forked.value), "--at",
                        QString::number(live.back().index.value), "--edit-response", "Counted: three words.",
                        "--upstream", "http://127.0.0.1:9", "--"} +
            smallAgent(freshSmallWorkspace("append-again")));
        QVERIFY2(again.exitCode == 0, again.err.constData());
        QVERIFY2(again.out.contains("Counted: three words."), again.out.constData());
        const TapeState third = stateOf(tape);
        QCOMPARE(third.branches.size(), size_t(3));
        QVERIFY(third.branches[2].parent && *third.branches[2].parent == forked);
        const Finished replayed = runTapedeck(
            QStringList{"replay", "--check", tape, "--branch", QString::number(third.branches[2].id.value), "--"} +
            smallAgent(freshSmallWorkspace("append-replay")));
        QVERIFY2(replayed.exitCode == 0, replayed.err.constData());
        QCOMPARE(replayed.out, again.out);

        // Forked from that branch at a step before its own fork: its message is not part of
        // what the new branch continues.
        const Finished earlier = runTapedeck(
            QStringList{"fork", tape, "--branch", QString::number(forked.value), "--at", QString::number(calls[0].value),
                        "--scripted", "generic", "--"} +
            smallAgent(freshSmallWorkspace("append-earlier")));
        QVERIFY2(earlier.exitCode == 0, earlier.err.constData());
        const TapeState fourth = stateOf(tape);
        QCOMPARE(fourth.branches.size(), size_t(4));
        // (At the first step nothing is shared: the branch forked from is its parent.)
        QVERIFY(fourth.branches[3].parent && *fourth.branches[3].parent == forked);
        QVERIFY(!fourth.branches[3].forkStep);
        const std::vector<formats::Step> earlierCalls = modelCallsOf(fourth, fourth.branches[3].id);
        QVERIFY(!earlierCalls.empty());
        for (const formats::Step &call : earlierCalls)
            QVERIFY2(call.wire->requestBody.find("Count the words as well.") == std::string::npos,
                     call.wire->requestBody.c_str());
        const Finished earlierReplayed = runTapedeck(
            QStringList{"replay", "--check", tape, "--branch", QString::number(fourth.branches[3].id.value), "--"} +
            smallAgent(freshSmallWorkspace("append-earlier-replay")));
        QVERIFY2(earlierReplayed.exitCode == 0, earlierReplayed.err.constData());
    }

    // The last answer replaced: nothing live is needed (the upstream cannot be reached), the
    // agent prints the new answer, and the branch replays.
    void editedResponse()
    {
        const QString tape = smallTapeCopy("response.tape");
        std::vector<formats::StepIndex> calls;
        for (const formats::Step &s : stateOf(tape).steps)
            if (s.kind == StepKind::ModelCall)
                calls.push_back(s.index);
        const Finished f =
            runTapedeck(QStringList{"fork", tape, "--at", QString::number(calls[2].value), "--edit-response",
                                    "Not done: summary.txt needs a word count.", "--upstream",
                                    "http://127.0.0.1:9", "--"} +
                        smallAgent(freshSmallWorkspace("response-work")));
        QVERIFY2(f.exitCode == 0, f.err.constData());
        QVERIFY2(f.out.contains("Not done: summary.txt needs a word count."), f.out.constData());
        const TapeState after = stateOf(tape);
        const std::vector<formats::Step> own = stepsOf(after, after.branches[1].id);
        const auto call = std::find_if(own.begin(), own.end(),
                                       [](const formats::Step &s) { return s.kind == StepKind::ModelCall; });
        QVERIFY(call != own.end());
        // Streamed as the agent asked, in deltas: the assembled answer holds the text whole.
        QVERIFY2(call->payload.dump().find("Not done: summary.txt needs a word count.") != std::string::npos,
                 call->payload.dump().c_str());
        QVERIFY(!call->wire->chunks.empty());

        const Finished replayed =
            runTapedeck(QStringList{"replay", "--check", tape, "--branch", QString::number(after.branches[1].id.value),
                                    "--"} +
                        smallAgent(freshSmallWorkspace("response-replay")));
        QVERIFY2(replayed.exitCode == 0, replayed.err.constData());
        QCOMPARE(replayed.out, f.out);
    }

    // A client that speaks another API than the one recorded: the divergence is reported
    // at the first request, the fork stops with exit 6, and the tape is left as it was.
    void otherWireFormatStops()
    {
        const QString tape = smallTapeCopy("mismatch.tape");
        const TapeState before = stateOf(tape);
        const qint64 sizeBefore = QFileInfo(tape).size();
        const int64_t third = before.steps.back().index.value;
        const Finished f = runTapedeck(QStringList{"fork", tape, "--at", QString::number(third), "--append-user",
                                                   "x", "--scripted", "generic", "--"} +
                                       smallAgent(freshSmallWorkspace("mismatch-work"), "openai"));
        QCOMPARE(f.exitCode, 6);
        QVERIFY2(f.err.contains("divergence at request 1"), f.err.constData());
        QVERIFY2(f.err.contains("no recorded call to /v1/chat/completions"), f.err.constData());
        QVERIFY2(f.err.contains("nothing was written"), f.err.constData());
        const TapeState after = stateOf(tape);
        QCOMPARE(after.branches.size(), size_t(1));
        QCOMPARE(after.steps.size(), before.steps.size());
        QCOMPARE(QFileInfo(tape).size(), sizeBefore);
    }

    // Two conversations recorded, A, B, then A again; the fork of A's second call is sent
    // A's first, A's second, then B: B's call before the fork does not come in its place,
    // and the fork goes live all the same at A's second, edited, without calling that a
    // divergence. B, sent live after it, is a side conversation: it gets no user message.
    void forkGoesLiveWithoutAnotherThreadsLastCall()
    {
        QTemporaryDir dir;
        const QString tape = dir.filePath("two-threads.tape");
        auto body = [](const json &messages) {
            return json{{"model", "claude-sonnet-4-6"}, {"max_tokens", 256}, {"messages", messages}}.dump();
        };
        const json a1 = json::array({{{"role", "user"}, {"content", "task A: say something"}}});
        const json b1 = json::array({{{"role", "user"}, {"content", "side question B"}}});
        std::string a2;
        {
            ModelProcess model({"--policy", "generic", "--quiet"});
            ListeningProcess proxy(QStringLiteral(TAPEDECK_BIN), {"proxy", "-q", "--listen", "127.0.0.1:0", "-o",
                                                                  tape, "--upstream",
                                                                  QString::fromStdString(model.url(""))});
            const std::vector<std::string> headers = {"content-type: application/json",
                                                      "anthropic-version: 2023-06-01"};
            const HttpReply first = httpRequest("POST", proxy.url("/v1/messages"), body(a1), headers);
            QCOMPARE(first.status, 200L);
            QCOMPARE(httpRequest("POST", proxy.url("/v1/messages"), body(b1), headers).status, 200L);
            json continued = a1;
            continued.push_back({{"role", "assistant"}, {"content", json::parse(first.body)["content"]}});
            continued.push_back({{"role", "user"}, {"content", "and more"}});
            a2 = body(continued);
            QCOMPARE(httpRequest("POST", proxy.url("/v1/messages"), a2, headers).status, 200L);
            QCOMPARE(proxy.stop(), 0);
        }
        const TapeState before = stateOf(tape);
        std::vector<formats::Step> calls;
        for (const formats::Step &s : before.steps)
            if (s.kind == StepKind::ModelCall)
                calls.push_back(s);
        QCOMPARE(calls.size(), size_t(3));
        QCOMPARE(calls[2].thread, calls[0].thread);
        QVERIFY(calls[1].thread != calls[0].thread);

        // The agent: A's two requests, as a user's script would send them.
        writeFile(dir.filePath("a1.json"), QByteArray::fromStdString(body(a1)));
        writeFile(dir.filePath("a2.json"), QByteArray::fromStdString(a2));
        writeFile(dir.filePath("b1.json"), QByteArray::fromStdString(body(b1)));
        const QString post = "curl -sf -X POST \"$ANTHROPIC_BASE_URL/v1/messages\" -H 'content-type: application/json' "
                             "-H 'anthropic-version: 2023-06-01' --data-binary @";
        const QString agent = post + "a1.json > /dev/null && " + post + "a2.json > /dev/null && " + post + "b1.json";
        const Finished f = [&] {
            QProcess probe;
            probe.start("curl", {"--version"});
            return probe.waitForFinished(5000) && probe.exitCode() == 0
                       ? runTapedeck({"fork", tape, "--at", QString::number(calls[2].index.value), "--append-user",
                                      "a note from the fork", "--scripted", "generic", "--", "sh", "-c",
                                      "cd " + dir.path() + " && " + agent})
                       : Finished{};
        }();
        if (f.exitCode == -1 && f.err.isEmpty())
            QSKIP("no curl program on this machine to send the requests");
        QVERIFY2(f.exitCode == 0, f.err.constData());
        QVERIFY2(!f.err.contains("divergence"), f.err.constData());
        const TapeState after = stateOf(tape);
        QCOMPARE(after.branches.size(), size_t(2));
        const std::vector<formats::Step> live = modelCallsOf(after, after.branches[1].id);
        QCOMPARE(live.size(), size_t(2));
        QVERIFY2(live[0].wire->requestBody.find("a note from the fork") != std::string::npos,
                 live[0].wire->requestBody.c_str());
        QVERIFY2(live[0].wire->requestBody.find("and more") != std::string::npos, live[0].wire->requestBody.c_str());
        QVERIFY2(live[1].wire->requestBody.find("side question B") != std::string::npos,
                 live[1].wire->requestBody.c_str());
        QVERIFY2(live[1].wire->requestBody.find("a note from the fork") == std::string::npos,
                 live[1].wire->requestBody.c_str());
    }

    // `tapedeck replay --on-miss live`: a changed task misses at the first request, which
    // goes live to the scripted model; the rest of the run is recorded as a new branch.
    void replayGoesLiveAtMiss()
    {
        const QString tape = smallTapeCopy("live.tape");
        const TapeState before = stateOf(tape);
        QStringList agent = smallAgent(freshSmallWorkspace("live-work"));
        agent.last() = "summarise data.txt and count its words";
        const Finished f =
            runTapedeck(QStringList{"replay", tape, "--on-miss", "live", "--scripted", "generic", "--"} + agent);
        QVERIFY2(f.exitCode == 0, f.err.constData());
        QVERIFY2(f.err.contains("divergence at request 1"), f.err.constData());
        QVERIFY2(f.err.contains("live from request 1"), f.err.constData());
        const TapeState after = stateOf(tape);
        QCOMPARE(after.branches.size(), size_t(2));
        const formats::BranchInfo &branch = after.branches[1];
        QVERIFY(branch.parent && *branch.parent == before.branches[0].id);
        QVERIFY2(branch.description.find("replay went live at a divergence at step 1") != std::string::npos,
                 branch.description.c_str());
        int64_t modelCalls = 0;
        for (const formats::Step &s : stepsOf(after, branch.id)) {
            modelCalls += s.kind == StepKind::ModelCall;
            if (s.kind == StepKind::ModelCall)
                QVERIFY2(s.wire->requestBody.find("count its words") != std::string::npos, s.wire->requestBody.c_str());
        }
        QVERIFY(modelCalls >= 1);
        QCOMPARE(stepsOf(after, before.branches[0].id).size(), before.steps.size());

        // Without somewhere to go live, the option is refused before anything runs.
        const Finished refused = runTapedeck(QStringList{"replay", tape, "--on-miss", "live", "--"} + agent);
        QCOMPARE(refused.exitCode, 2);
        QVERIFY2(refused.err.contains("--upstream URL"), refused.err.constData());
    }

    void badInput_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        const QStringList scripted = {"--scripted", "generic"};
        QTest::newRow("no such step") << (QStringList{"fork", "TAPE", "--at", "999"} + scripted) << 1
                                      << "has no step 999 (its steps are 1 to";
        QTest::newRow("answer edit at a tool step")
            << (QStringList{"fork", "TAPE", "--at", "TOOLRESULT", "--edit-response", "x"} + scripted) << 2
            << "replaces the answer of a model call";
        QTest::newRow("unknown tool call")
            << (QStringList{"fork", "TAPE", "--at", "CALL2", "--edit-tool-result", "nope=x"} + scripted) << 2
            << "carries no result of tool call nope";
        QTest::newRow("tool edit without CALL at a model call")
            << (QStringList{"fork", "TAPE", "--at", "CALL2", "--edit-tool-result", "x"} + scripted) << 2
            << "needs CALL=";
        QTest::newRow("unreadable edit file")
            << (QStringList{"fork", "TAPE", "--at", "TOOLRESULT", "--edit-tool-result", "@/no/such/file"} + scripted)
            << 1 << "cannot read /no/such/file";
        QTest::newRow("no branch 7") << (QStringList{"fork", "TAPE", "--at", "CALL2", "--branch", "7"} + scripted)
                                     << 1 << "has no branch 7";
        QTest::newRow("nowhere to go on") << QStringList{"fork", "TAPE", "--at", "CALL2"} << 2
                                          << "--upstream URL";
        QTest::newRow("two places to go on")
            << (QStringList{"fork", "TAPE", "--at", "CALL2", "--upstream", "http://127.0.0.1:9"} + scripted) << 2
            << "--upstream URL";
        QTest::newRow("a script without the script policy")
            << (QStringList{"fork", "TAPE", "--at", "CALL2", "--script", "turns.jsonl"} + scripted) << 2
            << "--script FILE is for --scripted script";
        QTest::newRow("unknown policy") << QStringList{"fork", "TAPE", "--at", "CALL2", "--scripted", "nosuch"}
                                        << 2 << "nosuch";
        QTest::newRow("not a tape") << (QStringList{"fork", "NOTATAPE", "--at", "1"} + scripted) << 3 << "not a tape";
        QTest::newRow("bad match rules")
            << (QStringList{"fork", "TAPE", "--at", "CALL2", "--match-rules", "BADRULES"} + scripted) << 4
            << "bad-rules.jsonl";
        QTest::newRow("agent not found")
            << (QStringList{"fork", "TAPE", "--at", "CALL2"} + scripted + QStringList{"--", "/no/such/agent"}) << 2
            << "/no/such/agent";
    }
    void badInput()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        const QString tape = smallTapeCopy("bad.tape");
        const TapeState before = stateOf(tape);
        std::vector<int64_t> calls;
        int64_t toolResult = 0;
        for (const formats::Step &s : before.steps) {
            if (s.kind == StepKind::ModelCall)
                calls.push_back(s.index.value);
            if (s.kind == StepKind::ToolResult && !toolResult)
                toolResult = s.index.value;
        }
        const QString notATape = m_dir.filePath("not-a-tape.txt");
        writeFile(notATape, "hello\n");
        args.replaceInStrings("NOTATAPE", notATape);
        args.replaceInStrings("TAPE", tape);
        args.replaceInStrings("TOOLRESULT", QString::number(toolResult));
        args.replaceInStrings("CALL2", QString::number(calls[1]));
        const QString badRules = m_dir.filePath("bad-rules.jsonl");
        writeFile(badRules, "{\"ignore\": 42}\nnot json\n");
        args.replaceInStrings("BADRULES", badRules);
        const qint64 sizeBefore = QFileInfo(tape).size();
        if (!args.contains("--"))
            args += QStringList{"--"} + smallAgent(freshSmallWorkspace("bad-work"));
        const Finished f = runTapedeck(args);
        QVERIFY2(f.exitCode == exitCode, f.err.constData());
        QVERIFY2(f.err.contains(message.toUtf8()), f.err.constData());
        QCOMPARE(QFileInfo(tape).size(), sizeBefore);
        const TapeState after = stateOf(tape);
        QCOMPARE(after.branches.size(), before.branches.size());
        QCOMPARE(after.steps.size(), before.steps.size());
    }
};

QTEST_GUILESS_MAIN(TestFork)
#include "tst_fork.moc"
