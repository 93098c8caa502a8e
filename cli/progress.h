// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#pragma once

#include <cstdint>
#include <string>

namespace tapedeck::cli {

class ProgressBar {
public:
    explicit ProgressBar(std::string label);
    ~ProgressBar();
    void update(int64_t done, int64_t total);
    void finish();

private:
    std::string m_label;
    bool m_enabled;
    int m_lastPercent = -1;
};

} // namespace tapedeck::cli
