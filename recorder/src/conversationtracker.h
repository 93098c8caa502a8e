// Groups a run's model calls into threads and links tool results to the calls that asked
// for them. Used by the writer thread only.
//
// A request continues a thread when its message list starts with the thread's last request
// plus that request's answer (the usual resend-everything conversation), or when it starts
// with the thread's last request alone (a retry after an error); the longest such match
// wins. A Responses API request with previous_response_id continues the thread whose last
// answer had that id. Anything else starts a new thread: sub-agents, title generators and
// other side conversations each get their own.
//
// A request that matches no thread's prefix but carries one of a thread's recent answers
// continues that thread: that is what a conversation looks like after the agent compacted
// it (a summary, then the latest turn kept as it was).
//
// Messages are compared by a key of what a client resends faithfully (role, text, tool
// call ids and names, tool results), not by their exact JSON, because clients rewrite the
// shape of earlier turns (null content for "", extra fields) from one request to the next.
//
// Memory is bounded however long the run: at most kActiveThreads threads keep their whole
// state. When a new one needs room, the least recently active thread goes dormant, one
// without open tool calls if there is such (a thread waiting on a long tool keeps its
// calls). A dormant thread keeps a hash of its last request's keys, its answer's key and a
// hash of its response id (about 48 bytes): it is still continued by prefix or by
// previous_response_id, and wakes up. What it forgot is its open tool calls (a result for
// a call asked before it went dormant is not linked: the request is placed right, its
// tool_result step is missing) and its recent answers (a compacted dormant conversation
// starts a new thread). Past kDormantThreads the oldest dormant thread is forgotten
// altogether: if it ever resumes, it is a new thread.
#pragma once

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::recorder {

// A tool call that a thread's model asked for and whose result has not been seen yet.
struct OpenToolCall {
    formats::StepIndex step;  // the tool_call step
    std::string name;
    int64_t askedUs = 0;      // when the answer asking for it ended
};

// A tool result found in a request, matched to its call.
struct FoundToolResult {
    OpenToolCall call;
    std::string callId;
    std::string output;
    bool isError = false;
};

class ConversationTracker {
public:
    static constexpr size_t kActiveThreads = 64;
    static constexpr size_t kDormantThreads = 4096;

    struct Placement {
        bool isNew = false;
        formats::ThreadId thread;   // the thread the request continues; unset when isNew
        std::vector<FoundToolResult> toolResults; // results this request brings, in order
        // What commit() keeps of the request, so that the request itself (its text can be
        // tens of megabytes) need not be kept until then.
        std::vector<uint64_t> requestKeys;
        bool byPreviousResponseId = false; // a Responses API request naming its predecessor
    };

    // What commit() keeps of an answer, taken before the answer (whose text can be tens of
    // megabytes) is let go.
    struct Answer {
        uint64_t key = 0;  // messageKey() of the answer as the next request resends it
        std::string id;
        std::vector<std::pair<std::string, std::string>> toolCalls; // id and name of each
    };
    static Answer answerOf(const formats::wire::Response &response);

    // Where a request belongs, and the results it carries for the thread's open calls.
    // Does not change the tracker; call commit() once the request's steps are written.
    Placement place(const formats::wire::Request &request) const;

    // Records the placed request and its answer (nullptr when there was none) in
    // `threadId`, the placement's thread or the one just made for it; `toolCallSteps` are
    // the tool_call steps written for the answer's tool calls.
    void commit(const Placement &placement, formats::ThreadId threadId, const Answer *answer,
                const std::vector<formats::StepIndex> &toolCallSteps, int64_t answerEndedUs);

    // Starts a thread that holds `request` and its answer, as if they had been placed and
    // committed: a fork's branch continues the threads of its recorded prefix so. The tool
    // calls of the answer (`toolCallSteps`, steps of the prefix) stay open.
    void seedThread(const formats::wire::Request &request, formats::ThreadId threadId, const Answer &answer,
                    const std::vector<formats::StepIndex> &toolCallSteps, int64_t answerEndedUs);
    // Gives a thread another id (a seeded thread once it is written to the tape).
    void renameThread(formats::ThreadId from, formats::ThreadId to);

    // Threads started so far, dormant and forgotten ones included.
    size_t threadCount() const { return m_started; }
    // The thread that most recently asked for a tool call still open: a new thread started
    // while it waits is likely its sub-agent.
    std::optional<formats::ThreadId> threadWaitingOnTool() const;

private:
    struct ThreadState {
        formats::ThreadId id;
        std::vector<uint64_t> requestKeys; // the last request's messages
        uint64_t answerKey = 0;            // its answer, 0 when there was none
        std::vector<uint64_t> recentAnswerKeys; // the last few answers, newest last
        std::string lastResponseId;
        std::map<std::string, OpenToolCall> openCalls; // by call id
        int64_t lastActivityUs = 0;
    };
    // What a dormant thread keeps: enough to be continued by prefix.
    struct DormantThread {
        formats::ThreadId id;
        size_t requestLength = 0;   // messages in its last request
        uint64_t requestHash = 0;   // prefixHash() of their keys
        uint64_t answerKey = 0;
        uint64_t responseIdHash = 0; // 0 when its last answer had no id
    };

    void putToSleep(); // makes room among the active threads

    std::vector<ThreadState> m_threads;  // active, at most kActiveThreads
    std::deque<DormantThread> m_dormant; // oldest first, at most kDormantThreads
    size_t m_started = 0;
};

// The key a message is compared by (see the class comment).
uint64_t messageKey(const formats::wire::Message &message);

} // namespace tapedeck::recorder
