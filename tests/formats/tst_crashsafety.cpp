// A writer killed with SIGKILL at a random moment loses at most what was in flight: the
// file opens, verifies, and holds every step the writer had reported as committed. One
// with a commitInterval may also lose what it reported since its last commit.
//
// Each round forks a child that appends generated steps to the same tape and writes the
// index of each step to a pipe once append() (or appendBatch()) has returned; the parent
// kills it 5-60 ms after it has opened the tape (every fifth round: after the fork, so that
// some kills land while it opens) and then checks the file. TAPEDECK_CRASH_SEED=<n>
// replays a run.
#include "testutil.h"

#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <poll.h>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

using namespace tapedeck::formats;
using namespace tapedeck::testutil;

namespace {

// What the child sends through the pipe per committed step. Smaller than PIPE_BUF, so
// each write is atomic: the parent never sees half a record.
struct Committed {
    int64_t index;
    int64_t series;
    int64_t k;
};

WriterOptions childOptions(std::chrono::milliseconds commitInterval = {})
{
    WriterOptions o;
    o.commitInterval = commitInterval;
    // Small, so that dictionary training and keyframes happen inside the short lives of
    // the children, and a kill can land in the middle of them.
    o.dictionaryTrainingBytes = 48 << 10;
    o.dictionarySize = 8 << 10;
    o.keyframeInterval = 8;
    return o;
}

[[noreturn]] void childMain(const std::string &path, ThreadId thread, int64_t series, bool batches,
                            std::chrono::milliseconds commitInterval, int fd)
{
    auto writer = TapeWriter::openForAppend(path, childOptions(commitInterval));
    if (!writer) {
        std::fprintf(stderr, "child: %s\n", writer.error().message.c_str());
        _exit(10);
    }
    const Committed ready{0, series, -1};
    if (write(fd, &ready, sizeof ready) != ssize_t(sizeof ready))
        _exit(12);
    for (int64_t k = 0; k < 100000;) {
        std::vector<Step> steps;
        const int n = batches ? 4 : 1;
        for (int i = 0; i < n; ++i)
            steps.push_back(generatedStep(uint64_t(series), k + i, thread));
        std::vector<StepIndex> indices;
        if (batches) {
            auto r = (*writer)->appendBatch(steps);
            if (!r) {
                std::fprintf(stderr, "child: %s\n", r.error().message.c_str());
                _exit(11);
            }
            indices = *r;
        } else {
            auto r = (*writer)->append(steps[0]);
            if (!r) {
                std::fprintf(stderr, "child: %s\n", r.error().message.c_str());
                _exit(11);
            }
            indices.push_back(*r);
        }
        for (int i = 0; i < n; ++i) {
            Committed c{indices[size_t(i)].value, series, k + i};
            if (write(fd, &c, sizeof c) != ssize_t(sizeof c))
                _exit(12);
        }
        k += n;
    }
    _exit(0);
}

} // namespace

