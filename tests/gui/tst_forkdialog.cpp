// "Fork from here…" as a person uses it: the dialog's command line for each kind of edit,
// its validation, and real forks started from it — the reference agent's small run,
// recorded through the real `tapedeck record` against the scripted model server, forked
// with a user message added and continued against the scripted model, ending in a new
// branch that the TapeWatcher saw grow, and the same from the main window, which reads the
// tape again until the branch is in it; a fork cancelled while it runs, which loses nothing
// already recorded; and a fork the CLI refuses, whose error the dialog shows.
#include "forkdialog.h"
#include "mainwindow.h"
#include "modelprocess.h"
#include "tapewatcher.h"

#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace tapedeck::gui;
using formats::StepIndex;

namespace {

// The small task: three model calls over the Anthropic API.
const char *const kScript[] = {
    "{\"tool_calls\":[{\"name\":\"read_file\",\"arguments\":{\"path\":\"data.txt\"}}]}",
    "{\"tool_calls\":[{\"name\":\"write_file\",\"arguments\":{\"path\":\"summary.txt\",\"content\":\"three lines\\n\"}}]}",
    "{\"text\":\"Done: data.txt has three lines; summary.txt says so.\"}"};

struct TapeState {
    size_t branches = 0;
    std::vector<formats::StepIndex> modelCalls;
    int64_t steps = 0;
    std::string error;
};

TapeState stateOf(const QString &tape)
{
    TapeState state;
    auto reader = formats::TapeReader::open(tape.toStdString());
    if (!reader) {
        state.error = reader.error().message;
        return state;
    }
    auto summary = (*reader)->summary();
    if (!summary) {
        state.error = summary.error().message;
        return state;
    }
    state.branches = summary->branches.size();
    state.steps = summary->stepCount;
    auto rows = (*reader)->stepSummaries(StepIndex{1}, 1000);
    if (rows)
        for (const formats::StepSummary &s : *rows)
            if (s.kind == formats::StepKind::ModelCall)
                state.modelCalls.push_back(s.index);
    return state;
}

} // namespace

