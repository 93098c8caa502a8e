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
#pragma once

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <cstdint>
#include <map>
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
    struct Placement {
        size_t thread = 0;          // index into threads(); a new one when isNew
        bool isNew = false;
        std::vector<FoundToolResult> toolResults; // results this request brings, in order
    };

    // Where a request belongs, and the results it carries for the thread's open calls.
    // Does not change the tracker; call commit() once the request's steps are written.
    Placement place(const formats::wire::Request &request) const;

    // Records the request and its answer (nullptr when there was none) in `placement`'s
    // thread; `toolCallSteps` are the tool_call steps written for the answer's tool calls.
    void commit(const Placement &placement, formats::ThreadId threadId,
                const formats::wire::Request &request, const formats::wire::Response *answer,
                const std::vector<formats::StepIndex> &toolCallSteps, int64_t answerEndedUs);

    size_t threadCount() const { return m_threads.size(); }
    formats::ThreadId threadId(size_t thread) const { return m_threads[thread].id; }
    // The thread that most recently asked for a tool call still open: a new thread started
    // while it waits is likely its sub-agent.
    std::optional<size_t> threadWaitingOnTool() const;

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
    std::vector<ThreadState> m_threads;
};

// The key a message is compared by (see the class comment).
uint64_t messageKey(const formats::wire::Message &message);

} // namespace tapedeck::recorder