class TestCrashSafety : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // With a commitInterval (an import's), what was reported may be lost too, up to an
    // interval of it; the rest holds: the file opens and verifies, and what it holds is
    // whole and in order.
    void killedWriterLosesOnlyTheStepInFlight_data()
    {
        QTest::addColumn<int>("commitIntervalMs");
        QTest::newRow("each append committed") << 0;
        QTest::newRow("commits every 10 ms") << 10;
    }

    void killedWriterLosesOnlyTheStepInFlight()
    {
        QFETCH(int, commitIntervalMs);
        const std::chrono::milliseconds commitInterval(commitIntervalMs);
        const bool held = commitIntervalMs > 0;
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath(QStringLiteral("crash.tape")).toStdString();
        ThreadId thread;
        {
            auto writer = TapeWriter::create(path, childOptions());
            QVERIFY(writer);
            auto sc = beginScaffold(**writer);
            QVERIFY(sc);
            thread = sc->thread;
        }

        quint32 seed = 20260101;
        if (qEnvironmentVariableIsSet("TAPEDECK_CRASH_SEED"))
            seed = quint32(qEnvironmentVariableIntValue("TAPEDECK_CRASH_SEED"));
        qInfo("TAPEDECK_CRASH_SEED=%u", seed);
        QRandomGenerator rng(seed);

        constexpr int kRounds = 50;
        int64_t checkedUpTo = 0;  // steps below this were checked in an earlier round
        int roundsThatCommitted = 0;
        int64_t unreportedButCommitted = 0;
        int64_t reportedButLost = 0; // only with a commitInterval
        for (int round = 0; round < kRounds; ++round) {
            const bool batches = round % 4 == 3;
            const int lifeMs = int(rng.bounded(5, 61));
            int fds[2];
            QVERIFY(pipe(fds) == 0);
            fflush(nullptr);
            const pid_t pid = fork();
            QVERIFY(pid >= 0);
            if (pid == 0) {
                restoreCrashSignals();
                close(fds[0]);
                try {
                    childMain(path, thread, round, batches, commitInterval, fds[1]);
                } catch (...) {
                    _exit(13); // never unwind into QtTest's loop in the child
                }
            }
            close(fds[1]);
            Committed c;
            const bool fromFork = round % 5 == 4;
            if (!fromFork) {
                // Wait (at most 10 s) for the child to have opened the tape.
                pollfd p{fds[0], POLLIN, 0};
                if (poll(&p, 1, 10000) == 1 && read(fds[0], &c, sizeof c) == ssize_t(sizeof c))
                    QCOMPARE(c.index, int64_t(0));
            }
            usleep(useconds_t(lifeMs) * 1000);
            kill(pid, SIGKILL);
            int status = 0;
            QCOMPARE(waitpid(pid, &status, 0), pid);

            std::vector<Committed> committed;
            for (;;) {
                ssize_t n = read(fds[0], &c, sizeof c);
                if (n <= 0)
                    break;
                QCOMPARE(n, ssize_t(sizeof c));
                if (c.index != 0) // not the "ready" record
                    committed.push_back(c);
            }
            close(fds[0]);
            const QString where = QStringLiteral("round %1 (%2 ms, %3 steps reported)")
                                      .arg(round).arg(lifeMs).arg(committed.size());
            QVERIFY2(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                     qPrintable(where + QStringLiteral(": the child did not run until killed (status %1)")
                                            .arg(status)));
            auto reader = TapeReader::open(path);
            QVERIFY2(reader, qPrintable(where + ": " + QString::fromStdString(
                                                     reader ? "" : reader.error().message)));
            const VerifyReport report = (*reader)->verify();
            QVERIFY2(report.ok, qPrintable(where + ": " + QString::fromStdString(
                                                      report.problems.empty() ? "" : report.problems.front())));

            const int64_t count = (*reader)->stepCount();
            if (held) { // the next round appends after what the file holds
                while (!committed.empty() && committed.back().index > count) {
                    committed.pop_back();
                    ++reportedButLost;
                }
            }
            if (!committed.empty())
                ++roundsThatCommitted;
            const int64_t lastReported = committed.empty() ? checkedUpTo : committed.back().index;
            QVERIFY2(count >= lastReported,
                     qPrintable(where + QStringLiteral(": the tape has %1 steps, the child reported %2")
                                            .arg(count).arg(lastReported)));
            // At most the append (or batch) in flight may have committed unreported.
            QVERIFY2(count - lastReported <= (batches ? 4 : 1),
                     qPrintable(where + QStringLiteral(": %1 steps more than reported").arg(count - lastReported)));
            unreportedButCommitted += count - lastReported;

            for (const Committed &r : committed) {
                auto s = (*reader)->step(StepIndex{r.index});
                QVERIFY2(s, qPrintable(where + ": " + QString::fromStdString(s ? "" : s.error().message)));
                const std::string diff =
                    stepDifference(generatedStep(uint64_t(r.series), r.k, thread), *s);
                QVERIFY2(diff.empty(), qPrintable(where + QStringLiteral(": step %1: ").arg(r.index) +
                                                  QString::fromStdString(diff)));
            }
            // Every step in the file, reported or not, is one the generator made, whole,
            // and the thread's seq numbers run on without a gap across restarts.
            for (int64_t i = checkedUpTo + 1; i <= count; ++i) {
                auto s = (*reader)->step(StepIndex{i});
                QVERIFY2(s, qPrintable(where + ": " + QString::fromStdString(s ? "" : s.error().message)));
                uint64_t series = 0;
                int64_t k = 0;
                QVERIFY2(parseGeneratedCallId(s->callId, series, k),
                         qPrintable(where + QStringLiteral(": step %1 has call id %2")
                                                .arg(i).arg(QString::fromStdString(s->callId))));
                const std::string diff = stepDifference(generatedStep(series, k, thread), *s);
                QVERIFY2(diff.empty(), qPrintable(where + QStringLiteral(": step %1: ").arg(i) +
                                                  QString::fromStdString(diff)));
                QCOMPARE(s->seq, i - 1);
            }
            checkedUpTo = count;
        }
        qInfo("%d of %d rounds committed steps before the kill; %lld steps total; "
              "%lld committed but not yet reported; %lld reported but not yet committed",
              roundsThatCommitted, kRounds, (long long)checkedUpTo, (long long)unreportedButCommitted,
              (long long)reportedButLost);
        // Otherwise the kills all landed before the first append and nothing was tested.
        QVERIFY(roundsThatCommitted >= kRounds / 2);
    }
};

QTEST_GUILESS_MAIN(TestCrashSafety)
#include "tst_crashsafety.moc"
