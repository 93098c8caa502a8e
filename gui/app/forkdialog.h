// "Fork from here…": what to change at a step (its tool result, the model's answer, a user
// message added, the model), where to go on (an upstream API, or the scripted model) and
// the agent to run, then `tapedeck fork` run as a child (ForkProcess) with its output shown
// as it comes, cancellable. The new branch is written into the tape as it records; the main
// window watches the file and shows it grow.
#pragma once

#include "forkprocess.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;

namespace tapedeck::gui {

class ForkDialog : public QDialog {
    Q_OBJECT
public:
    // `recordedText`: what the step holds now (its tool output, or the model's answer),
    // offered for editing; `agentCommand`: the recorded run's command line, if known.
    ForkDialog(const QString &tape, formats::StepIndex at, int32_t branch, formats::StepKind kind,
               const QString &recordedText, const QStringList &agentCommand, QWidget *parent = nullptr);

    // What the fields say now.
    ForkRequest request() const;
    // Why Start is disabled ("" when it is not).
    QString problem() const;

    QComboBox *editChooser() const { return m_edit; }
    QPlainTextEdit *textField() const { return m_text; }
    QLineEdit *modelField() const { return m_model; }
    QRadioButton *upstreamChoice() const { return m_useUpstream; }
    QLineEdit *upstreamField() const { return m_upstream; }
    QRadioButton *scriptedChoice() const { return m_useScripted; }
    QComboBox *policyChooser() const { return m_policy; }
    QLineEdit *commandField() const { return m_command; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPlainTextEdit *log() const { return m_log; }
    ForkProcess *process() const { return m_process; }
    QString statusText() const;

Q_SIGNALS:
    void forkStarted();
    void forkFinished(bool ok, const QString &message);

protected:
    void reject() override;

private:
    void validate();
    void start();
    void finish(bool ok, int exitCode, const QString &message);

    QString m_tape;
    formats::StepIndex m_at;
    int32_t m_branch;
    QString m_recordedText;
    ForkProcess *m_process;
    QComboBox *m_edit;
    QPlainTextEdit *m_text;
    QLineEdit *m_model;
    QRadioButton *m_useUpstream;
    QLineEdit *m_upstream;
    QRadioButton *m_useScripted;
    QComboBox *m_policy;
    QLineEdit *m_command;
    QLabel *m_status;
    QProgressBar *m_progress;
    QPlainTextEdit *m_log;
    QPushButton *m_start;
    QPushButton *m_cancel;
};

} // namespace tapedeck::gui
