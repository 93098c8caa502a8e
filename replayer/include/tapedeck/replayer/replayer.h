// The replay server: an HTTP server on loopback that answers an agent's model calls from a
// tape instead of an upstream, offline, with the recorded bytes: status, headers, body, and
// for a stream the recorded chunks at the recorded pace (or faster).
//
// Matching: each request is matched to the next recorded exchange of its thread after both
// are normalised (matchrules.h; replayer/MATCHING.md), so what legitimately changes from run
// to run (ids, session keys, dates in prompts) does not count. A request that matches none
// is a divergence (Divergence below): the step it should have been, the parts that differ
// with a diff, the nearest recorded candidates. Then, as told: the request is refused and
// the replay stops, or the nearest recorded answer is served and the replay goes on. When
// only tool outputs differ it is environment drift, which `toolDrift` may allow.
//
// Requests that are not model calls (model lists, token counts, HEAD /) are answered from
// a recorded exchange with the same method and URL (path and query), in any order, the
// body not compared; once each is served, the last one again.
//
// A replay can go live: at its first miss (OnMiss::Live), or, for a fork, once the prefix
// is served. From then on every request goes to a live server, the recorder of the new
// branch, and a fork's edits are made to each model call on the way.
#pragma once

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>
#include <tapedeck/replayer/fork.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::replayer {

enum class OnMiss {
    Fail,    // refuse the request (HTTP 400 in the API's error shape) and stop the replay
    Nearest, // serve the nearest recorded answer and go on
    Live,    // go live (ReplayOptions::goLive) from this request on
};

struct ReplayOptions {
    std::string tapePath;
    std::optional<formats::RunId> run;       // default: the tape's only run, else its last
    std::optional<formats::BranchId> branch; // default: the run's original branch
    std::string listenHost = "127.0.0.1";
    int listenPort = 0;                      // 0: an ephemeral port
    // How fast answers come: 0 as fast as possible; 1 at the recorded pace (waiting for
    // the first byte and between chunks as the recording did); N: N times faster.
    double speed = 0;
    OnMiss onMiss = OnMiss::Fail;
    bool allowToolDrift = false;             // a miss where only tool outputs differ is served
    std::string matchRulesFile;              // extra rules (MATCHING.md); empty: built-in only

    // Going live: every request from then on is sent on to the URL this gives (the recorder
    // of a new branch, forked at `at`, the recorded step the first live request stands for;
    // nullopt when it stands for none) with a fork's edits made, and its answer passed back
    // as it arrives. Called once, under the server's lock, so it may take a moment; an
    // error refuses the request and stops the replay. Required with OnMiss::Live or forkAt.
    std::function<formats::Result<std::string>(std::optional<formats::StepIndex> at)> goLive;
    // A fork (fork.h): only the exchanges before this step are replayed; once every model
    // call among them is served, the replay goes live, and so it does at a miss once the
    // calls of the step's own thread are (another thread's may not come again).
    std::optional<formats::StepIndex> forkAt;
    // A fork's own edits (fork.h), made to every model call that comes once each recorded one
    // up to `after` is served. The edits of the replayed branch and of the branches it was
    // forked from are read from the tape and made too, each past its own fork step.
    std::vector<BranchEdits> edits;
    // Given instead of a live answer to the forked thread's first live model call (the thread
    // of the last of `edits`), and handed to `recordAnswered` (the new branch's recorder) as
    // the exchange it was.
    std::optional<formats::wire::Response> answer;
    std::function<void(formats::WireExchange wire, int64_t startedUs, int64_t endedUs)> recordAnswered;
};

// One request that matched nothing recorded.
struct Divergence {
    int64_t request = 0;                     // 1-based count of requests the replay received
    std::string method;
    std::string path;
    std::optional<formats::StepIndex> expected; // the recorded step it was taken to be
    bool environmentDrift = false;           // only tool outputs differ from `expected`
    bool served = false;                     // an answer was served anyway (nearest, drift)
    std::string report;                      // readable, several lines (divergencereport.h)
    nlohmann::json json;                     // the same, for scripts
};

struct ReplayStats {
    int64_t requests = 0;
    int64_t served = 0;                      // answered from the tape with a match
    int64_t divergences = 0;
    int64_t driftServed = 0;                 // divergences served as environment drift
    int64_t recordedExchanges = 0;           // replayable exchanges on the branch
    int64_t unusedExchanges = 0;             // recorded model calls never asked for
    bool stopped = false;                    // a divergence stopped the replay (OnMiss::Fail)
    int64_t liveFrom = 0;                    // the request the replay went live at; 0: never
    std::string liveError;                   // why it could not go live, when it could not
    int64_t live = 0;                        // requests sent on live (or given the fork's answer)
    std::vector<std::string> edited;         // what the edits changed in the first request edited
};

class ReplayServer {
public:
    // Opens the tape, indexes the branch's recorded exchanges (summaries only: no request
    // is decoded until it is needed) and starts listening. Errors: the tape cannot be
    // opened, the run or branch does not exist, it has nothing to replay, the rules file
    // is bad, the address cannot be bound.
    static formats::Result<std::unique_ptr<ReplayServer>> start(ReplayOptions options);
    ~ReplayServer();

    int port() const;
    std::string baseUrl() const;             // "http://127.0.0.1:PORT"
    formats::RunId run() const;
    formats::BranchId branch() const;

    // Called (from a server thread, no lock held) for each divergence, as it happens.
    void onDivergence(std::function<void(const Divergence &)> callback);
    // Called (from a server thread, no lock held) when a divergence stops the replay. It
    // must not call stop(), which waits for that thread.
    void onStop(std::function<void()> callback);

    // Stops listening once the requests in flight are answered.
    void stop();
    ReplayStats stats() const;
    std::vector<Divergence> divergences() const;

private:
    struct Impl;
    explicit ReplayServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace tapedeck::replayer
