#include "forkdialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace tapedeck::gui {

namespace {

using Edit = ForkRequest::Edit;

// A command line that QProcess::splitCommand reads back as `args`: words with spaces or
// quotes in double quotes, a quote inside them doubled (its escape).
QString joinCommand(const QStringList &args)
{
    QStringList words;
    for (QString arg : args) {
        if (arg.isEmpty() || arg.contains(QLatin1Char(' ')) || arg.contains(QLatin1Char('"')) ||
            arg.contains(QLatin1Char('\t')))
            arg = QLatin1Char('"') + arg.replace(QLatin1Char('"'), QStringLiteral("\"\"\"")) + QLatin1Char('"');
        words << arg;
    }
    return words.join(QLatin1Char(' '));
}

} // namespace

ForkDialog::ForkDialog(const QString &tape, formats::StepIndex at, int32_t branch, formats::StepKind kind,
                       const QString &recordedText, const QStringList &agentCommand, QWidget *parent)
    : QDialog(parent), m_tape(tape), m_at(at), m_branch(branch), m_recordedText(recordedText),
      m_process(new ForkProcess(this)), m_edit(new QComboBox(this)), m_text(new QPlainTextEdit(this)),
      m_model(new QLineEdit(this)), m_useUpstream(new QRadioButton(tr("Upstream API"), this)),
      m_upstream(new QLineEdit(this)), m_useScripted(new QRadioButton(tr("Scripted model"), this)),
      m_policy(new QComboBox(this)), m_command(new QLineEdit(this)), m_status(new QLabel(this)),
      m_progress(new QProgressBar(this)), m_log(new QPlainTextEdit(this)),
      m_start(new QPushButton(tr("Start Fork"), this)), m_cancel(new QPushButton(tr("Close"), this))
{
    setWindowTitle(tr("Fork %1 from Step %2").arg(QFileInfo(tape).fileName()).arg(at.value));
    resize(720, 640);
    m_edit->addItem(tr("Edit the tool result"), int(Edit::ToolResult));
    m_edit->addItem(tr("Replace the model's answer"), int(Edit::Response));
    m_edit->addItem(tr("Add a user message"), int(Edit::AppendUser));
    m_edit->addItem(tr("Change the model"), int(Edit::Model));
    // The edit that fits the step: its output for a tool step, its answer for a model call.
    const bool toolStep = kind == formats::StepKind::ToolCall || kind == formats::StepKind::ToolResult;
    m_edit->setCurrentIndex(toolStep ? 0 : kind == formats::StepKind::ModelCall ? 1 : 2);
    m_text->setPlainText(m_edit->currentIndex() <= 1 ? recordedText : QString());
    m_model->setPlaceholderText(tr("e.g. claude-opus-4-1"));
    m_upstream->setPlaceholderText(tr("https://api.anthropic.com"));
    m_policy->addItems({QStringLiteral("generic"), QStringLiteral("kernel-tuner")});
    m_useScripted->setChecked(true);
    m_command->setText(joinCommand(agentCommand));
    m_command->setPlaceholderText(tr("the agent, as it was recorded: claude -p \"fix the tests\""));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_log->setPlaceholderText(tr("tapedeck fork's output appears here."));
    m_progress->setRange(0, 0);
    m_progress->hide();
    m_status->setWordWrap(true);
    m_start->setDefault(true);

    auto *where = new QHBoxLayout;
    where->addWidget(m_useScripted);
    where->addWidget(m_policy);
    where->addSpacing(12);
    where->addWidget(m_useUpstream);
    where->addWidget(m_upstream, 1);
    auto *form = new QFormLayout;
    form->addRow(tr("At step %1:").arg(at.value), m_edit);
    form->addRow(tr("New text:"), m_text);
    form->addRow(tr("Model:"), m_model);
    form->addRow(tr("Continue against:"), where);
    form->addRow(tr("Agent command:"), m_command);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_progress, 1);
    buttons->addWidget(m_start);
    buttons->addWidget(m_cancel);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_status);
    layout->addWidget(m_log, 1);
    layout->addLayout(buttons);

    auto showEditFields = [this, form] {
        const bool model = Edit(m_edit->currentData().toInt()) == Edit::Model;
        form->setRowVisible(m_text, !model);
        form->setRowVisible(m_model, model);
    };
    showEditFields();
    connect(m_edit, &QComboBox::currentIndexChanged, this, [this, showEditFields] {
        showEditFields();
        // The recorded text is a starting point for the edits that replace it.
        const Edit edit = Edit(m_edit->currentData().toInt());
        if (edit == Edit::AppendUser && m_text->toPlainText() == m_recordedText)
            m_text->clear();
        else if ((edit == Edit::ToolResult || edit == Edit::Response) && m_text->toPlainText().isEmpty())
            m_text->setPlainText(m_recordedText);
        validate();
    });
    for (QLineEdit *line : {m_model, m_upstream, m_command})
        connect(line, &QLineEdit::textChanged, this, &ForkDialog::validate);
    connect(m_text, &QPlainTextEdit::textChanged, this, &ForkDialog::validate);
    connect(m_useUpstream, &QRadioButton::toggled, this, &ForkDialog::validate);
    connect(m_upstream, &QLineEdit::textEdited, this, [this] { m_useUpstream->setChecked(true); });
    connect(m_start, &QPushButton::clicked, this, &ForkDialog::start);
    connect(m_cancel, &QPushButton::clicked, this, &ForkDialog::reject);
    connect(m_process, &ForkProcess::output, this, [this](const QString &line) { m_log->appendPlainText(line); });
    connect(m_process, &ForkProcess::finished, this, &ForkDialog::finish);
    validate();
}

