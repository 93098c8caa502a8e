#include "playbackbar.h"

#include "displayformat.h"

#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QStyle>

namespace tapedeck::gui {

PlaybackBar::PlaybackBar(ViewState *state, PlaybackController *playback, QWidget *parent)
    : QToolBar(tr("Playback"), parent), m_state(state), m_playback(playback), m_speed(new QComboBox(this)),
      m_time(new QLabel(this))
{
    setObjectName(QStringLiteral("playback"));
    QAction *back = addAction(style()->standardIcon(QStyle::SP_MediaSkipBackward), tr("Step back"));
    back->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Left));
    back->setToolTip(tr("Previous step (Alt+Left)"));
    m_play = addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Play"));
    m_play->setShortcut(QKeySequence(Qt::Key_Space));
    m_play->setToolTip(tr("Play / pause (Space)"));
    QAction *forward = addAction(style()->standardIcon(QStyle::SP_MediaSkipForward), tr("Step forward"));
    forward->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Right));
    forward->setToolTip(tr("Next step (Alt+Right)"));
    for (double speed : {1.0, 10.0, 100.0, 1000.0, 10000.0})
        m_speed->addItem(QStringLiteral("%1×").arg(speed), speed);
    m_speed->setCurrentIndex(m_speed->findData(playback->speed()));
    m_speed->setToolTip(tr("Run time per real second"));
    addWidget(m_speed);
    addSeparator();
    addWidget(m_time);

    connect(back, &QAction::triggered, playback, &PlaybackController::stepBack);
    connect(forward, &QAction::triggered, playback, &PlaybackController::stepForward);
    connect(m_play, &QAction::triggered, playback, &PlaybackController::togglePlay);
    connect(m_speed, &QComboBox::activated, this,
            [this] { m_playback->setSpeed(m_speed->currentData().toDouble()); });
    connect(playback, &PlaybackController::playingChanged, this, [this](bool playing) {
        m_play->setIcon(style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
        m_play->setText(playing ? tr("Pause") : tr("Play"));
    });
    connect(state, &ViewState::cursorChanged, this, &PlaybackBar::showCursor);
    showCursor(state->cursorUs());
}

void PlaybackBar::showCursor(qint64 us)
{
    auto index = m_state->index();
    if (!index || index->rowCount() == 0) {
        m_time->clear();
        return;
    }
    m_time->setText(tr("  %1 of %2")
                        .arg(formatOffset(us - index->firstUs(), 1000'000),
                             formatOffset(index->lastUs() - index->firstUs(), 1000'000)));
}

} // namespace tapedeck::gui
