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

// The hash of keys[0, n) for every n from 0 to keys.size(), so that a dormant thread's
// prefix is checked in one comparison.
std::vector<uint64_t> prefixHashes(const std::vector<uint64_t> &keys)
{
    std::vector<uint64_t> hashes(keys.size() + 1);
    hashes[0] = 0x7461706564656b;
    for (size_t i = 0; i < keys.size(); ++i)
        hashes[i + 1] = XXH3_64bits_withSeed(&keys[i], sizeof keys[i], hashes[i]);
    return hashes;
}

// Never 0, which stands for "no id".
uint64_t idHash(std::string_view id)
{
    const uint64_t h = XXH3_64bits(id.data(), id.size());
    return h == 0 ? 1 : h;
}

std::string previousResponseId(const Request &request)
{
    const nlohmann::json &extra = request.extra;
    if (extra.is_object() && extra.contains("previous_response_id") && extra["previous_response_id"].is_string())
        return extra["previous_response_id"].get<std::string>();
    return {};
}

uint64_t keyOf(Role role, std::string_view text, const std::vector<formats::wire::ToolCall> &toolCalls,
              std::string_view toolCallId)
{
    XXH3_state_t *state = XXH3_createState();
    XXH3_64bits_reset(state);
    const int roleNumber = static_cast<int>(role);
    XXH3_64bits_update(state, &roleNumber, sizeof roleNumber);
    // Whitespace at the ends of text is not kept faithfully by every client.
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    feed(state, text);
    for (const auto &call : toolCalls) {
        feed(state, call.id);
        feed(state, call.name);
    }
    feed(state, toolCallId);
    const uint64_t key = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    return key;
}

} // namespace

uint64_t messageKey(const Message &message)
{
    return keyOf(message.role, message.text, message.toolCalls, message.toolCallId);
}

ConversationTracker::Answer ConversationTracker::answerOf(const Response &response)
{
    Answer answer;
    answer.key = keyOf(Role::Assistant, response.text, response.toolCalls, {});
    answer.id = response.id;
    for (const auto &call : response.toolCalls)
        answer.toolCalls.emplace_back(call.id, call.name);
    return answer;
}

