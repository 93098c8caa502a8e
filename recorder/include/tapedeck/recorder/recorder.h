// The recording proxy: an HTTP server on loopback that sits between an agent and its model
// API, forwards every request to the real upstream, passes the answer back unchanged (streams
// event by event, as they arrive), and records each exchange into a run of a .tape.
//
// What the agent receives is exactly what the upstream sent: status, body bytes, headers
// (less the hop-by-hop ones), errors included. Recording happens on a writer thread of its
// own: a request never waits for the disk. Each finished exchange is committed within
// about 50 ms (the writer holds it that long for any exchange that began before it, so that
// steps keep the order the client made its calls in), so a crash of the recorder loses at
// most the exchanges in flight and those last few milliseconds.
//
// What lands in the tape, per exchange:
// - a model call (any of the four APIs, see formats/wire.h): the tool results the request
//   carries for the thread's earlier tool calls (tool_result steps, linked to the
//   tool_call steps, timed from the answer that asked to the request that answered), the
//   model_call step with the request's messages, parameters, the response, usage and
//   timing, then one tool_call step per tool call in the answer;
// - anything else (model lists, token counting, HEAD /): an http_exchange step;
// - an upstream that cannot be reached: an error step (the agent gets a 502 whose JSON body
//   says why).
// Calls are grouped into threads by prefix: a request whose messages extend a thread's last
// request and its answer continues that thread; anything else starts a new one.
//
// Secrets never reach the file: authorization, x-api-key, x-goog-api-key, api-key, cookie,
// set-cookie and the headers named in `redactHeaders` are stored as "<redacted>", and text
// matching `redactPatterns` is replaced by a placeholder derived from the text, so the same
// secret always gives the same placeholder. A tape the recorder creates has mode 0600.
#pragma once

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::recorder {

// Where each API's requests are forwarded. A URL with a path ("https://api.openai.com/v1")
// takes the client's path less its leading "/v1"; a URL without one takes the client's path
// as it is.
struct Upstreams {
    std::string openai = "https://api.openai.com/v1";
    std::string anthropic = "https://api.anthropic.com";
    std::string gemini = "https://generativelanguage.googleapis.com";

    static Upstreams all(const std::string &url); // one upstream for every API
};

// Recording the continuation of a recorded run as a new branch of it (`tapedeck fork`): the
// branch is added to the run, a fork_point step opens it, and its first requests continue
// the threads of the recorded prefix, so the tool results they carry are linked to the
// prefix's tool calls. The run itself is left as it was recorded (its end and outcome);
// the branch's outcome is an annotation step at its end.
struct ForkRecording {
    formats::BranchInfo branch;             // run, parent, forkStep, description
    // The prefix's last model call of each thread the branch may continue.
    std::vector<formats::StepIndex> continuedCalls;
    // The first of them is the forked thread's, where the fork_point and the outcome go;
    // otherwise (the forked thread had no model call before the fork) they go to a thread
    // of their own.
    bool firstIsForkedThread = false;
    nlohmann::json forkPoint = nlohmann::json::object(); // the fork_point step's payload
};

struct RecorderOptions {
    std::string tapePath;
    bool appendToExisting = false;          // add the run to an existing tape
    std::string listenHost = "127.0.0.1";
    int listenPort = 0;                     // 0: an ephemeral port
    // Required when listenHost is not a loopback address. Clients then put it first in the
    // base URL's path: http://HOST:PORT/TOKEN/v1/...
    std::string authToken;
    Upstreams upstreams;
    std::vector<std::string> redactHeaders; // beyond the built-in secret headers
    std::vector<std::string> redactPatterns; // ECMAScript regular expressions
    formats::RunInfo run;                   // name, agent, command, cwd of the recorded run
    // A run per client session instead of one run (tapedeck proxy): the session a client
    // names in a header (Claude Code's x-claude-code-session-id, Codex's session_id, ...);
    // calls that name none are one session, split into runs by gaps of `sessionIdleSeconds`.
    // The runs are begun as their first calls arrive, each named after `run`.
    bool runPerSession = false;
    int64_t sessionIdleSeconds = 1800;
    int64_t upstreamTimeoutSeconds = 600;   // a whole exchange, streams included
    // Record into a new branch of a run of the existing tape instead of a new run.
    std::optional<ForkRecording> fork;
};

struct RecorderStats {
    int64_t runs = 0;           // runs begun
    int64_t exchanges = 0;      // requests answered (forwarded or failed)
    int64_t modelCalls = 0;
    int64_t toolCalls = 0;
    int64_t toolResults = 0;
    int64_t errors = 0;         // HTTP errors, dropped streams, unreachable upstreams
    int64_t threads = 0;
    int64_t stepsWritten = 0;
    int64_t inputTokens = 0;
    int64_t outputTokens = 0;
    int64_t pending = 0;        // finished exchanges not yet committed
    std::string writeError;     // the first failure to write the tape, empty when none
};

// Owns the HTTP server (its own threads), the writer thread and the tape's writer.
// start(), finish() and the destructor are called from one thread; stats() from any.
class Recorder {
public:
    // Opens (or creates) the tape, begins the run and starts listening. Errors: the tape
    // cannot be created or opened, the address cannot be bound, a non-loopback listen
    // address without an auth token, a redaction pattern that is not a valid regex.
    static formats::Result<std::unique_ptr<Recorder>> start(RecorderOptions options);
    ~Recorder(); // finish("interrupted") unless finished

    int port() const;
    std::string baseUrl() const; // "http://127.0.0.1:PORT", with the token path when set
    formats::RunId run() const; // the run begun at start; none (0) with runPerSession
    formats::BranchId branch() const; // the branch recorded into; none (0) with runPerSession
    const std::string &tapePath() const;

    // Stops listening, lets the exchanges in flight end, commits everything and ends the
    // run with `outcome`. Safe to call once; later calls return the first result.
    formats::Status finish(const std::string &outcome);

    RecorderStats stats() const;

    // Records an exchange that did not cross the proxy, as if it had: a fork's model call
    // whose answer was replaced, which `tapedeck fork` answered itself. From any thread.
    void recordAnswered(formats::WireExchange wire, int64_t startedUs, int64_t firstByteUs, int64_t endedUs);

private:
    struct Impl;
    explicit Recorder(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace tapedeck::recorder
