#include "conversationtracker.h"

#include <xxhash.h>

#include <algorithm>

namespace tapedeck::recorder {

using formats::wire::Message;
using formats::wire::Request;
using formats::wire::Response;
using formats::wire::Role;

namespace {

void feed(XXH3_state_t *state, std::string_view s)
{
    const uint64_t length = s.size();
    XXH3_64bits_update(state, &length, sizeof length);
    XXH3_64bits_update(state, s.data(), s.size());
}

std::vector<uint64_t> keysOf(const std::vector<Message> &messages)
{
    std::vector<uint64_t> keys;
    keys.reserve(messages.size());
    for (const Message &m : messages)
        keys.push_back(messageKey(m));
    return keys;
}

bool startsWith(const std::vector<uint64_t> &keys, const std::vector<uint64_t> &prefix,
                size_t prefixLength)
{
    return prefixLength <= keys.size() && std::equal(prefix.begin(), prefix.begin() + prefixLength, keys.begin());
}

Message answerMessage(const Response &answer)
{
    Message m;
    m.role = Role::Assistant;
    m.text = answer.text;
    m.toolCalls = answer.toolCalls;
    return m;
}

} // namespace

uint64_t messageKey(const Message &message)
{
    XXH3_state_t *state = XXH3_createState();
    XXH3_64bits_reset(state);
    const int role = static_cast<int>(message.role);
    XXH3_64bits_update(state, &role, sizeof role);
    // Whitespace at the ends of text is not kept faithfully by every client.
    std::string_view text = message.text;
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    feed(state, text);
    for (const auto &call : message.toolCalls) {
        feed(state, call.id);
        feed(state, call.name);
    }
    feed(state, message.toolCallId);
    const uint64_t key = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    return key;
}

ConversationTracker::Placement ConversationTracker::place(const Request &request) const
{
    Placement placement;
    const std::vector<uint64_t> keys = keysOf(request.messages);

    std::optional<size_t> best;
    size_t bestLength = 0;
    size_t bestMatched = 0; // messages of the request the thread already knew
    const std::string previousId =
        request.extra.is_object() && request.extra.contains("previous_response_id") &&
                request.extra["previous_response_id"].is_string()
            ? request.extra["previous_response_id"].get<std::string>()
            : std::string();

    for (size_t i = 0; i < m_threads.size(); ++i) {
        const ThreadState &t = m_threads[i];
        if (!previousId.empty()) {
            if (t.lastResponseId == previousId) {
                best = i;
                bestMatched = 0;
                break;
            }
            continue;
        }
        const size_t known = t.requestKeys.size();
        if (known == 0)
            continue;
        // The last request plus its answer, then the last request alone.
        if (t.answerKey != 0 && startsWith(keys, t.requestKeys, known) && keys.size() > known &&
            keys[known] == t.answerKey) {
            if (known + 1 > bestLength) {
                best = i;
                bestLength = known + 1;
                bestMatched = known + 1;
            }
        } else if (startsWith(keys, t.requestKeys, known) && known > bestLength) {
            best = i;
            bestLength = known;
            bestMatched = known;
        }
    }

    if (!best && previousId.empty()) {
        // After a compaction: the latest turn kept below a summary.
        int64_t latest = -1;
        for (size_t i = 0; i < m_threads.size(); ++i) {
            const ThreadState &t = m_threads[i];
            for (size_t k = 0; k < keys.size(); ++k) {
                if (request.messages[k].role != Role::Assistant ||
                    std::find(t.recentAnswerKeys.begin(), t.recentAnswerKeys.end(), keys[k]) ==
                        t.recentAnswerKeys.end())
                    continue;
                if (t.lastActivityUs > latest) {
                    best = i;
                    bestMatched = k + 1;
                    latest = t.lastActivityUs;
                }
                break;
            }
        }
    }

    if (!best) {
        placement.thread = m_threads.size();
        placement.isNew = true;
        return placement;
    }
    placement.thread = *best;
    const ThreadState &t = m_threads[*best];
    for (size_t k = bestMatched; k < request.messages.size(); ++k) {
        const Message &m = request.messages[k];
        if (m.role != Role::Tool)
            continue;
        auto it = t.openCalls.find(m.toolCallId);
        if (it == t.openCalls.end()) {
            // Gemini names results by tool, not id: take the oldest open call of that name.
            it = std::find_if(t.openCalls.begin(), t.openCalls.end(), [&](const auto &entry) {
                return !m.toolName.empty() && entry.second.name == m.toolName;
            });
        }
        if (it == t.openCalls.end())
            continue;
        const bool alreadyFound =
            std::any_of(placement.toolResults.begin(), placement.toolResults.end(),
                        [&](const FoundToolResult &r) { return r.callId == it->first; });
        if (alreadyFound)
            continue;
        placement.toolResults.push_back({it->second, it->first, m.text, m.isError});
    }
    return placement;
}

void ConversationTracker::commit(const Placement &placement, formats::ThreadId threadId,
                                 const Request &request, const Response *answer,
                                 const std::vector<formats::StepIndex> &toolCallSteps,
                                 int64_t answerEndedUs)
{
    if (placement.isNew) {
        m_threads.push_back({});
        m_threads.back().id = threadId;
    }
    ThreadState &t = m_threads[placement.thread];
    for (const FoundToolResult &result : placement.toolResults)
        t.openCalls.erase(result.callId);

    const bool statefulContinuation = !t.lastResponseId.empty() && request.extra.is_object() &&
                                      request.extra.contains("previous_response_id");
    if (!statefulContinuation)
        t.requestKeys = keysOf(request.messages);
    t.answerKey = 0;
    t.lastActivityUs = answerEndedUs;
    if (!answer)
        return;
    t.answerKey = messageKey(answerMessage(*answer));
    t.recentAnswerKeys.push_back(t.answerKey);
    if (t.recentAnswerKeys.size() > 4)
        t.recentAnswerKeys.erase(t.recentAnswerKeys.begin());
    t.lastResponseId = answer->id;
    for (size_t i = 0; i < answer->toolCalls.size() && i < toolCallSteps.size(); ++i) {
        const auto &call = answer->toolCalls[i];
        t.openCalls[call.id] = OpenToolCall{toolCallSteps[i], call.name, answerEndedUs};
    }
}

std::optional<size_t> ConversationTracker::threadWaitingOnTool() const
{
    std::optional<size_t> best;
    int64_t latest = -1;
    for (size_t i = 0; i < m_threads.size(); ++i) {
        if (!m_threads[i].openCalls.empty() && m_threads[i].lastActivityUs > latest) {
            best = i;
            latest = m_threads[i].lastActivityUs;
        }
    }
    return best;
}

} // namespace tapedeck::recorder
