// Tool calls answered from a tape: the recorded results of one run's tool calls, handed out
// again to an agent (`tapedeck-agent --replay-tools`) or to an MCP client (`tapedeck mcp
// --replay`) instead of running the tools, so that a replayed run has no side effect.
//
// What a tape holds and where it comes from:
// - the agent's own tools: a tool_call step per call in a model's answer and, once the next
//   request carried its output, a tool_result step whose parent is that tool_call (the
//   recorder, recorder/src/stepbuilder.cpp); in the run's threads not labelled "mcp: ...";
// - an MCP server's tools: a tool_call and its tool_result per tools/call, and an mcp_call
//   step per tools/list, in the threads labelled "mcp: SERVER" (recorder/src/mcprecording.h),
//   with the exact JSON-RPC lines as the steps' wire bytes.
// A tool_call without a tool_result (the run ended first, the server never answered) is not
// a recorded result and cannot be replayed.
//
// Ownership and threads: a ToolReplay owns copies of the selected tool steps only (their
// names, arguments, outputs and, for MCP, the answer lines); no model call is decoded or
// kept, so its memory is that of the run's tool traffic. It does not keep the tape open.
// Not thread-safe: one owner calls take().
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::replayer {

// Which recorded tool calls to answer from.
struct ToolReplaySelection {
    enum class Source {
        Agent, // the agent's own tools: every thread of the run not labelled "mcp: ..."
        Mcp,   // one MCP server's tools: the threads labelled "mcp: SERVER"
    };
    Source source = Source::Agent;
    // nullopt: the run `tapedeck replay` is replaying when it started this process with the
    // same tape (TAPEDECK_REPLAY_TAPE, TAPEDECK_REPLAY_RUN), else the tape's last run.
    std::optional<formats::RunId> run;
    // The branch of the run (default: the one `tapedeck replay` replays, as with `run`, else
    // the run's original); a fork's branch answers with its ancestors' results up to its
    // fork point, then its own, which hold the results the fork edited.
    std::optional<formats::BranchId> branch;
    // Source::Mcp: the server's name as in its threads' label ("server-filesystem"); empty
    // picks the run's only server, and is an error when the run holds several.
    std::string server;
};

// One recorded tool result, with the call that asked for it.
struct RecordedToolResult {
    formats::StepIndex callStep;   // the tool_call
    formats::StepIndex resultStep; // its tool_result
    std::string tool;
    nlohmann::json arguments; // as recorded: normally an object
    std::string output;       // the tool_result's "output"
    bool isError = false;
    // MCP only: the server's JSON-RPC answer line as it crossed the pipe (empty otherwise).
    std::string answerLine;
};

class ToolReplay {
public:
    // Reads the selected run's tool steps from the tape at `path`. Errors: the tape cannot
    // be opened or read (its own error), no such run (NotFound), no or several MCP servers
    // where one must be picked (NotFound / InvalidArgument, naming those there are).
    static formats::Result<ToolReplay> load(const std::string &path,
                                            const ToolReplaySelection &selection);
    static formats::Result<ToolReplay> load(const formats::TapeReader &tape,
                                            const ToolReplaySelection &selection);

    // The next unused recorded result of `tool` whose recorded arguments equal `arguments`
    // (JSON equality: member order and number spelling do not matter), in recorded order;
    // it is used up. When there is none, a NotFound error whose message names the tool and
    // the arguments and says what was recorded for that tool: nothing, only calls already
    // answered, or the nearest recorded arguments (most equal members, then the longest
    // common beginning of their JSON text) and which members differ.
    formats::Result<RecordedToolResult> take(const std::string &tool,
                                             const nlohmann::json &arguments);

    // MCP: the next recorded tools/list answer line, in recorded order, the last one again
    // once all were handed out; nullopt when the server's listing was never recorded.
    std::optional<std::string> nextToolListLine();

    formats::RunId run() const { return m_run; }
    // What was selected, for messages: "the agent's tools in run 1 of FILE", "mcp: SERVER in
    // run 1 of FILE".
    const std::string &description() const { return m_description; }
    // The server's own serverInfo as recorded (MCP), else null.
    const nlohmann::json &serverInfo() const { return m_serverInfo; }
    size_t recordedCount() const { return m_results.size(); }
    size_t usedCount() const { return m_usedCount; }

private:
    ToolReplay() = default;
    std::string missMessage(const std::string &tool, const nlohmann::json &arguments) const;

    formats::RunId m_run;
    std::string m_description;
    nlohmann::json m_serverInfo;
    std::vector<RecordedToolResult> m_results; // in the order the calls were recorded
    std::vector<bool> m_used;                  // parallel to m_results
    size_t m_usedCount = 0;
    std::vector<std::string> m_toolListLines;
    size_t m_nextToolList = 0;
};

} // namespace tapedeck::replayer
