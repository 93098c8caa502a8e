#include "progress.h"

#include <cstdio>
#include <unistd.h>

namespace tapedeck::cli {

ProgressBar::ProgressBar(std::string label)
    : m_label(std::move(label)), m_enabled(isatty(STDERR_FILENO))
{
}

ProgressBar::~ProgressBar()
{
    finish();
}

void ProgressBar::update(int64_t done, int64_t total)
{
    if (!m_enabled || total <= 0)
        return;
    int percent = int(100 * done / total);
    if (percent == m_lastPercent)
        return;
    m_lastPercent = percent;
    constexpr int kWidth = 30;
    int filled = percent * kWidth / 100;
    std::fprintf(stderr, "\r%s [%.*s%*s] %3d%%", m_label.c_str(), filled,
                 "##############################", kWidth - filled, "", percent);
    std::fflush(stderr);
}

void ProgressBar::finish()
{
    if (m_enabled && m_lastPercent >= 0) {
        std::fprintf(stderr, "\r%*s\r", int(m_label.size()) + 40, "");
        std::fflush(stderr);
        m_lastPercent = -1;
    }
}

} // namespace tapedeck::cli
