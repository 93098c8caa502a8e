#include "diffview.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace tapedeck::gui {

namespace af = tapedeck::analysis;

namespace {

constexpr int kLaneLabelWidth = 24;
constexpr int kLaneHeight = 16;

// One side of a part as HTML: its lines, those the other side lacks tinted.
QString sideHtml(const QString &text, const std::vector<bool> &changed, const QColor &tint)
{
    if (text.isEmpty())
        return QStringLiteral("<p style='color:#888'><i>(absent)</i></p>");
    const QStringList lines = text.split(QLatin1Char('\n'));
    QString html = QStringLiteral("<pre style='margin:0'>");
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString line = lines[i].toHtmlEscaped();
        if (size_t(i) < changed.size() && changed[size_t(i)])
            html += QStringLiteral("<span style='background:%1'>%2</span>\n").arg(tint.name(), line.isEmpty() ? QStringLiteral(" ") : line);
        else
            html += line + QLatin1Char('\n');
    }
    return html + QStringLiteral("</pre>");
}

} // namespace

DiffLanes::DiffLanes(DiffModel *model, QWidget *parent) : QWidget(parent), m_model(model)
{
    setMinimumHeight(2 * kLaneHeight + 6);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    connect(model, &QAbstractItemModel::modelReset, this, qOverload<>(&QWidget::update));
}

QSize DiffLanes::sizeHint() const
{
    return {600, 2 * kLaneHeight + 6};
}

int DiffLanes::rowAt(int x) const
{
    const int rows = m_model->rowCount();
    const int width = std::max(1, this->width() - kLaneLabelWidth);
    if (rows == 0)
        return -1;
    return std::clamp(int(int64_t(x - kLaneLabelWidth) * rows / width), 0, rows - 1);
}

void DiffLanes::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(0, 2, kLaneLabelWidth, kLaneHeight), Qt::AlignCenter, QStringLiteral("A"));
    p.drawText(QRect(0, 4 + kLaneHeight, kLaneLabelWidth, kLaneHeight), Qt::AlignCenter, QStringLiteral("B"));
    const int rows = m_model->rowCount();
    if (rows == 0)
        return;
    const double width = std::max(1, this->width() - kLaneLabelWidth);
    const double perRow = width / rows;
    // Many rows to a pixel: the same rows first, the differences over them, so a column
    // with any difference shows it.
    for (const bool differences : {false, true})
        for (int r = 0; r < rows; ++r) {
            const af::AlignedRow *row = m_model->rowAt(r);
            if ((row->kind != af::RowKind::Same) != differences)
                continue;
            const QRectF mark(kLaneLabelWidth + r * perRow, 0, std::max(1.0, perRow), kLaneHeight - 2);
            const QColor color = DiffModel::kindColor(row->kind);
            if (row->a)
                p.fillRect(mark.translated(0, 2), color);
            if (row->b)
                p.fillRect(mark.translated(0, 4 + kLaneHeight), color);
        }
    if (const int first = m_model->firstDivergenceRow(); first >= 0) {
        const double x = kLaneLabelWidth + first * perRow;
        p.setPen(QPen(palette().color(QPalette::WindowText), 2));
        p.drawLine(QPointF(x, 0), QPointF(x, height()));
    }
}

void DiffLanes::mousePressEvent(QMouseEvent *event)
{
    const int row = rowAt(int(event->position().x()));
    if (row >= 0)
        Q_EMIT rowClicked(row);
}