ForkRequest ForkDialog::request() const
{
    ForkRequest r;
    r.tape = m_tape;
    r.at = m_at;
    r.branch = m_branch;
    r.edit = Edit(m_edit->currentData().toInt());
    r.text = r.edit == Edit::Model ? m_model->text() : m_text->toPlainText();
    if (m_useUpstream->isChecked())
        r.upstream = m_upstream->text().trimmed();
    else
        r.scriptedPolicy = m_policy->currentText();
    r.agentCommand = QProcess::splitCommand(m_command->text());
    return r;
}

QString ForkDialog::problem() const
{
    return ForkProcess::problemWith(request());
}

QString ForkDialog::statusText() const
{
    return m_status->text();
}

void ForkDialog::validate()
{
    if (m_process->isRunning())
        return;
    const QString why = problem();
    m_start->setEnabled(why.isEmpty());
    m_status->setText(why);
}

void ForkDialog::start()
{
    if (!problem().isEmpty() || m_process->isRunning())
        return;
    m_log->clear();
    if (!m_process->start(request())) {
        m_status->setText(tr("Could not start the fork: the edit's text could not be written to a temporary file."));
        return;
    }
    m_log->appendPlainText(QStringLiteral("$ tapedeck ") + joinCommand(ForkProcess::arguments(request(), QStringLiteral("TEXT"))));
    m_status->setText(tr("Forking at step %1: replaying the recorded prefix, then going on live…").arg(m_at.value));
    m_progress->show();
    m_start->setEnabled(false);
    m_cancel->setText(tr("Cancel Fork"));
    Q_EMIT forkStarted();
}

void ForkDialog::finish(bool ok, int exitCode, const QString &message)
{
    Q_UNUSED(exitCode);
    m_progress->hide();
    m_cancel->setText(tr("Close"));
    m_status->setText(ok ? tr("Done: %1. It is in the branch tree.").arg(message) : tr("The fork failed: %1").arg(message));
    m_start->setEnabled(problem().isEmpty());
    Q_EMIT forkFinished(ok, message);
}

void ForkDialog::reject()
{
    // While the fork runs, Cancel (and Esc, and closing the window) stops it; the dialog
    // stays to show how it ended.
    if (m_process->isRunning()) {
        m_status->setText(tr("Cancelling…"));
        m_process->cancel();
        return;
    }
    QDialog::reject();
}

} // namespace tapedeck::gui
