// The kernel-tuning run end to end, every part real: tapedeck-model with the kernel-tuner
// policy on loopback, tapedeck-agent talking to it over HTTP, a copy of
// samples/kernel-tuning compiled and timed by the system compiler; then `tapedeck demo`,
// which does the same on its own, run as a process.
#include "modelprocess.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using tapedeck::testutil::ModelProcess;

namespace {

struct Run {
    int exitCode = -1; // -1: crashed, did not start or timed out
    QString out;
    QString err;
    QString describe() const
    {
        return QStringLiteral("exit %1\n--- stdout (tail):\n%2\n--- stderr (tail):\n%3")
            .arg(exitCode)
            .arg(out.right(3000), err.right(3000));
    }
};

Run runProcess(const QString &program, const QStringList &args, int timeoutMs, const QString &workdir = {})
{
    QProcess p;
    if (!workdir.isEmpty())
        p.setWorkingDirectory(workdir);
    p.start(program, args);
    Run r;
    if (!p.waitForStarted(10000))
        return r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return r;
}

bool copyWorkspace(const QString &to)
{
    const QDir from(QStringLiteral(KERNEL_TUNING_DIR));
    for (const QString &name : from.entryList(QDir::Files)) {
        if (name == "run_bench" || name == "best_kernel.c")
            continue;
        if (!QFile::copy(from.filePath(name), QDir(to).filePath(name)))
            return false;
    }
    return true;
}

// The first capture of `pattern` in `text` as a number, or -1.
double number(const QString &text, const QString &pattern)
{
    const auto m = QRegularExpression(pattern).match(text);
    return m.hasMatch() ? m.captured(1).toDouble() : -1.0;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestKernelTuningE2e : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void agentTunesTheKernel_data()
    {
        QTest::addColumn<QString>("api");
        QTest::addColumn<int>("evals");
        QTest::addColumn<int>("compactAt");
        QTest::newRow("openai") << "openai" << 10 << 0;
        QTest::newRow("anthropic") << "anthropic" << 6 << 0;
        QTest::newRow("openai, compacting") << "openai" << 10 << 3000;
    }

    void agentTunesTheKernel()
    {
        QFETCH(QString, api);
        QFETCH(int, evals);
        QFETCH(int, compactAt);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QVERIFY(copyWorkspace(dir.path()));

        // Seed 3 makes its first slip a compile error on the second version it writes.
        ModelProcess model({"--listen", "127.0.0.1:0", "--policy", "kernel-tuner", "--seed", "3", "--quiet"});
        QVERIFY2(model.port() > 0, model.firstLine().constData());
        QStringList args = {"--api", api, "--model", "kernel-tuner",
                            "--base-url", QString::fromStdString(model.url("")),
                            "--workdir", dir.path(), "--max-steps", "300"};
        if (compactAt > 0)
            args << "--compact-at-tokens" << QString::number(compactAt);
        args << QStringLiteral("Make kernel_matmul in kernel.c faster while it stays correct; see TASK.md. "
                               "You have a budget of %1 benchmark evaluations.").arg(evals);
        const Run r = runProcess(QStringLiteral(TAPEDECK_AGENT_BIN), args, 240000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));

        // The model's own report, read from the agent's output.
        const double reported = number(r.out, R"(Best speed-up: ([0-9.]+)x)");
        QVERIFY2(reported > 1.0, qPrintable(r.describe()));
        const int benches = static_cast<int>(r.err.count(QRegularExpression(R"(\bbash make bench \()")));
        // The budget, or fewer when every idea from the best version was measured; the model
        // counts what the agent ran.
        QVERIFY2(benches <= evals && benches >= std::min(evals, 5), qPrintable(r.describe()));
        QCOMPARE(number(r.out, R"(Done after ([0-9]+) benchmark evaluations)"), double(benches));
        QVERIFY2(number(r.err, R"(tool calls: ([0-9]+))") >= 3 * evals, qPrintable(r.describe()));
        QVERIFY2(r.err.contains("edit_file kernel.c"), qPrintable(r.describe())); // the compile error fixed
        if (compactAt > 0)
            QVERIFY2(number(r.err, R"(\(([0-9]+) compactions)") >= 1, qPrintable(r.describe()));

        // The workspace: the best version left in kernel.c, correct, and faster when measured again.
        const QByteArray kernel = readAll(dir.filePath("kernel.c"));
        QVERIFY(kernel.startsWith("/* variant: "));
        QCOMPARE(kernel, readAll(dir.filePath("best_kernel.c")));
        const Run bench = runProcess("make", {"-s", "bench"}, 60000, dir.path());
        QVERIFY2(bench.exitCode == 0 && bench.out.contains("correct: yes"), qPrintable(bench.describe()));
        QVERIFY2(number(bench.out, R"(speedup: ([0-9.]+)x)") > 1.0, qPrintable(bench.describe()));
        QCOMPARE(model.stop(), 0);
    }

