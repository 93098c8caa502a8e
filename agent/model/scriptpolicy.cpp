#include "scriptpolicy.h"

#include "compaction.h"

#include <algorithm>

namespace tapedeck::model {

using formats::Error;
using formats::ErrorCode;
using formats::Result;
using formats::wire::Request;

namespace {

// The first turn at or after `from` that belongs to the wanted order.
size_t nextOf(const Script &script, size_t from, bool compaction)
{
    while (from < script.turns.size() && script.turns[from].forCompaction != compaction)
        ++from;
    return from;
}

std::string excerpt(const std::string &text)
{
    return text.size() > 300 ? text.substr(0, 300) + "..." : text;
}

} // namespace

ScriptPolicy::ScriptPolicy(Script script) : m_script(std::move(script))
{
    m_mainTurns =
        static_cast<size_t>(std::count_if(m_script.turns.begin(), m_script.turns.end(),
                                          [](const ScriptTurn &t) { return !t.forCompaction; }));
}

Result<Turn> ScriptPolicy::answer(const Request &request)
{
    if (isCompactionRequest(request)) {
        m_nextCompaction = nextOf(m_script, m_nextCompaction, true);
        if (m_nextCompaction < m_script.turns.size())
            return m_script.turns[m_nextCompaction++].turn;
        Turn written;
        written.response.text = writeSummary(request);
        return written;
    }

    ++m_mainRequests;
    m_nextMain = nextOf(m_script, m_nextMain, false);
    if (m_nextMain >= m_script.turns.size()) {
        return Error{ErrorCode::NotFound,
                     "script " + m_script.path + " has " + std::to_string(m_mainTurns) +
                         " turns, all used; request " + std::to_string(m_mainRequests) +
                         " has no turn to answer it"};
    }
    const ScriptTurn &turn = m_script.turns[m_nextMain++];
    if (!turn.expect.empty()) {
        const std::string last =
            request.messages.empty() ? std::string() : request.messages.back().text;
        if (last.find(turn.expect) == std::string::npos) {
            return Error{ErrorCode::InvalidArgument,
                         "script " + m_script.path + ":" + std::to_string(turn.line) +
                             " expected the last message to contain \"" + turn.expect +
                             "\"; it was: \"" + excerpt(last) + "\""};
        }
    }
    return turn.turn;
}

} // namespace tapedeck::model
