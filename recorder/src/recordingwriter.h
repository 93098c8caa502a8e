// The writer thread: takes finished exchanges from the server's threads, turns them into
// steps (threads by prefix, tool results linked to their calls) and commits each exchange
// as it comes, so the agent never waits for the disk and a crash loses only what was not
// yet taken from the queue.
//
// Owns the TapeWriter; submit() and stats() may be called from any thread; finish() once,
// from the thread that made this object.
#pragma once

#include "capturedexchange.h"
#include "continuedthreads.h"
#include "conversationtracker.h"
#include "mcprecording.h"
#include "redactor.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/recorder/recorder.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <optional>
#include <vector>
#include <memory>
#include <mutex>
#include <thread>

namespace tapedeck::recorder {

// How exchanges are grouped into runs: all into one (`tapedeck record`: the run of the
// command it started), or one run per client session (`tapedeck proxy`: see
// clientsession.h), the anonymous session split into runs at idle gaps.
struct RunGrouping {
    bool perSession = false;
    int64_t idleUs = 0;        // per session: a gap this long ends the anonymous session's run
    formats::RunInfo template_; // what each run begun per session is named after
};

// Recording into a branch of `firstRun` other than its original one: a fork's.
struct BranchStart {
    formats::BranchId branch;
    std::vector<ContinuedThread> continued; // the prefix's threads, for the tracker
    formats::ThreadId forkThread;           // where the fork_point is, already written
    bool forkThreadContinues = false;       // it is continued[0]'s thread in the branch
};

class RecordingWriter {
public:
    // `firstRun` is the run begun already (always when not per session), recorded into
    // until a session asks for another: into its original branch, or into `branchStart`'s
    // (a run the writer then does not end).
    RecordingWriter(std::unique_ptr<formats::TapeWriter> writer, std::optional<formats::RunId> firstRun,
                    RunGrouping grouping, Redactor redactor, std::optional<BranchStart> branchStart = {});
    ~RecordingWriter();

    void submit(CapturedExchange exchange);
    // Writes what is queued, stops the thread, ends every run begun; on a fork's branch,
    // writes `outcome` as its last step.
    formats::Status finish(int64_t endedUs, const std::string &outcome);
    RecorderStats stats() const;

private:
    // What the writer keeps per run it records into. Writer thread only.
    struct RunRecording {
        formats::RunId run;
        formats::BranchId branch;
        ConversationTracker tracker;
        McpRecording mcp;
        std::optional<formats::ThreadId> otherTraffic;
        int64_t lastActivityUs = 0;
        RunRecording(formats::RunId r, formats::BranchId b) : run(r), branch(b), mcp(b) {}
    };

    void loop();
    void record(CapturedExchange &exchange);
    // The run an exchange belongs to, begun when it is its session's first; null when it
    // could not be begun (the write error is noted).
    RunRecording *runFor(const CapturedExchange &exchange);
    formats::Result<RunRecording *> beginRun(const std::string &session, int64_t atUs);
    void recordModelCall(RunRecording &run, CapturedExchange &exchange);
    void recordMcpCall(RunRecording &run, const McpCall &call);
    void appendOne(formats::Step step);
    formats::ThreadId otherTrafficThread(RunRecording &run);
    // The tape's thread for a placement's: a continued prefix thread is written to the tape
    // when its first step is. Unset when it cannot be written (the error is noted).
    std::optional<formats::ThreadId> writtenThread(RunRecording &run, formats::ThreadId placed, int64_t atUs);
    void noteWriteError(const formats::Error &error);

    std::unique_ptr<formats::TapeWriter> m_writer;
    RunGrouping m_grouping;
    Redactor m_redactor; // for the answers a stream assembles
    // Writer thread only: the runs by session key ("" for the anonymous session, and for
    // everything when not per session), and every run begun, to end at finish().
    std::map<std::string, std::unique_ptr<RunRecording>> m_runs;
    std::vector<formats::RunId> m_begun;
    RunRecording *m_latest = nullptr; // where reported MCP calls go
    // A fork's continued threads not yet on the tape, by the stand-in id (negative) the
    // tracker knows them by; and the thread its outcome goes to.
    std::map<formats::ThreadId, formats::ThreadInfo> m_unwrittenThreads;
    std::optional<formats::ThreadId> m_forkThread;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    struct Queued {
        CapturedExchange exchange;
        std::chrono::steady_clock::time_point queuedAt;
    };
    // How long an exchange waits for one that began before it (RecordingWriter::loop).
    static constexpr std::chrono::milliseconds kOrderWindow{50};
    std::deque<Queued> m_queue;
    bool m_stopping = false;
    RecorderStats m_stats;
    std::thread m_thread;
};

} // namespace tapedeck::recorder
