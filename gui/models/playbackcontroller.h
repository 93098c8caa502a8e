// Plays the run back: a cursor moves through the run's time at a chosen speed and the step
// under it becomes the selection, so every view follows, as if watching the agent work.
// Idle stretches longer than `maxIdleUs` of run time are skipped, so a 35-hour run with
// overnight gaps plays without minutes of nothing. Driven by a QTimer on the GUI thread
// (never a sleep); the time between ticks is measured, so a slow paint does not slow the
// run's clock down.
#pragma once

#include "viewstate.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace tapedeck::gui {

class PlaybackController : public QObject {
    Q_OBJECT
public:
    explicit PlaybackController(ViewState *state, QObject *parent = nullptr);

    bool isPlaying() const { return m_timer.isActive(); }
    double speed() const { return m_speed; }
    int64_t maxIdleUs() const { return m_maxIdleUs; }
    void setMaxIdleUs(int64_t us) { m_maxIdleUs = us; }

    // Moves the run's clock by `wallUs` of real time at the current speed, as a timer tick
    // does (public so tests can drive playback without waiting).
    void advance(int64_t wallUs);

public Q_SLOTS:
    void play();
    void pause();
    void togglePlay();
    void setSpeed(double speed);      // run seconds per real second: 1, 10, ..., 10000
    void stepForward();               // the next step (by index), cursor to its start
    void stepBack();

Q_SIGNALS:
    void playingChanged(bool playing);
    void speedChanged(double speed);
    // Playback reached the end of the run and stopped.
    void finished();

private:
    void tick();
    void selectRow(int64_t row);

    ViewState *m_state;
    QTimer m_timer;
    QElapsedTimer m_clock;
    double m_speed = 100;
    int64_t m_maxIdleUs = 10'000'000;
};

} // namespace tapedeck::gui