class TestForkDialog : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_tape;

    QString freshWorkspace(const QString &name)
    {
        const QString work = m_dir.filePath(name);
        QDir(work).removeRecursively();
        QDir().mkpath(work);
        QFile data(work + "/data.txt");
        if (data.open(QIODevice::WriteOnly))
            data.write("one\ntwo\nthree\n");
        return work;
    }

    QString agentCommand(const QString &work)
    {
        return QStringLiteral("%1 --api anthropic --model claude-sonnet-4-6 --workdir %2 \"summarise data.txt\"")
            .arg(QStringLiteral(TAPEDECK_AGENT_BIN), work);
    }

    QString tapeCopy(const QString &name)
    {
        const QString copy = m_dir.filePath(name);
        QFile::remove(copy);
        QFile::copy(m_tape, copy);
        return copy;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true); // the window's recent files and layout
        QVERIFY(m_dir.isValid());
        const QString script = m_dir.filePath("turns.jsonl");
        QFile file(script);
        QVERIFY(file.open(QIODevice::WriteOnly));
        for (const char *line : kScript)
            file.write(QByteArray(line) + '\n');
        file.close();
        testutil::ModelProcess model({"--policy", "script", "--script", script, "--quiet"});
        QVERIFY(model.port() > 0);
        m_tape = m_dir.filePath("small.tape");
        QProcess record;
        record.start(QStringLiteral(TAPEDECK_CLI_BINARY),
                     QStringList{"record", "-q", "-o", m_tape, "--upstream", QString::fromStdString(model.url("")), "--"} +
                         QProcess::splitCommand(agentCommand(freshWorkspace("record-work"))));
        QVERIFY(record.waitForFinished(120000));
        QVERIFY2(record.exitCode() == 0, record.readAllStandardError().constData());
        const TapeState state = stateOf(m_tape);
        QVERIFY2(state.error.empty(), state.error.c_str());
        QCOMPARE(state.modelCalls.size(), size_t(3));
    }

    void arguments_data()
    {
        QTest::addColumn<int>("edit");
        QTest::addColumn<QString>("upstream");
        QTest::addColumn<QStringList>("expected");
        const QStringList head{"fork", "t.tape", "--at", "7", "--branch", "2"};
        const QStringList agent{"--", "agent", "do it"};
        QTest::newRow("tool result") << int(ForkRequest::Edit::ToolResult) << QString()
                                     << head + QStringList{"--edit-tool-result", "@F", "--scripted", "generic"} + agent;
        QTest::newRow("response") << int(ForkRequest::Edit::Response) << QString()
                                  << head + QStringList{"--edit-response", "@F", "--scripted", "generic"} + agent;
        QTest::newRow("user message") << int(ForkRequest::Edit::AppendUser) << "http://127.0.0.1:9"
                                      << head + QStringList{"--append-user", "@F", "--upstream", "http://127.0.0.1:9"} + agent;
        QTest::newRow("model") << int(ForkRequest::Edit::Model) << QString()
                               << head + QStringList{"--model", "m-2", "--scripted", "generic"} + agent;
    }

    void arguments()
    {
        QFETCH(int, edit);
        QFETCH(QString, upstream);
        QFETCH(QStringList, expected);
        ForkRequest r{"t.tape", StepIndex{7}, 2, ForkRequest::Edit(edit), " m-2 ", upstream,
                      upstream.isEmpty() ? QStringLiteral("generic") : QString(), {"agent", "do it"}};
        QCOMPARE(ForkProcess::arguments(r, "F"), expected);
        QCOMPARE(ForkProcess::problemWith(r), QString());
    }

    void validation()
    {
        ForkDialog dialog(m_tape, StepIndex{3}, 0, formats::StepKind::ToolResult, "recorded output", {});
        QCOMPARE(dialog.textField()->toPlainText(), QStringLiteral("recorded output"));
        QVERIFY(!dialog.startButton()->isEnabled());
        QVERIFY2(dialog.statusText().contains(QLatin1String("agent command")), qPrintable(dialog.statusText()));
        dialog.commandField()->setText("agent --go");
        QVERIFY(dialog.startButton()->isEnabled());
        dialog.upstreamChoice()->setChecked(true);
        QVERIFY(!dialog.startButton()->isEnabled());
        dialog.upstreamField()->setText("api.example.com");
        QVERIFY2(dialog.statusText().contains(QLatin1String("http://")), qPrintable(dialog.statusText()));
        dialog.upstreamField()->setText("https://api.example.com");
        QVERIFY(dialog.startButton()->isEnabled());
        dialog.editChooser()->setCurrentIndex(dialog.editChooser()->findData(int(ForkRequest::Edit::AppendUser)));
        QVERIFY(dialog.textField()->toPlainText().isEmpty()); // the recorded output is no user message
        QVERIFY2(dialog.statusText().contains(QLatin1String("user message")), qPrintable(dialog.statusText()));
        QCOMPARE(dialog.request().agentCommand, QStringList({"agent", "--go"}));
    }

    // A real fork from the dialog: a user message added before the second model call.
    void forkEndsInANewBranch()
    {
        const QString tape = tapeCopy("fork.tape");
        const TapeState before = stateOf(tape);
        ForkDialog dialog(tape, before.modelCalls[1], 0, formats::StepKind::ModelCall, QString(),
                          QProcess::splitCommand(agentCommand(freshWorkspace("fork-work"))));
        dialog.process()->setProgram(QStringLiteral(TAPEDECK_CLI_BINARY));
        dialog.editChooser()->setCurrentIndex(dialog.editChooser()->findData(int(ForkRequest::Edit::AppendUser)));
        dialog.textField()->setPlainText("Count the words as well.");
        dialog.scriptedChoice()->setChecked(true);
        QVERIFY2(dialog.startButton()->isEnabled(), qPrintable(dialog.statusText()));
        TapeWatcher watcher;
        watcher.watch(tape, 50);
        QSignalSpy grew(&watcher, &TapeWatcher::changed);
        QSignalSpy finished(&dialog, &ForkDialog::forkFinished);
        QTest::mouseClick(dialog.startButton(), Qt::LeftButton);
        QVERIFY(dialog.process()->isRunning());
        QVERIFY(!dialog.startButton()->isEnabled());
        QVERIFY(finished.wait(120000));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(dialog.log()->toPlainText()));
        QTest::qWait(200); // one more poll after the last write
        QVERIFY(grew.count() >= 1);
        QVERIFY2(dialog.statusText().startsWith(QLatin1String("Done")), qPrintable(dialog.statusText()));
        const TapeState after = stateOf(tape);
        QCOMPARE(after.branches, before.branches + 1);
        QVERIFY(after.steps > before.steps);
    }

    // Cancel while the agent works: the child ends within seconds, the tape is as it was.
    void cancelStopsTheFork()
    {
        const QString tape = tapeCopy("cancel.tape");
        const TapeState before = stateOf(tape);
        ForkDialog dialog(tape, before.modelCalls[1], 0, formats::StepKind::ModelCall, QString(),
                          {"sh", "-c", "sleep 60"});
        dialog.process()->setProgram(QStringLiteral(TAPEDECK_CLI_BINARY));
        dialog.editChooser()->setCurrentIndex(dialog.editChooser()->findData(int(ForkRequest::Edit::AppendUser)));
        dialog.textField()->setPlainText("stop");
        QSignalSpy finished(&dialog, &ForkDialog::forkFinished);
        QTest::mouseClick(dialog.startButton(), Qt::LeftButton);
        QTest::qWait(1000);
        QVERIFY(dialog.process()->isRunning());
        QElapsedTimer timer;
        timer.start();
        QTest::mouseClick(dialog.cancelButton(), Qt::LeftButton);
        QVERIFY(finished.wait(15000));
        QVERIFY(timer.elapsed() < 10000);
        QVERIFY(!finished.at(0).at(0).toBool());
        QVERIFY2(finished.at(0).at(1).toString().contains(QLatin1String("cancelled")),
                 qPrintable(finished.at(0).at(1).toString()));
        QVERIFY2(dialog.statusText().contains(QLatin1String("cancelled")), qPrintable(dialog.statusText()));
        const TapeState after = stateOf(tape);
        QVERIFY2(after.error.empty(), after.error.c_str());
        QCOMPARE(after.steps, before.steps);
    }

    // The whole way in the window: Go > Fork on a selected step opens the dialog with the
    // run's recorded command; the fork runs and the window reads the tape again, keeping
    // the selection, until the new branch is in its index.
    void forkFromTheWindow()
    {
        const QString tape = tapeCopy("window.tape");
        const TapeState before = stateOf(tape);
        MainWindow window;
        QSignalSpy opened(&window, &MainWindow::tapeOpened);
        window.openTape(tape);
        QVERIFY(opened.wait(30000));
        window.state()->setCurrentStep(before.modelCalls[1]);
        window.forkFromCurrentStep();
        ForkDialog *dialog = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((dialog = window.findChild<ForkDialog *>()) != nullptr, 10000);
        // The recorded run's command, as the agent was started.
        QVERIFY2(dialog->commandField()->text().contains(QLatin1String("summarise data.txt")),
                 qPrintable(dialog->commandField()->text()));
        dialog->process()->setProgram(QStringLiteral(TAPEDECK_CLI_BINARY));
        // The agent goes on in a fresh workspace, as the recorded one has moved on.
        QVERIFY(dialog->request().agentCommand.contains(QStringLiteral("--workdir")));
        dialog->commandField()->setText(agentCommand(freshWorkspace("window-work")));
        dialog->editChooser()->setCurrentIndex(dialog->editChooser()->findData(int(ForkRequest::Edit::AppendUser)));
        dialog->textField()->setPlainText("Count the words as well.");
        QSignalSpy finished(dialog, &ForkDialog::forkFinished);
        opened.clear();
        QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
        QVERIFY(finished.wait(120000));
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(dialog->log()->toPlainText()));
        QTRY_VERIFY_WITH_TIMEOUT(opened.count() >= 1 && window.state()->index() &&
                                     window.state()->index()->summary().branches.size() == before.branches + 1,
                                 30000);
        QCOMPARE(window.state()->currentStep(), before.modelCalls[1]);
    }

    // A step the tape does not have: the CLI's own words, in the dialog.
    void refusedForkShowsWhy()
    {
        ForkDialog dialog(tapeCopy("refused.tape"), StepIndex{9999}, 0, formats::StepKind::ModelCall, QString(),
                          {"true"});
        dialog.process()->setProgram(QStringLiteral(TAPEDECK_CLI_BINARY));
        dialog.editChooser()->setCurrentIndex(dialog.editChooser()->findData(int(ForkRequest::Edit::Model)));
        QVERIFY2(!dialog.startButton()->isEnabled(), qPrintable(dialog.statusText())); // no model named yet
        dialog.modelField()->setText("m-other");
        QSignalSpy finished(&dialog, &ForkDialog::forkFinished);
        QVERIFY2(dialog.startButton()->isEnabled(), qPrintable(dialog.statusText()));
        QTest::mouseClick(dialog.startButton(), Qt::LeftButton);
        QVERIFY(finished.wait(30000));
        QVERIFY(!finished.at(0).at(0).toBool());
        QVERIFY2(dialog.statusText().contains(QLatin1String("9999")), qPrintable(dialog.statusText()));
    }
};

QTEST_MAIN(TestForkDialog)
#include "tst_forkdialog.moc"
