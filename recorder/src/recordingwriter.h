// The writer thread: takes finished exchanges from the server's threads, turns them into
// steps (threads by prefix, tool results linked to their calls) and commits each exchange
// as it comes, so the agent never waits for the disk and a crash loses only what was not
// yet taken from the queue.
//
// Owns the TapeWriter; submit() and stats() may be called from any thread; finish() once,
// from the thread that made this object.
#pragma once

#include "capturedexchange.h"
#include "conversationtracker.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/recorder/recorder.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace tapedeck::recorder {

class RecordingWriter {
public:
    RecordingWriter(std::unique_ptr<formats::TapeWriter> writer, formats::RunId run,
                    formats::BranchId branch);
    ~RecordingWriter();

    void submit(CapturedExchange exchange);
    // Writes what is queued, stops the thread, ends the run.
    formats::Status finish(int64_t endedUs, const std::string &outcome);
    RecorderStats stats() const;

private:
    void loop();
    void record(CapturedExchange &exchange);
    void recordModelCall(CapturedExchange &exchange);
    void appendOne(formats::Step step);
    formats::ThreadId otherTrafficThread();
    void noteWriteError(const formats::Error &error);

    std::unique_ptr<formats::TapeWriter> m_writer;
    formats::RunId m_run;
    formats::BranchId m_branch;
    ConversationTracker m_tracker;        // writer thread only
    std::optional<formats::ThreadId> m_otherTraffic;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<CapturedExchange> m_queue;
    bool m_stopping = false;
    RecorderStats m_stats;
    std::thread m_thread;
};

} // namespace tapedeck::recorder
