// The public boundary of tapedeck_agent: the reference agent, a tool-using loop that talks to
// a model API and runs the tools the model asks for. Nothing else in agent/harness/ is meant
// to be included from outside.
//
// One run is: send the task to the model (streamed, over HTTP through libcurl), print the
// answer as it arrives, run each tool call the answer holds (bash, read_file, write_file,
// edit_file, list_dir, todo) in the working directory, send the real results back, and
// repeat until the model answers without asking for a tool, a budget runs out, the user
// interrupts, or the API fails for good.
//
// Conventions:
// - runAgent() blocks until the run ends. It is not re-entrant: one run per thread, and the
//   bash tool forks, so run it from a process that expects children.
// - It never exits the process or throws on bad input; a configuration that cannot run
//   (a missing working directory, an empty task) is an Error, every other ending is a
//   RunSummary whose reason says why it stopped.
// - The model's text goes to AgentIo::out as it streams; progress lines (one per model call
//   and per tool call), compactions, retries and approval questions go to AgentIo::log.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <string>

namespace tapedeck::agent {

enum class ApiKind {
    OpenAI,    // Chat Completions, streamed: POST {base}/v1/chat/completions
    Anthropic, // Messages, streamed: POST {base}/v1/messages
};

// A tool call's result given without running the tool (tapedeck-agent --replay-tools: the
// result recorded on a tape).
struct ToolAnswer {
    std::string output;
    bool isError = false;
};
// Answers a tool call by the tool's name and its arguments (as the model sent them). An
// Error means there is no answer; its message says why, and the run stops
// (StopReason::NoToolAnswer).
using ToolAnswerer = std::function<formats::Result<ToolAnswer>(const std::string &tool,
                                                               const nlohmann::json &arguments)>;

// When the user is asked before a tool runs.
enum class ApprovalMode {
    Never,  // run every tool without asking
    Risky,  // ask before write_file, edit_file and bash
    Always, // ask before every tool
};

struct AgentConfig {
    ApiKind api = ApiKind::OpenAI;
    // The API's base URL, with or without a trailing "/v1" ("http://127.0.0.1:8080" and
    // "http://127.0.0.1:8080/v1" are the same endpoint).
    std::string baseUrl;
    // Sent as "Authorization: Bearer KEY" (OpenAI) or "x-api-key: KEY" (Anthropic); no
    // header at all when empty.
    std::string apiKey;
    std::string model;
    std::string systemPrompt;  // empty: defaultSystemPrompt()
    std::string task;          // the first user message
    std::string workdir = "."; // tools resolve relative paths against it; bash runs in it

    // Budgets; 0 means unlimited. A run that reaches one stops before its next model call.
    int64_t maxSteps = 0;      // model calls (compactions included)
    int64_t maxTokens = 0;     // input + output tokens over all model calls
    double maxWallSeconds = 0; // since the run started

    int64_t maxResponseTokens = 4096; // the max_tokens of each request
    int maxRetries = 4;               // per model call, on 429, 5xx and dropped connections
    double requestTimeoutSeconds = 600;

    double bashTimeoutSeconds = 120; // the command's process group is killed after this
    int64_t bashOutputCap = 30000;   // bytes of output kept (head and tail) per command

    ApprovalMode approve = ApprovalMode::Never;

    // When set, no tool runs: each call is answered by this, in the order the model asks,
    // and no approval is asked for (nothing would run). Called on the run's thread.
    ToolAnswerer answerTools;

    // Compaction: when the conversation's estimated size passes this many tokens, the
    // history is summarised by the model and replaced by the summary plus the latest turn.
    // 0 disables compaction.
    int64_t compactAtTokens = 0;

    // Counts the user's interrupts (SIGINT), written by a signal handler the caller owns.
    // 1: finish the model call or tool in progress, then stop. 2: stop now (the running
    // command's process group is killed, the model call is aborted). May be null.
    const std::atomic<int> *interrupts = nullptr;
};

// Where a run's output goes and where approval answers come from.
struct AgentIo {
    std::ostream &out; // the model's text
    std::ostream &log; // progress, questions, the summary
    int answersFd = 0; // approval answers are read from this descriptor
    // True when answersFd is a terminal: a question is asked until it is answered y or n.
    // Otherwise one line is read per question, and end of input denies.
    bool answersFromTerminal = false;
};

enum class StopReason {
    Finished,   // the model answered without a tool call
    ModelError, // the API failed (after retries) or answered something unreadable
    StepBudget,
    TokenBudget,
    WallBudget,
    Interrupted,
    NoToolAnswer, // AgentConfig::answerTools had no answer for a tool call
};
const char *stopReasonName(StopReason reason); // "finished", "model error", ...

// The process exit code a program should end with for each reason:
// 0 finished, 1 model/API error, 3 budget exhausted, 4 interrupted, 5 a tool call with no
// answer (2 is left to usage errors, which the caller detects before a run).
int exitCodeFor(StopReason reason);

struct RunSummary {
    StopReason reason = StopReason::Finished;
    std::string detail; // the reason in words, with the figures
    int64_t steps = 0;  // model calls, compactions included
    int64_t compactions = 0;
    int64_t retries = 0;                      // retried model calls
    std::map<std::string, int64_t> toolCalls; // by tool name
    int64_t toolErrors = 0;                   // results sent back as errors (denials included)
    formats::Usage usage;                     // summed over all model calls
    double wallSeconds = 0;
    std::string finalText; // the model's last answer
};

// The system prompt used when AgentConfig::systemPrompt is empty.
std::string defaultSystemPrompt();

// Runs the agent to its end. An Error means the run could not start (InvalidArgument, with
// the field and what was expected); everything after the start ends in a RunSummary.
formats::Result<RunSummary> runAgent(const AgentConfig &config, AgentIo &io);

// The end-of-run summary as printed: steps, tool calls by tool, errors, tokens, wall time
// and why the run stopped; several lines, each ending in '\n'.
std::string formatSummary(const RunSummary &summary);

} // namespace tapedeck::agent