    // `tapedeck demo` with its defaults finds the programs in the build tree, runs, reports,
    // records the run into ./demo.tape (every tool call the agent made is in it), prints
    // its info, and removes its temporary workspace.
    void demoRuns()
    {
        QTemporaryDir here;
        const Run r = runProcess(QStringLiteral(TAPEDECK_BIN), {"demo"}, 240000, here.path());
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("--- demo"), qPrintable(r.describe()));
        QVERIFY2(number(r.out, R"(best:\s+([0-9.]+)x)") > 1.0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("measured again: correct"), qPrintable(r.describe()));
        const auto m = QRegularExpression(R"(workspace:\s+(\S+) \(removed)").match(r.out);
        QVERIFY2(m.hasMatch(), qPrintable(r.describe()));
        QVERIFY(!QDir(m.captured(1)).exists());
        const double toolCalls = number(r.out, R"(tool calls:\s+([0-9]+))");
        QVERIFY2(toolCalls >= 40, qPrintable(r.describe()));

        QVERIFY2(r.out.contains("--- tapedeck info demo.tape"), qPrintable(r.describe()));
        QCOMPARE(number(r.out, R"(\n  tool_call\s+([0-9]+))"), toolCalls);
        QCOMPARE(number(r.out, R"(\n  tool_result\s+([0-9]+))"), toolCalls);
        const Run verify = runProcess(QStringLiteral(TAPEDECK_BIN), {"verify", "demo.tape"}, 30000, here.path());
        QVERIFY2(verify.exitCode == 0, qPrintable(verify.describe()));
        // With no display the demo ends with a picture of the run in the desktop app.
        if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")) {
            QVERIFY2(r.out.contains("pictured instead: demo.png"), qPrintable(r.describe()));
            QFile picture(here.filePath("demo.png"));
            QVERIFY2(picture.open(QIODevice::ReadOnly), qPrintable(r.describe()));
            const QByteArray head = picture.read(24); // the PNG signature, then IHDR's width and height
            QVERIFY2(head.startsWith("\x89PNG\r\n\x1a\n"), qPrintable(r.describe()));
            const auto be32 = [&](int at) {
                return (uint32_t(uint8_t(head[at])) << 24) | (uint32_t(uint8_t(head[at + 1])) << 16) |
                       (uint32_t(uint8_t(head[at + 2])) << 8) | uint32_t(uint8_t(head[at + 3]));
            };
            QVERIFY2(be32(16) >= 800 && be32(20) >= 600, qPrintable(r.describe()));
        }

        // The next demo keeps this tape as demo.tape.old.
        const Run again = runProcess(QStringLiteral(TAPEDECK_BIN), {"demo", "--evals", "2", "--think-ms", "0", "--no-gui"},
                                     120000, here.path());
        QVERIFY2(again.exitCode == 0, qPrintable(again.describe()));
        QVERIFY2(again.out.contains("is now demo.tape.old"), qPrintable(again.describe()));
        QVERIFY(QFile::exists(here.filePath("demo.tape.old")));
        QVERIFY(QFile::exists(here.filePath("demo.tape")));
        // A tape named with -o is never replaced.
        const Run named = runProcess(QStringLiteral(TAPEDECK_BIN), {"demo", "-o", "demo.tape.old"}, 30000,
                                     here.path());
        QCOMPARE(named.exitCode, 3);
        QVERIFY2(named.err.contains("demo.tape.old"), qPrintable(named.describe()));
    }

    void demoKeepsAGivenWorkdir()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString workdir = dir.filePath("run");
        const Run r = runProcess(QStringLiteral(TAPEDECK_BIN),
                                 {"demo", "--evals", "4", "--think-ms", "0", "--no-gui", "--api", "anthropic", "--workdir",
                                  workdir, "-o", dir.filePath("run.tape")},
                                 120000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(QFile::exists(QDir(workdir).filePath("best_kernel.c")));
        QVERIFY2(r.out.contains(workdir + " (kept)"), qPrintable(r.describe()));
        // A second run refuses the same, now non-empty, directory.
        const Run again = runProcess(QStringLiteral(TAPEDECK_BIN),
                                     {"demo", "--workdir", workdir, "-o", dir.filePath("again.tape")}, 30000);
        QCOMPARE(again.exitCode, 5);
        QVERIFY2(again.err.contains("not empty"), qPrintable(again.describe()));
    }

    void demoNamesWhatIsMissing_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("model") << QStringList{"--model-bin", "/nonexistent/tapedeck-model"} << "tapedeck-model";
        QTest::newRow("agent") << QStringList{"--agent-bin", "/nonexistent/tapedeck-agent"} << "tapedeck-agent";
        QTest::newRow("workspace") << QStringList{"--workspace", "/nonexistent"} << "has no TASK.md";
    }

    void demoNamesWhatIsMissing()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const Run r = runProcess(QStringLiteral(TAPEDECK_BIN), QStringList{"demo"} + args, 30000);
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains(message), qPrintable(r.describe()));
    }
};

QTEST_GUILESS_MAIN(TestKernelTuningE2e)
#include "tst_kerneltuning_e2e.moc"
