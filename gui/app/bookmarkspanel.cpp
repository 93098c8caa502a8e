#include "bookmarkspanel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace tapedeck::gui {

BookmarksPanel::BookmarksPanel(ViewState *state, BookmarkModel *model, QWidget *parent)
    : QWidget(parent), m_state(state), m_model(model), m_list(new QTableView(this)), m_caption(new QLabel(this)),
      m_note(new QLineEdit(this)), m_toggle(new QPushButton(this)), m_status(new QLabel(this))
{
    m_list->setModel(model);
    m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->verticalHeader()->hide();
    m_list->horizontalHeader()->setStretchLastSection(true);
    m_list->setColumnWidth(BookmarkModel::Step, 70);
    m_list->setColumnWidth(BookmarkModel::Bookmarked, 30);
    m_note->setPlaceholderText(tr("A note on this step (Enter saves)"));
    auto *row = new QHBoxLayout;
    row->addWidget(m_note, 1);
    row->addWidget(m_toggle);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_caption);
    layout->addLayout(row);
    layout->addWidget(m_status);
    layout->addWidget(m_list);

    connect(m_toggle, &QPushButton::clicked, this, &BookmarksPanel::toggleBookmark);
    connect(m_note, &QLineEdit::returnPressed, this, &BookmarksPanel::saveNote);
    connect(state, &ViewState::currentStepChanged, this, &BookmarksPanel::showCurrent);
    connect(model, &BookmarkModel::loaded, this, &BookmarksPanel::showCurrent);
    connect(model, &BookmarkModel::saved, this, [this](formats::StepIndex step) {
        m_status->setText(tr("Saved in the tape (step %1).").arg(step.value));
        showCurrent();
    });
    connect(model, &BookmarkModel::failed, this,
            [this](const QString &message) { m_status->setText(tr("Not saved: %1").arg(message)); });
    connect(m_list, &QTableView::clicked, this,
            [this](const QModelIndex &i) { m_state->setCurrentStep(m_model->stepAt(i.row())); });
    connect(m_list, &QTableView::activated, this,
            [this](const QModelIndex &i) { m_state->setCurrentStep(m_model->stepAt(i.row())); });
    showCurrent();
}

void BookmarksPanel::showCurrent()
{
    const formats::StepIndex step = m_state->currentStep();
    const bool any = step.value != 0;
    m_note->setEnabled(any);
    m_toggle->setEnabled(any);
    const formats::StepNote *note = any ? m_model->noteFor(step) : nullptr;
    m_caption->setText(any ? tr("Step %1").arg(step.value) : tr("Select a step to bookmark it or add a note."));
    m_note->setText(note ? QString::fromStdString(note->text) : QString());
    m_toggle->setText(note && note->bookmarked ? tr("Remove bookmark") : tr("Bookmark"));
}

void BookmarksPanel::toggleBookmark()
{
    if (m_state->currentStep().value)
        m_model->toggleBookmark(m_state->currentStep());
}

void BookmarksPanel::saveNote()
{
    const formats::StepIndex step = m_state->currentStep();
    if (!step.value)
        return;
    formats::StepNote note;
    if (const formats::StepNote *existing = m_model->noteFor(step))
        note = *existing;
    note.step = step;
    note.text = m_note->text().toStdString();
    note.updatedUs = 0;
    m_model->setNote(note);
}

} // namespace tapedeck::gui
