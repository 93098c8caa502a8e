#include "forkprocess.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

namespace tapedeck::gui {

namespace {

constexpr int kGraceMs = 3000; // after a terminate, before the kill

} // namespace

ForkProcess::ForkProcess(QObject *parent) : QObject(parent)
{
    m_program = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("tapedeck"));
    // A build tree keeps the app in gui/ and the command in cli/.
    if (!QFileInfo::exists(m_program))
        m_program = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../cli/tapedeck"));
    if (!QFileInfo::exists(m_program))
        m_program = QStringLiteral("tapedeck");
}

ForkProcess::~ForkProcess()
{
    if (isRunning()) {
        m_process->kill();
        m_process->waitForFinished(kGraceMs);
    }
}

QStringList ForkProcess::arguments(const ForkRequest &r, const QString &textFile)
{
    QStringList args{QStringLiteral("fork"), r.tape, QStringLiteral("--at"), QString::number(r.at.value)};
    if (r.branch)
        args << QStringLiteral("--branch") << QString::number(r.branch);
    const QString fromFile = QLatin1Char('@') + textFile;
    switch (r.edit) {
    case ForkRequest::Edit::ToolResult: args << QStringLiteral("--edit-tool-result") << fromFile; break;
    case ForkRequest::Edit::Response: args << QStringLiteral("--edit-response") << fromFile; break;
    case ForkRequest::Edit::AppendUser: args << QStringLiteral("--append-user") << fromFile; break;
    case ForkRequest::Edit::Model: args << QStringLiteral("--model") << r.text.trimmed(); break;
    }
    if (!r.upstream.isEmpty())
        args << QStringLiteral("--upstream") << r.upstream.trimmed();
    else
        args << QStringLiteral("--scripted") << r.scriptedPolicy;
    return args << QStringLiteral("--") << r.agentCommand;
}

QString ForkProcess::problemWith(const ForkRequest &r)
{
    if (r.tape.isEmpty())
        return tr("No tape is open.");
    if (r.at.value < 1)
        return tr("Choose the step to fork at.");
    if (r.edit == ForkRequest::Edit::Model && r.text.trimmed().isEmpty())
        return tr("Name the model to ask from step %1 on.").arg(r.at.value);
    if (r.edit == ForkRequest::Edit::AppendUser && r.text.trimmed().isEmpty())
        return tr("Write the user message to add at step %1.").arg(r.at.value);
    if (r.upstream.trimmed().isEmpty() && r.scriptedPolicy.isEmpty())
        return tr("Choose where to continue: an upstream URL or the scripted model.");
    if (!r.upstream.trimmed().isEmpty() && !r.upstream.trimmed().startsWith(QLatin1String("http://")) &&
        !r.upstream.trimmed().startsWith(QLatin1String("https://")))
        return tr("The upstream URL must start with http:// or https:// (got \"%1\").").arg(r.upstream.trimmed());
    if (r.agentCommand.isEmpty())
        return tr("Give the agent command to run (as it was recorded).");
    return QString();
}

bool ForkProcess::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

bool ForkProcess::start(const ForkRequest &request)
{
    if (isRunning())
        return false;
    delete m_process;
    m_process = new QProcess(this);
    m_lastError.clear();
    m_cancelled = false;
    connect(m_process, &QProcess::readyReadStandardOutput, this,
            [this] { readLines(QProcess::StandardOutput); });
    connect(m_process, &QProcess::readyReadStandardError, this, [this] { readLines(QProcess::StandardError); });
    connect(m_process, &QProcess::started, this, &ForkProcess::started);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            Q_EMIT finished(false, -1, tr("could not start %1: %2").arg(m_program, m_process->errorString()));
    });
    connect(m_process, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        readLines(QProcess::StandardOutput);
        readLines(QProcess::StandardError);
        if (m_cancelled)
            Q_EMIT finished(false, code, tr("cancelled; what the fork recorded so far stays in the tape"));
        else if (status == QProcess::CrashExit)
            Q_EMIT finished(false, code, tr("tapedeck fork crashed"));
        else if (code == 0)
            Q_EMIT finished(true, 0, tr("the new branch is recorded"));
        else
            Q_EMIT finished(false, code,
                            m_lastError.isEmpty() ? tr("tapedeck fork exited with %1").arg(code)
                                                  : tr("%1 (exit %2)").arg(m_lastError).arg(code));
    });
    m_textFile = std::make_unique<QTemporaryFile>();
    if (!m_textFile->open() || m_textFile->write(request.text.toUtf8()) != request.text.toUtf8().size() ||
        !m_textFile->flush())
        return false;
    m_process->start(m_program, arguments(request, m_textFile->fileName()));
    return true;
}

void ForkProcess::cancel()
{
    if (!isRunning())
        return;
    m_cancelled = true;
    m_process->terminate();
    QTimer::singleShot(kGraceMs, m_process, [process = m_process] {
        if (process->state() != QProcess::NotRunning)
            process->kill();
    });
}

void ForkProcess::readLines(QProcess::ProcessChannel channel)
{
    m_process->setReadChannel(channel);
    while (m_process->canReadLine()) {
        const QString line = QString::fromUtf8(m_process->readLine()).trimmed();
        if (line.isEmpty())
            continue;
        if (channel == QProcess::StandardError)
            m_lastError = line;
        Q_EMIT output(line);
    }
    // What is left at the end has no newline.
    if (m_process->state() == QProcess::NotRunning) {
        const QString rest = QString::fromUtf8(m_process->readAll()).trimmed();
        if (!rest.isEmpty()) {
            if (channel == QProcess::StandardError)
                m_lastError = rest;
            Q_EMIT output(rest);
        }
    }
}

} // namespace tapedeck::gui
