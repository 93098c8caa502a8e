#include "approvalgate.h"

#include "toolbox.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ostream>

namespace tapedeck::agent {

ApprovalGate::ApprovalGate(ApprovalMode mode, int answersFd, bool fromTerminal,
                           std::ostream &prompt, const std::atomic<int> *interrupts)
    : m_mode(mode), m_fd(answersFd), m_fromTerminal(fromTerminal), m_prompt(prompt),
      m_interrupts(interrupts)
{
}

bool ApprovalGate::needsApproval(const std::string &toolName) const
{
    switch (m_mode) {
    case ApprovalMode::Never:
        return false;
    case ApprovalMode::Risky:
        return Toolbox::isRisky(toolName);
    case ApprovalMode::Always:
        return true;
    }
    return true;
}

bool ApprovalGate::readLine(std::string &line)
{
    line.clear();
    // Byte by byte, so that nothing past this answer is taken from the input: the next
    // question's answer stays where it is.
    while (true) {
        if (m_interrupts && m_interrupts->load() > 0)
            return false;
        pollfd pfd{m_fd, POLLIN, 0};
        const int ready = poll(&pfd, 1, 100);
        if (ready < 0 && errno != EINTR)
            return false;
        if (ready <= 0)
            continue;
        char c = 0;
        const ssize_t n = read(m_fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return !line.empty();
        if (c == '\n')
            return true;
        if (c != '\r')
            line.push_back(c);
    }
}

bool ApprovalGate::ask(const std::string &question)
{
    while (true) {
        m_prompt << question << " [y/n] " << std::flush;
        std::string answer;
        const bool got = readLine(answer);
        if (!m_fromTerminal)
            m_prompt << (got ? answer : std::string("(no answer)")) << "\n";
        if (!got)
            return false;
        std::transform(answer.begin(), answer.end(), answer.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        answer.erase(std::remove_if(answer.begin(), answer.end(),
                                    [](unsigned char c) { return std::isspace(c); }),
                     answer.end());
        if (answer == "y" || answer == "yes")
            return true;
        if (answer == "n" || answer == "no" || !m_fromTerminal)
            return false;
        m_prompt << "please answer y or n\n";
    }
}

} // namespace tapedeck::agent
