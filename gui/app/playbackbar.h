// The playback controls: back, play/pause, forward, speed, and the cursor's time in the
// run. A toolbar over a PlaybackController.
#pragma once

#include "playbackcontroller.h"

#include <QToolBar>

class QAction;
class QComboBox;
class QLabel;

namespace tapedeck::gui {

class PlaybackBar : public QToolBar {
    Q_OBJECT
public:
    PlaybackBar(ViewState *state, PlaybackController *playback, QWidget *parent = nullptr);
    QAction *playAction() const { return m_play; }

private:
    void showCursor(qint64 us);

    ViewState *m_state;
    PlaybackController *m_playback;
    QAction *m_play;
    QComboBox *m_speed;
    QLabel *m_time;
};

} // namespace tapedeck::gui
