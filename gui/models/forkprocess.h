// "Fork from here…" as a child process: `tapedeck fork` run with the edit, the model to go
// on against and the agent command the dialog collected, its output passed on line by line,
// cancellable. The fork writes the new branch into the tape itself, step by step, so the
// app sees it grow by watching the file (TapeWatcher). GUI thread.
#pragma once

#include <tapedeck/formats/tape.h>

#include <QObject>
#include <QProcess>
#include <QStringList>
#include <QTemporaryFile>

#include <memory>

namespace tapedeck::gui {

struct ForkRequest {
    enum class Edit { ToolResult, Response, AppendUser, Model };

    QString tape;
    formats::StepIndex at;
    int32_t branch = 0;          // 0: the branch that holds `at`
    Edit edit = Edit::ToolResult;
    QString text;                // the new tool output / answer / user message / model name
    QString upstream;            // go on against this API base URL, or ...
    QString scriptedPolicy;      // ... against the scripted model with this policy
    QStringList agentCommand;    // the agent, as it was recorded
};

class ForkProcess : public QObject {
    Q_OBJECT
public:
    explicit ForkProcess(QObject *parent = nullptr);
    ~ForkProcess() override;

    // The `tapedeck` command line (without the program) for `request`. The edit's text goes
    // in `textFile` (passed as @FILE, so no text is ever read as CALL=VALUE or as a file
    // name); a model name goes on the command line.
    static QStringList arguments(const ForkRequest &request, const QString &textFile);
    // What is missing from `request` before it can run ("" when nothing is).
    static QString problemWith(const ForkRequest &request);

    // The `tapedeck` program: next to the app's own binary by default.
    void setProgram(const QString &program) { m_program = program; }
    QString program() const { return m_program; }

    // Starts the fork; false (and finished() not emitted) when one is running already or
    // the edit's text cannot be written to a temporary file.
    bool start(const ForkRequest &request);
    bool isRunning() const;
    // Stops the child: terminate, then kill after a grace period. finished(false, ...) follows.
    void cancel();

Q_SIGNALS:
    void started();
    void output(const QString &line);
    // ok: the fork exited 0. message: what happened ("the new branch is recorded", or the
    // child's last error line and exit code, or "cancelled").
    void finished(bool ok, int exitCode, const QString &message);

private:
    void readLines(QProcess::ProcessChannel channel);

    QProcess *m_process = nullptr;
    std::unique_ptr<QTemporaryFile> m_textFile; // the edit's text, while the fork runs
    QString m_program;
    QString m_lastError;
    bool m_cancelled = false;
};

} // namespace tapedeck::gui