DiffView::DiffView(QWidget *parent)
    : QWidget(parent), m_model(new DiffModel(this)), m_header(new QLabel(this)),
      m_first(new QPushButton(tr("First divergence"), this)), m_lanes(new DiffLanes(m_model, this)),
      m_table(new QTableView(this)), m_fields(new QComboBox(this)), m_pairCaption(new QLabel(this)),
      m_left(new QTextBrowser(this)), m_right(new QTextBrowser(this))
{
    setWindowTitle(tr("Diff — Tapedeck"));
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_header->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_first->setEnabled(false);
    m_fields->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->setWordWrap(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->horizontalHeader()->setSectionResizeMode(DiffModel::WhatA, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(DiffModel::WhatB, QHeaderView::Stretch);
    for (int c : {int(DiffModel::StepA), int(DiffModel::StepB)})
        m_table->setColumnWidth(c, 64);
    for (int c : {int(DiffModel::TokensA), int(DiffModel::TimeA), int(DiffModel::TokensB), int(DiffModel::TimeB)})
        m_table->setColumnWidth(c, 70);
    m_table->setColumnWidth(DiffModel::Mark, 28);
    for (QTextBrowser *text : {m_left, m_right})
        text->setLineWrapMode(QTextEdit::NoWrap);

    auto *top = new QHBoxLayout;
    top->addWidget(m_header, 1);
    top->addWidget(m_first);
    auto *pairTop = new QHBoxLayout;
    pairTop->addWidget(m_pairCaption, 1);
    pairTop->addWidget(m_fields);
    auto *texts = new QSplitter(Qt::Horizontal, this);
    texts->addWidget(m_left);
    texts->addWidget(m_right);
    auto *pair = new QWidget(this);
    auto *pairLayout = new QVBoxLayout(pair);
    pairLayout->setContentsMargins(0, 0, 0, 0);
    pairLayout->addLayout(pairTop);
    pairLayout->addWidget(texts, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(pair);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_lanes);
    layout->addWidget(split, 1);

    connect(m_model, &DiffModel::loading, this, [this] {
        m_header->setText(tr("Comparing %1 with %2…")
                              .arg(QString::fromStdString(m_model->specA().text), QString::fromStdString(m_model->specB().text)));
        m_first->setEnabled(false);
    });
    connect(m_model, &DiffModel::loaded, this, &DiffView::showLoaded);
    connect(m_model, &DiffModel::failed, this, [this](const QString &message) {
        m_header->setText(tr("Could not compare: %1").arg(message));
    });
    connect(m_model, &DiffModel::pairLoaded, this, &DiffView::showPair);
    connect(m_model, &DiffModel::pairFailed, this, [this](int, const QString &message) {
        m_pairCaption->setText(tr("Could not read the pair: %1").arg(message));
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid())
                    m_model->loadPair(current.row());
            });
    connect(m_first, &QPushButton::clicked, this, &DiffView::showFirstDivergence);
    connect(m_lanes, &DiffLanes::rowClicked, this, &DiffView::selectRow);
    connect(m_fields, &QComboBox::currentIndexChanged, this, &DiffView::showField);
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex &i) {
        const int side = i.column() < DiffModel::Mark ? 0 : 1;
        const qlonglong step = i.data(side == 0 ? DiffModel::StepARole : DiffModel::StepBRole).toLongLong();
        if (step)
            Q_EMIT stepActivated(side, formats::StepIndex{step});
    });
}

void DiffView::compare(const af::SideSpec &a, const af::SideSpec &b)
{
    m_fields->clear();
    m_left->clear();
    m_right->clear();
    m_pairCaption->clear();
    m_model->load(a, b);
}

QString DiffView::headerText() const
{
    return m_header->text();
}

void DiffView::showLoaded()
{
    m_header->setText(QStringLiteral("<b>A</b> %1 &nbsp; <b>B</b> %2<br>%3 · %4")
                          .arg(QString::fromStdString(af::describeSpec(m_model->specA())).toHtmlEscaped(),
                               QString::fromStdString(af::describeSpec(m_model->specB())).toHtmlEscaped(),
                               m_model->countsText(), m_model->totalsDeltaText()));
    m_first->setEnabled(m_model->firstDivergenceRow() >= 0);
    showFirstDivergence();
}

void DiffView::showFirstDivergence()
{
    const int first = m_model->firstDivergenceRow();
    if (first >= 0)
        selectRow(first);
}

void DiffView::selectRow(int row)
{
    const QModelIndex index = m_model->index(row, DiffModel::Mark);
    m_table->setCurrentIndex(index);
    m_table->scrollTo(index, QAbstractItemView::PositionAtCenter);
}

void DiffView::showPair()
{
    const int row = m_model->pairRow();
    const af::AlignedRow *aligned = m_model->rowAt(row);
    const formats::StepSummary *a = m_model->summaryAt(row, 0);
    const formats::StepSummary *b = m_model->summaryAt(row, 1);
    QString caption = tr("Row %1 (%2): ").arg(row + 1).arg(QString::fromLatin1(af::rowKindName(aligned->kind)));
    caption += a ? tr("A step %1").arg(a->index.value) : tr("not in A");
    caption += QStringLiteral(" · ");
    caption += b ? tr("B step %1").arg(b->index.value) : tr("not in B");
    const auto &fields = m_model->pairFields();
    if (fields.empty())
        caption += tr(" — the same content");
    m_pairCaption->setText(caption);
    const QSignalBlocker blocker(m_fields);
    m_fields->clear();
    for (const DiffModel::PairField &f : fields)
        m_fields->addItem(f.field);
    m_fields->setVisible(fields.size() > 1);
    // Open on the content: a status or a name that differs says less than the output does.
    int shown = fields.empty() ? -1 : 0;
    for (size_t i = 0; i < fields.size(); ++i)
        if (!QStringList{QStringLiteral("status"), QStringLiteral("kind"), QStringLiteral("name")}.contains(fields[i].field)) {
            shown = int(i);
            break;
        }
    m_fields->setCurrentIndex(shown);
    showField(shown);
}

void DiffView::showField(int field)
{
    const auto &fields = m_model->pairFields();
    if (field < 0 || size_t(field) >= fields.size()) {
        m_left->clear();
        m_right->clear();
        return;
    }
    const DiffModel::PairField &f = fields[size_t(field)];
    m_left->setHtml(sideHtml(f.a, f.changedA, QColor(0xfe, 0xca, 0xca)));
    m_right->setHtml(sideHtml(f.b, f.changedB, QColor(0xbb, 0xf7, 0xd0)));
}

} // namespace tapedeck::gui
