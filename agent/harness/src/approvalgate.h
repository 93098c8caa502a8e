// The approval gate: asks the user before a tool runs, as --approve says.
#pragma once

#include <tapedeck/agent/agent.h>

#include <atomic>
#include <iosfwd>
#include <string>

namespace tapedeck::agent {

class ApprovalGate {
public:
    // Questions are written to `prompt`; answers are read from `answersFd`, one line per
    // question. On a terminal the question is repeated until the answer is y or n;
    // otherwise any line but y/yes denies, and so does the end of input.
    ApprovalGate(ApprovalMode mode, int answersFd, bool fromTerminal, std::ostream &prompt,
                 const std::atomic<int> *interrupts);

    bool needsApproval(const std::string &toolName) const;
    // True when the user approved. An interrupt while waiting for the answer denies.
    bool ask(const std::string &question);

private:
    // A line without its end, or false at the end of input or on an interrupt.
    bool readLine(std::string &line);

    ApprovalMode m_mode;
    int m_fd;
    bool m_fromTerminal;
    std::ostream &m_prompt;
    const std::atomic<int> *m_interrupts;
};

} // namespace tapedeck::agent
