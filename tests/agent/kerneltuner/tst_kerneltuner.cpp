// The kernel-tuner policy, fed requests built by hand: a conversation whose tool results
// come from a small model of the workspace (files in a map, `make bench` answered from a
// table of speed-ups, compile errors and wrong results for the slips the source holds).
// The kernel sources themselves are checked with the real compiler.
#include "kerneltuner.h"
#include "kerneltunercode.h"
#include "kerneltunerstate.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace tapedeck::model;
using tapedeck::formats::wire::Message;
using tapedeck::formats::wire::Request;
using tapedeck::formats::wire::Role;
using tapedeck::formats::wire::ToolCall;
using tapedeck::formats::wire::ToolSpec;

namespace {

std::string readText(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

Message message(Role role, std::string text = {})
{
    Message m;
    m.role = role;
    m.text = std::move(text);
    return m;
}

std::vector<ToolSpec> agentTools()
{
    std::vector<ToolSpec> tools;
    for (const char *name : {"bash", "read_file", "write_file", "edit_file", "list_dir", "todo"})
        tools.push_back({name, std::string("the ") + name + " tool", {{"type", "object"}}});
    return tools;
}

// A made-up but consistent landscape: each change adds (or costs) a fixed amount, so that
// some ideas help, some hurt and one (ivdep) comes out a close second.
double fakeSpeedup(const KernelConfig &c)
{
    double s = c.ikj ? 1.30 : 1.02;
    s += c.tile == 16 ? 0.30 : c.tile == 32 ? 0.50 : c.tile == 64 ? 0.20 : 0.0;
    s += c.rows == 2 ? 0.40 : c.rows == 4 ? 0.80 : 0.0;
    s += c.restrictPointers ? 0.60 : 0.0;
    s += c.ivdep ? -0.05 : 0.0;
    s += c.unroll > 1 ? (c.ikj ? 1.20 : 0.80) : 0.0;
    s += c.hoist && c.rows == 1 ? 0.02 : 0.0;
    return s;
}

std::string fmt(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

// The workspace and the agent's side of the conversation.
class Episode {
public:
    explicit Episode(KernelTunerOptions options, std::string task = "Make kernel.c faster; see TASK.md.")
        : m_policy(options)
    {
        m_request.model = "kernel-tuner-test";
        m_request.tools = agentTools();
        m_request.messages.push_back(message(Role::User, std::move(task)));
        m_files["TASK.md"] = readText(KERNEL_TUNING_DIR "/TASK.md");
        m_files["kernel.c"] = readText(KERNEL_TUNING_DIR "/kernel.c");
    }

    // One model call and the tool it asked for. False when the answer had no tool call.
    bool step()
    {
        auto turn = m_policy.answer(m_request);
        if (!turn) {
            m_error = turn.error().message;
            return false;
        }
        const auto &response = turn->response;
        Message assistant = message(Role::Assistant, response.text);
        assistant.toolCalls = response.toolCalls;
        m_request.messages.push_back(assistant);
        if (response.toolCalls.empty()) {
            m_finalText = response.text;
            return false;
        }
        for (const ToolCall &call : response.toolCalls) {
            m_calls.push_back(call);
            Message result = message(Role::Tool);
            result.toolCallId = call.id;
            auto [text, isError] = run(call);
            result.text = text;
            result.isError = isError;
            m_outputs.push_back(text);
            m_request.messages.push_back(result);
        }
        return true;
    }

    void run(int maxSteps = 300)
    {
        for (int i = 0; i < maxSteps && step(); ++i) {
        }
    }

    // Asks for a summary as the reference agent does, and continues from it and the latest
    // turn (the last assistant message and its results), as the reference agent does.
    std::string compact()
    {
        Request ask = m_request;
        ask.tools.clear();
        ask.messages.push_back(message(Role::User, "Write a summary of the conversation so far, for you "
                                                   "to continue from; the history will be replaced by it."));
        auto turn = m_policy.answer(ask);
        if (!turn || !turn->response.toolCalls.empty())
            return {};
        size_t latest = m_request.messages.size();
        while (latest > 0 && m_request.messages[latest - 1].role != Role::Assistant)
            --latest;
        std::vector<Message> history = {message(Role::User, "[Summary of the earlier conversation]\n" + turn->response.text)};
        if (latest > 0)
            history.insert(history.end(), m_request.messages.begin() + static_cast<long>(latest - 1),
                           m_request.messages.end());
        m_request.messages = std::move(history);
        return turn->response.text;
    }

    const std::vector<ToolCall> &calls() const { return m_calls; }
    const std::vector<std::string> &outputs() const { return m_outputs; }
    const std::string &finalText() const { return m_finalText; }
    const std::string &error() const { return m_error; }
    const std::string &file(const std::string &name) { return m_files[name]; }
    Request &request() { return m_request; }
    std::function<std::string(const std::string &)> benchOverride;

    // The keys of the kernel versions written, in order.
    std::vector<std::string> writtenKeys() const
    {
        std::vector<std::string> keys;
        for (const ToolCall &c : m_calls) {
            if (c.name == "write_file")
                keys.push_back(keyOfSource(c.arguments.value("content", "")).value_or("?"));
        }
        return keys;
    }

    int benches() const
    {
        int n = 0;
        for (const ToolCall &c : m_calls)
            n += c.name == "bash" && c.arguments.value("command", "") == "make bench";
        return n;
    }

private:
    std::pair<std::string, bool> run(const ToolCall &call)
    {
        const std::string path = call.arguments.value("path", "");
        if (call.name == "list_dir")
            return {"Makefile\nREADME.md\nTASK.md\nbench.c\nkernel.c\nkernel.h\nreference.c\n", false};
        if (call.name == "read_file") {
            if (!m_files.count(path))
                return {"read_file: " + path + ": No such file or directory", true};
            return {m_files[path], false};
        }
        if (call.name == "write_file") {
            m_files[path] = call.arguments.value("content", "");
            return {"wrote " + path, false};
        }
        if (call.name == "edit_file") {
            std::string &text = m_files[path];
            const std::string oldText = call.arguments.value("old_string", "");
            const size_t at = text.find(oldText);
            if (oldText.empty() || at == std::string::npos || text.find(oldText, at + 1) != std::string::npos)
                return {"edit_file: " + path + ": old_string must occur exactly once", true};
            text.replace(at, oldText.size(), call.arguments.value("new_string", ""));
            return {"edited " + path, false};
        }
        if (call.name == "todo")
            return {"plan updated", false};
        if (call.name == "bash") {
            const std::string command = call.arguments.value("command", "");
            if (command == "make bench") {
                const std::string out = benchOverride ? benchOverride(m_files["kernel.c"]) : bench(m_files["kernel.c"]);
                return {out, out.find("[exit status") != std::string::npos};
            }
            if (command == "cp kernel.c best_kernel.c" || command == "cp best_kernel.c kernel.c") {
                const std::string from = command.substr(3, command.find(' ', 3) - 3);
                const std::string to = command.substr(command.rfind(' ') + 1);
                if (!m_files.count(from))
                    return {"cp: cannot stat '" + from + "': No such file or directory\n[exit status 1]", true};
                m_files[to] = m_files[from];
                return {"(no output)", false};
            }
            return {"bash: unexpected command in this test: " + command + "\n[exit status 127]", true};
        }
        return {"unknown tool " + call.name, true};
    }

    static std::string bench(const std::string &source)
    {
        const auto key = keyOfSource(source);
        const auto cfg = key ? KernelConfig::fromKey(*key) : std::nullopt;
        if (!cfg)
            return "kernel.c:1:1: error: unknown kernel\nmake: *** [Makefile:13: run_bench] Error 1\n[exit status 2]";
        if (source != kernelSource(*cfg)) {
            for (const Slip &slip : slipsFor(*cfg)) {
                std::string undone = source;
                const size_t at = undone.find(slip.bad);
                if (at == std::string::npos)
                    continue;
                if (undone.replace(at, slip.bad.size(), slip.good) != kernelSource(*cfg))
                    continue;
                if (slip.breaksBuild())
                    return "cc -O2 -std=c11 -Wall -Wextra -o run_bench bench.c reference.c kernel.c -lm\n"
                           "kernel.c: In function 'kernel_matmul':\nkernel.c:17:9: error: expected ';' "
                           "before 'for'\nmake: *** [Makefile:13: run_bench] Error 1\n[exit status 2]";
                return "./run_bench\nmatmul n=300, median of 5 runs each\ncorrect: no (max error 4.2e+00 "
                       "at c[0][288], 3600 of 90000 elements wrong)\nspeedup: not measured, the result is "
                       "wrong\nmake: *** [Makefile:10: bench] Error 1\n[exit status 2]";
            }
        }
        const double s = fakeSpeedup(*cfg);
        return "./run_bench\nmatmul n=300, median of 5 runs each\ncorrect: yes (max error 1.0e-06)\n"
               "speedup: " + fmt(s) + "x (naive 25.0 ms, kernel " + fmt(25.0 / s) + " ms)\n";
    }

    KernelTuner m_policy;
    Request m_request;
    std::map<std::string, std::string> m_files;
    std::vector<ToolCall> m_calls;
    std::vector<std::string> m_outputs;
    std::string m_finalText;
    std::string m_error;
};

std::string command(const ToolCall &c)
{
    return c.name == "bash" ? c.arguments.value("command", "") : std::string();
}

// "Best speed-up: 3.41x" in a text, or -1.
double bestSpeedupIn(const std::string &text)
{
    const size_t at = text.find("Best speed-up: ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + 15));
}

} // namespace

class TestKernelTuner : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void naiveSourceIsTheWorkspaceKernel()
    {
        QCOMPARE(kernelSource(KernelConfig{}), readText(KERNEL_TUNING_DIR "/kernel.c"));
        QCOMPARE(keyOfSource(readText(KERNEL_TUNING_DIR "/kernel.c")).value_or("?"), std::string("ijk"));
    }

    // Every version the tuner can reach compiles without a warning with the workspace's
    // compiler flags; each build slip breaks the build, and the dropped last block does not.
    void everyVersionCompiles()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QVERIFY(QFile::copy(KERNEL_TUNING_DIR "/kernel.h", dir.filePath("kernel.h")));
        std::set<std::string> seen;
        std::vector<KernelConfig> todo{KernelConfig{}};
        while (!todo.empty()) {
            const KernelConfig c = todo.back();
            todo.pop_back();
            if (!seen.insert(c.key()).second)
                continue;
            QCOMPARE(KernelConfig::fromKey(c.key()).value_or(KernelConfig{}).key(), c.key());
            QCOMPARE(keyOfSource(kernelSource(c)).value_or("?"), c.key());
            for (const Idea &idea : ideasFrom(c))
                todo.push_back(idea.config);
        }
        QVERIFY2(seen.size() > 100, qPrintable(QString::number(seen.size())));

        auto compile = [&](const std::string &name, const std::string &source) {
            std::ofstream(dir.filePath(QString::fromStdString(name)).toStdString()) << source;
            QProcess cc;
            cc.setWorkingDirectory(dir.path());
            cc.start("cc", {"-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                            QString::fromStdString(name)});
            cc.waitForFinished(30000);
            return std::pair(cc.exitCode(), QString::fromUtf8(cc.readAllStandardError()));
        };
        // Each config on its own would take a while; one file with every version, each
        // renamed, checks them all in one compiler run.
        std::string all;
        int index = 0;
        for (const std::string &key : seen) {
            std::string src = kernelSource(*KernelConfig::fromKey(key));
            const std::string fn = "kernel_matmul_" + std::to_string(index);
            for (size_t at; (at = src.find("kernel_matmul(")) != std::string::npos;)
                src.replace(at, 13, fn);
            for (size_t at; (at = src.find("min_int")) != std::string::npos;)
                src.replace(at, 7, "min_" + std::to_string(index));
            for (size_t at; (at = src.find("#define TILE ")) != std::string::npos;) {
                const size_t end = src.find('\n', at);
                const std::string tile = src.substr(at + 13, end - at - 13);
                src.erase(at, end - at);
                for (size_t t; (t = src.find("TILE")) != std::string::npos;)
                    src.replace(t, 4, tile);
            }
            all.append(src);
            ++index;
        }
        auto [status, errors] = compile("all.c", all);
        QVERIFY2(status == 0, qPrintable(errors.left(3000)));

        const KernelConfig tiled = *KernelConfig::fromKey("ikj-t32-r4-restrict");
        for (const Slip &slip : slipsFor(tiled)) {
            std::string src = kernelSource(tiled);
            const size_t at = src.find(slip.good);
            QVERIFY(at != std::string::npos);
            QVERIFY2(src.find(slip.good, at + 1) == std::string::npos, slip.good.c_str());
            src.replace(at, slip.good.size(), slip.bad);
            auto [code, err] = compile("slip.c", src);
            QCOMPARE(code != 0, slip.breaksBuild());
        }
    }

    void benchOutputIsRead_data()
    {
        QTest::addColumn<QString>("output");
        QTest::addColumn<int>("kind");
        QTest::addColumn<double>("speedup");
        QTest::newRow("speedup") << "matmul n=300\ncorrect: yes (max error 1.2e-06)\nspeedup: 3.41x (naive 48.2 ms, kernel 14.1 ms)\n"
                                 << int(BenchResult::Kind::Speedup) << 3.41;
        QTest::newRow("wrong") << "correct: no (max error 4.0e+00 at c[3][299], 12 of 90000 elements wrong)\n[exit status 2]"
                               << int(BenchResult::Kind::Wrong) << 0.0;
        QTest::newRow("compile") << "kernel.c:9:5: error: 'aik' undeclared (first use in this function)\nmake: *** Error 1"
                                 << int(BenchResult::Kind::BuildFailed) << 0.0;
        QTest::newRow("link") << "/usr/bin/ld: undefined reference to `kernel_matmul'\nmake: *** [Makefile:13: run_bench] Error 1"
                              << int(BenchResult::Kind::BuildFailed) << 0.0;
        QTest::newRow("nothing") << "bash: make: command not found\n[exit status 127]"
                                 << int(BenchResult::Kind::Unreadable) << 0.0;
    }

    void benchOutputIsRead()
    {
        QFETCH(QString, output);
        QFETCH(int, kind);
        QFETCH(double, speedup);
        const BenchResult r = parseBenchOutput(output.toStdString());
        QCOMPARE(int(r.kind), kind);
        QCOMPARE(r.speedup, speedup);
    }

    void opensByLookingAround()
    {
        Episode e({1, 18});
        for (int i = 0; i < 5; ++i)
            QVERIFY(e.step());
        QCOMPARE(e.calls()[0].name, std::string("list_dir"));
        QCOMPARE(e.calls()[1].arguments.value("path", ""), std::string("TASK.md"));
        QCOMPARE(e.calls()[2].arguments.value("path", ""), std::string("kernel.c"));
        QCOMPARE(e.calls()[3].name, std::string("todo"));
        QVERIFY(e.calls()[3].arguments["items"].size() >= 4);
        QCOMPARE(command(e.calls()[4]), std::string("make bench"));
        QVERIFY(e.step());
        QCOMPARE(command(e.calls()[5]), std::string("cp kernel.c best_kernel.c"));
        QVERIFY(e.step());
        QCOMPARE(e.calls()[6].name, std::string("write_file"));
        QCOMPARE(e.writtenKeys().front(), std::string("ikj")); // the loop order comes first
    }

    // The same seed and the same tool outputs give the same run; another seed another one.
    void deterministic()
    {
        Episode a({7, 18}), b({7, 18}), c({8, 18});
        a.run();
        b.run();
        c.run();
        QVERIFY2(a.error().empty(), a.error().c_str());
        QCOMPARE(a.calls().size(), b.calls().size());
        for (size_t i = 0; i < a.calls().size(); ++i) {
            QCOMPARE(a.calls()[i].name, b.calls()[i].name);
            QCOMPARE(a.calls()[i].arguments.dump(), b.calls()[i].arguments.dump());
            QCOMPARE(a.calls()[i].id, b.calls()[i].id);
        }
        QCOMPARE(a.finalText(), b.finalText());
        QVERIFY(a.writtenKeys() != c.writtenKeys() || a.calls().size() != c.calls().size());
    }

    void reactsToACompileError()
    {
        Episode e({1, 18});
        e.run();
        bool sawCompileError = false;
        for (size_t i = 0; i + 2 < e.calls().size(); ++i) {
            if (command(e.calls()[i]) != "make bench" || e.outputs()[i].find(": error:") == std::string::npos)
                continue;
            sawCompileError = true;
            const ToolCall &fix = e.calls()[i + 1];
            QCOMPARE(fix.name, std::string("edit_file"));
            QCOMPARE(e.outputs()[i + 1], std::string("edited kernel.c"));
            QCOMPARE(command(e.calls()[i + 2]), std::string("make bench"));
            QVERIFY2(e.outputs()[i + 2].find("correct: yes") != std::string::npos, e.outputs()[i + 2].c_str());
        }
        QVERIFY(sawCompileError);
    }

    void fixesAWrongResult()
    {
        bool sawWrong = false;
        for (uint64_t seed = 0; seed < 6 && !sawWrong; ++seed) {
            Episode e({seed, 24});
            e.run();
            for (size_t i = 0; i + 2 < e.calls().size(); ++i) {
                if (command(e.calls()[i]) != "make bench" || e.outputs()[i].find("correct: no") == std::string::npos)
                    continue;
                sawWrong = true;
                QCOMPARE(e.calls()[i + 1].name, std::string("edit_file"));
                QCOMPARE(e.calls()[i + 1].arguments.value("new_string", ""), std::string("jj < n; jj += TILE"));
                QVERIFY(e.outputs()[i + 2].find("correct: yes") != std::string::npos);
            }
        }
        QVERIFY(sawWrong);
    }

    // Faster versions are saved, slower ones reverted; the final answer names the best.
    void keepsTheBest()
    {
        Episode e({3, 20});
        e.run();
        double best = 0;
        int saves = 0, reverts = 0;
        for (size_t i = 0; i + 1 < e.calls().size(); ++i) {
            const BenchResult r = parseBenchOutput(e.outputs()[i]);
            if (command(e.calls()[i]) != "make bench" || r.kind != BenchResult::Kind::Speedup)
                continue;
            const std::string next = command(e.calls()[i + 1]);
            if (r.speedup > best) {
                QCOMPARE(next, std::string("cp kernel.c best_kernel.c"));
                best = r.speedup;
                ++saves;
            } else if (next == "cp best_kernel.c kernel.c") {
                ++reverts;
            }
        }
        QVERIFY(saves >= 3);
        QVERIFY(reverts >= 1);
        QCOMPARE(bestSpeedupIn(e.finalText()), std::stod(fmt(best)));
        QCOMPARE(e.file("kernel.c"), e.file("best_kernel.c"));
        QCOMPARE(fakeSpeedup(*KernelConfig::fromKey(*keyOfSource(e.file("kernel.c")))), best);
    }

    // Once a version came out a close second, it is measured a second time.
    void retriesACloseRegression()
    {
        Episode e({2, 30});
        e.run();
        const auto keys = e.writtenKeys();
        std::map<std::string, int> writes;
        for (const std::string &k : keys)
            ++writes[k];
        int twice = 0;
        for (const auto &[key, n] : writes) {
            if (n < 2)
                continue;
            ++twice;
            // Its first measurement was slower than the best and reverted.
            size_t first = 0;
            while (e.calls()[first].name != "write_file" ||
                   keyOfSource(e.calls()[first].arguments.value("content", "")) != key)
                ++first;
            QCOMPARE(command(e.calls()[first + 1]), std::string("make bench"));
            QCOMPARE(command(e.calls()[first + 2]), std::string("cp best_kernel.c kernel.c"));
        }
        QCOMPARE(twice, 1);
    }

    void stopsOnItsBudget_data()
    {
        QTest::addColumn<int>("option");
        QTest::addColumn<QString>("task");
        QTest::addColumn<int>("expected");
        QTest::newRow("option") << 9 << "Make kernel.c faster." << 9;
        QTest::newRow("stated in the task") << 18 << "Make kernel.c faster. You have a budget of 6 benchmark evaluations." << 6;
    }

    void stopsOnItsBudget()
    {
        QFETCH(int, option);
        QFETCH(QString, task);
        QFETCH(int, expected);
        Episode e({5, option}, task.toStdString());
        e.run();
        QVERIFY2(e.error().empty(), e.error().c_str());
        QCOMPARE(e.benches(), expected);
        QVERIFY2(bestSpeedupIn(e.finalText()) > 1.0, e.finalText().c_str());
        QVERIFY(e.finalText().find("Done after " + std::to_string(expected) + " benchmark evaluations") !=
                std::string::npos);
        QCOMPARE(e.file("kernel.c"), e.file("best_kernel.c"));
        QCOMPARE(e.calls().back().name, std::string("todo")); // the plan closed
        for (const auto &item : e.calls().back().arguments["items"])
            QCOMPARE(item.value("status", ""), std::string("done"));
    }

    // A compaction in the middle changes nothing about what comes after: the summary carries
    // the state, the tuner reads kernel.c again and carries on with the same ideas.
    void continuesAfterCompaction()
    {
        Episode reference({4, 18});
        reference.run();

        Episode e({4, 18});
        int copies = 0;
        while (copies < 4 && e.step())
            copies += command(e.calls().back()).starts_with("cp ");
        QCOMPARE(copies, 4);
        const size_t before = e.writtenKeys().size();
        const std::string summary = e.compact();
        QVERIFY2(summary.find("Tuner state:") != std::string::npos, summary.c_str());
        const auto state = parseStateBlock(summary);
        QVERIFY(state);
        QVERIFY(!state->bestKey.empty());

        QVERIFY(e.step());
        QCOMPARE(e.calls().back().name, std::string("read_file"));
        QCOMPARE(e.calls().back().arguments.value("path", ""), std::string("kernel.c"));
        e.run();
        QVERIFY2(e.error().empty(), e.error().c_str());

        const auto written = e.writtenKeys(), referenceWritten = reference.writtenKeys();
        QVERIFY(written.size() > before);
        const std::vector<std::string> after(written.begin() + static_cast<long>(before), written.end());
        const std::vector<std::string> expected(referenceWritten.begin() + static_cast<long>(before),
                                                referenceWritten.end());
        QCOMPARE(after, expected);
        QCOMPARE(bestSpeedupIn(e.finalText()), bestSpeedupIn(reference.finalText()));
        QCOMPARE(e.benches(), reference.benches());
    }

    void stateBlockRoundTrips()
    {
        Episode e({6, 12});
        e.run();
        const TunerState s = replayConversation(e.request());
        const auto back = parseStateBlock("some prose first\n\n" + formatStateBlock(s));
        QVERIFY(back);
        QCOMPARE(formatStateBlock(*back), formatStateBlock(s));
        QCOMPARE(back->evaluations, 12);
        QVERIFY(!parseStateBlock("Tuner state:\nbest: not-a-key 2.0\n"));
    }

    // A benchmark that never runs is not an evaluation; three failures in a row end the run.
    void givesUpWhenNothingWorks()
    {
        Episode e({1, 18});
        e.benchOverride = [](const std::string &) { return std::string("bash: make: command not found\n[exit status 127]"); };
        e.run(40);
        QVERIFY(e.calls().size() < 40);
        QVERIFY2(e.finalText().find("benchmark did not run") != std::string::npos, e.finalText().c_str());
    }

    void answersWithoutToolsInText()
    {
        KernelTuner policy({1, 18});
        Request r;
        r.messages.push_back(message(Role::User, "Make kernel.c faster."));
        auto turn = policy.answer(r);
        QVERIFY(turn);
        QVERIFY(turn->response.toolCalls.empty());
        QVERIFY(turn->response.text.find("bash") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestKernelTuner)
#include "tst_kerneltuner.moc"