ConversationTracker::Placement ConversationTracker::place(const Request &request) const
{
    Placement placement;
    placement.requestKeys = keysOf(request.messages);
    const std::vector<uint64_t> &keys = placement.requestKeys;

    std::optional<size_t> best;
    size_t bestLength = 0;
    size_t bestMatched = 0; // messages of the request the thread already knew
    const std::string previousId = previousResponseId(request);
    placement.byPreviousResponseId = !previousId.empty();

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

    // A dormant thread wins only with a longer match; it brings no tool results, having
    // forgotten its open calls.
    if (!m_dormant.empty() && (!best || previousId.empty())) {
        const std::vector<uint64_t> prefixes = prefixHashes(keys);
        const uint64_t previousIdHash = previousId.empty() ? 0 : idHash(previousId);
        std::optional<formats::ThreadId> dormant;
        for (const DormantThread &d : m_dormant) {
            if (previousIdHash != 0) {
                if (d.responseIdHash == previousIdHash)
                    dormant = d.id;
                continue;
            }
            const size_t known = d.requestLength;
            if (known == 0 || known > keys.size() || prefixes[known] != d.requestHash)
                continue;
            const size_t length = d.answerKey != 0 && keys.size() > known && keys[known] == d.answerKey
                                      ? known + 1
                                      : known;
            if (length > bestLength) {
                dormant = d.id;
                bestLength = length;
            }
        }
        if (dormant) {
            placement.thread = *dormant;
            return placement;
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
        placement.isNew = true;
        return placement;
    }
    const ThreadState &t = m_threads[*best];
    placement.thread = t.id;
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

void ConversationTracker::commit(const Placement &placement, formats::ThreadId threadId, const Answer *answer,
                                 const std::vector<formats::StepIndex> &toolCallSteps, int64_t answerEndedUs)
{
    auto active = std::find_if(m_threads.begin(), m_threads.end(),
                               [&](const ThreadState &t) { return t.id == threadId; });
    if (active == m_threads.end()) {
        // A new thread, or a dormant one waking up: it needs room among the active ones.
        if (placement.isNew) {
            ++m_started;
        } else {
            auto d = std::find_if(m_dormant.begin(), m_dormant.end(),
                                  [&](const DormantThread &t) { return t.id == threadId; });
            if (d != m_dormant.end())
                m_dormant.erase(d);
        }
        if (m_threads.size() >= kActiveThreads)
            putToSleep();
        m_threads.push_back({});
        m_threads.back().id = threadId;
        active = m_threads.end() - 1;
    }
    ThreadState &t = *active;
    for (const FoundToolResult &result : placement.toolResults)
        t.openCalls.erase(result.callId);

    // A request continuing by previous_response_id holds only what is new: the thread's
    // keys stay those of the conversation's start.
    const bool statefulContinuation = !t.lastResponseId.empty() && placement.byPreviousResponseId;
    if (!statefulContinuation)
        t.requestKeys = placement.requestKeys;
    t.answerKey = 0;
    t.lastActivityUs = answerEndedUs;
    if (!answer)
        return;
    t.answerKey = answer->key;
    t.recentAnswerKeys.push_back(t.answerKey);
    if (t.recentAnswerKeys.size() > 4)
        t.recentAnswerKeys.erase(t.recentAnswerKeys.begin());
    t.lastResponseId = answer->id;
    for (size_t i = 0; i < answer->toolCalls.size() && i < toolCallSteps.size(); ++i) {
        const auto &[id, name] = answer->toolCalls[i];
        t.openCalls[id] = OpenToolCall{toolCallSteps[i], name, answerEndedUs};
    }
}

void ConversationTracker::seedThread(const formats::wire::Request &request, formats::ThreadId threadId,
                                     const Answer &answer, const std::vector<formats::StepIndex> &toolCallSteps,
                                     int64_t answerEndedUs)
{
    Placement placement;
    placement.isNew = true;
    placement.requestKeys = keysOf(request.messages);
    commit(placement, threadId, &answer, toolCallSteps, answerEndedUs);
}

void ConversationTracker::renameThread(formats::ThreadId from, formats::ThreadId to)
{
    for (ThreadState &t : m_threads)
        if (t.id == from)
            t.id = to;
    for (DormantThread &d : m_dormant)
        if (d.id == from)
            d.id = to;
}

std::optional<formats::ThreadId> ConversationTracker::threadWaitingOnTool() const
{
    std::optional<formats::ThreadId> best;
    int64_t latest = -1;
    for (const ThreadState &t : m_threads) {
        if (!t.openCalls.empty() && t.lastActivityUs > latest) {
            best = t.id;
            latest = t.lastActivityUs;
        }
    }
    return best;
}

void ConversationTracker::putToSleep()
{
    // The least recently active thread, one not waiting on a tool if there is such.
    auto sleeper = m_threads.end();
    for (auto it = m_threads.begin(); it != m_threads.end(); ++it) {
        if (sleeper == m_threads.end()) {
            sleeper = it;
            continue;
        }
        const bool waits = !it->openCalls.empty(), sleeperWaits = !sleeper->openCalls.empty();
        if (waits != sleeperWaits ? sleeperWaits : it->lastActivityUs < sleeper->lastActivityUs)
            sleeper = it;
    }
    if (sleeper == m_threads.end())
        return;
    DormantThread d;
    d.id = sleeper->id;
    d.requestLength = sleeper->requestKeys.size();
    d.requestHash = prefixHashes(sleeper->requestKeys).back();
    d.answerKey = sleeper->answerKey;
    d.responseIdHash = sleeper->lastResponseId.empty() ? 0 : idHash(sleeper->lastResponseId);
    m_dormant.push_back(d);
    if (m_dormant.size() > kDormantThreads)
        m_dormant.pop_front();
    m_threads.erase(sleeper);
}

} // namespace tapedeck::recorder
