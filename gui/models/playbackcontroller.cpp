#include "playbackcontroller.h"

#include <algorithm>

namespace tapedeck::gui {

PlaybackController::PlaybackController(ViewState *state, QObject *parent) : QObject(parent), m_state(state)
{
    m_timer.setInterval(16);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &PlaybackController::tick);
    connect(state, &ViewState::indexChanged, this, &PlaybackController::pause);
}

void PlaybackController::play()
{
    auto index = m_state->index();
    if (!index || index->rowCount() == 0 || isPlaying())
        return;
    // Playing from the end starts over; playing from a selected step starts there.
    if (m_state->cursorUs() >= index->lastUs())
        m_state->setCursorUs(index->firstUs());
    const int64_t row = m_state->currentRow();
    if (row >= 0 && m_state->cursorUs() < index->row(row).startedUs)
        m_state->setCursorUs(index->row(row).startedUs);
    m_clock.start();
    m_timer.start();
    Q_EMIT playingChanged(true);
}

void PlaybackController::pause()
{
    if (!isPlaying())
        return;
    m_timer.stop();
    Q_EMIT playingChanged(false);
}

void PlaybackController::togglePlay()
{
    isPlaying() ? pause() : play();
}

void PlaybackController::setSpeed(double speed)
{
    speed = std::clamp(speed, 0.1, 1e6);
    if (speed == m_speed)
        return;
    m_speed = speed;
    Q_EMIT speedChanged(speed);
}

void PlaybackController::tick()
{
    advance(m_clock.nsecsElapsed() / 1000);
    m_clock.restart();
}

void PlaybackController::advance(int64_t wallUs)
{
    auto index = m_state->index();
    if (!index || index->rowCount() == 0)
        return;
    int64_t cursor = m_state->cursorUs() + int64_t(double(wallUs) * m_speed);
    // The next step to start after the old cursor: when it is far away, jump to just before it.
    const int64_t next = index->rowAtOrAfter(m_state->cursorUs() + 1);
    if (next < index->rowCount()) {
        const int64_t nextStart = index->row(next).startedUs;
        if (nextStart - m_state->cursorUs() > m_maxIdleUs && cursor < nextStart)
            cursor = std::max(cursor, nextStart - m_maxIdleUs / 10);
    }
    if (cursor >= index->lastUs()) {
        m_state->setCursorUs(index->lastUs());
        selectRow(index->rowCount() - 1);
        pause();
        Q_EMIT finished();
        return;
    }
    m_state->setCursorUs(cursor);
    // The step under the cursor is the last one to have started.
    const int64_t row = index->rowAtOrAfter(cursor + 1) - 1;
    if (row >= 0)
        selectRow(row);
}

void PlaybackController::selectRow(int64_t row)
{
    auto index = m_state->index();
    if (index && row >= 0 && row < index->rowCount())
        m_state->setCurrentStep(index->row(row).index);
}

void PlaybackController::stepForward()
{
    auto index = m_state->index();
    if (!index || index->rowCount() == 0)
        return;
    const int64_t row = std::min(m_state->currentRow() + 1, index->rowCount() - 1);
    selectRow(row);
    m_state->setCursorUs(index->row(row).startedUs);
}

void PlaybackController::stepBack()
{
    auto index = m_state->index();
    if (!index || index->rowCount() == 0)
        return;
    const int64_t row = std::max<int64_t>(m_state->currentRow() - 1, 0);
    selectRow(row);
    m_state->setCursorUs(index->row(row).startedUs);
}

} // namespace tapedeck::gui
