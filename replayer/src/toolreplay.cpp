#include <tapedeck/replayer/toolreplay.h>

#include <tapedeck/replayer/branchlineage.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

namespace tapedeck::replayer {

using formats::Error;
using formats::ErrorCode;
using formats::Result;
using formats::StepIndex;
using formats::StepKind;
using nlohmann::json;

namespace {

constexpr const char *kMcpLabelPrefix = "mcp: ";
// Summaries are read this many at a time: the walk's memory does not grow with the tape.
constexpr int64_t kSummaryPage = 1024;
// Arguments quoted in a miss are cut to this many characters.
constexpr size_t kQuotedArguments = 300;

bool isMcpLabel(const std::string &label)
{
    return label.rfind(kMcpLabelPrefix, 0) == 0;
}

// JSON for messages: never throws, whatever the strings hold; long values cut.
std::string quoted(const json &value)
{
    std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > kQuotedArguments)
        text = text.substr(0, kQuotedArguments) + "...";
    return text;
}

std::string joined(const std::vector<std::string> &items)
{
    std::string out;
    for (const std::string &item : items)
        out.append(out.empty() ? "" : ", ").append(item);
    return out;
}

// How alike two argument values are, for naming the nearest recorded call: first the
// number of members with equal values (objects; 1 for equal non-objects), then the length
// of the common beginning of their JSON text, which ranks "ls -la" nearer to "ls -l" than
// to "pwd".
std::pair<size_t, size_t> likeness(const json &recorded, const json &incoming)
{
    size_t equalMembers = 0;
    if (recorded.is_object() && incoming.is_object()) {
        for (const auto &[name, value] : recorded.items())
            if (incoming.contains(name) && incoming[name] == value)
                ++equalMembers;
    } else if (recorded == incoming) {
        equalMembers = 1;
    }
    const std::string a = recorded.dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string b = incoming.dump(-1, ' ', false, json::error_handler_t::replace);
    const size_t common = static_cast<size_t>(
        std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin());
    return {equalMembers, common};
}

// The members in which two argument objects differ ("path, offset"), or "the whole
// arguments" when they are not both objects.
std::string differingMembers(const json &recorded, const json &incoming)
{
    if (!recorded.is_object() || !incoming.is_object())
        return "the whole arguments";
    std::set<std::string> names;
    for (const auto &[name, value] : recorded.items())
        if (!incoming.contains(name) || incoming[name] != value)
            names.insert(name);
    for (const auto &[name, value] : incoming.items())
        if (!recorded.contains(name))
            names.insert(name);
    return joined(std::vector<std::string>(names.begin(), names.end()));
}

// The JSON-RPC answer line of an MCP step, when it is one a client can be given again.
bool isJsonRpcAnswer(const std::string &line)
{
    const json message = json::parse(line, nullptr, false);
    return message.is_object() && (message.contains("result") || message.contains("error"));
}

struct PickedThreads {
    std::set<formats::ThreadId> threads;
    std::string description;
};

// The threads of `branch` whose tool steps are to be answered from.
Result<PickedThreads> pickThreads(const std::vector<formats::ThreadInfo> &all,
                                  const BranchLineage &lineage, formats::RunId run,
                                  const std::string &tapePath, const ToolReplaySelection &selection)
{
    PickedThreads picked;
    const std::string runName = "run " + std::to_string(run.value) + " of " + tapePath;
    if (selection.source == ToolReplaySelection::Source::Agent) {
        for (const formats::ThreadInfo &thread : all)
            if (lineage.includes(thread.branch) && !isMcpLabel(thread.label))
                picked.threads.insert(thread.id);
        picked.description = "the agent's tools in " + runName;
        return picked;
    }
    std::set<std::string> servers;
    for (const formats::ThreadInfo &thread : all)
        if (lineage.includes(thread.branch) && isMcpLabel(thread.label))
            servers.insert(thread.label.substr(std::char_traits<char>::length(kMcpLabelPrefix)));
    const std::vector<std::string> names(servers.begin(), servers.end());
    std::string server = selection.server;
    if (server.empty()) {
        if (names.empty())
            return Error{ErrorCode::NotFound,
                         runName + " recorded no MCP server (no thread labelled \"mcp: ...\")"};
        if (names.size() > 1) {
            const std::string listed = joined(names);
            return Error{ErrorCode::InvalidArgument,
                         runName + " recorded several MCP servers (" + listed + "): name one"};
        }
        server = names.front();
    } else if (!servers.count(server)) {
        return Error{ErrorCode::NotFound,
                     runName + " recorded no MCP server named \"" + server + "\" (" +
                         (names.empty() ? "it recorded none" : "it recorded: " + joined(names)) +
                         ")"};
    }
    for (const formats::ThreadInfo &thread : all)
        if (lineage.includes(thread.branch) && thread.label == kMcpLabelPrefix + server)
            picked.threads.insert(thread.id);
    picked.description = kMcpLabelPrefix + server + " in " + runName;
    return picked;
}

} // namespace

Result<ToolReplay> ToolReplay::load(const std::string &path, const ToolReplaySelection &selection)
{
    Result<std::unique_ptr<formats::TapeReader>> tape = formats::TapeReader::open(path);
    if (!tape)
        return tape.error();
    // Under `tapedeck replay` of this same tape, the tools come from the run it replays.
    ToolReplaySelection chosen = selection;
    const char *replayTape = std::getenv("TAPEDECK_REPLAY_TAPE");
    const char *replayRun = std::getenv("TAPEDECK_REPLAY_RUN");
    const char *replayBranch = std::getenv("TAPEDECK_REPLAY_BRANCH");
    std::error_code ignored;
    if (!chosen.run && replayTape && replayRun && std::filesystem::equivalent(replayTape, path, ignored)) {
        chosen.run = formats::RunId(std::atoll(replayRun));
        if (!chosen.branch && replayBranch)
            chosen.branch = formats::BranchId(std::atoll(replayBranch));
    }
    return load(**tape, chosen);
}

Result<ToolReplay> ToolReplay::load(const formats::TapeReader &tape,
                                    const ToolReplaySelection &selection)
{
    Result<std::vector<formats::RunInfo>> runs = tape.runs();
    if (!runs)
        return runs.error();
    if (runs->empty())
        return Error{ErrorCode::NotFound, tape.path() + " holds no run"};
    formats::RunId run = runs->back().id;
    if (selection.run) {
        const bool known = std::any_of(runs->begin(), runs->end(), [&](const formats::RunInfo &r) {
            return r.id == *selection.run;
        });
        if (!known) {
            const std::string holds = std::to_string(runs->size()) + " run" +
                                      (runs->size() == 1 ? "" : "s") + ", the last is run " +
                                      std::to_string(runs->back().id.value);
            return Error{ErrorCode::NotFound, tape.path() + " has no run " +
                                                  std::to_string(selection.run->value) +
                                                  " (it holds " + holds + ")"};
        }
        run = *selection.run;
    }

    // The branch's steps: its ancestors' up to its fork point, then its own.
    Result<BranchLineage> lineage = BranchLineage::resolve(tape, run, selection.branch);
    if (!lineage)
        return lineage.error();
    Result<std::vector<formats::ThreadInfo>> threads = tape.threads();
    if (!threads)
        return threads.error();
    Result<PickedThreads> picked = pickThreads(*threads, *lineage, run, tape.path(), selection);
    if (!picked)
        return picked.error();

    ToolReplay replay;
    replay.m_run = run;
    replay.m_description = picked->description;
    const bool mcp = selection.source == ToolReplaySelection::Source::Mcp;

    // Tool calls waiting for their result, by step index. Only the summary of every other
    // step is read; tool steps alone are decoded.
    std::map<int64_t, std::pair<std::string, json>> openCalls;
    const int64_t last = tape.stepCount();
    for (int64_t first = 1; first <= last; first += kSummaryPage) {
        Result<std::vector<formats::StepSummary>> page =
            tape.stepSummaries(StepIndex(first), kSummaryPage);
        if (!page)
            return page.error();
        for (const formats::StepSummary &summary : *page) {
            if (!lineage->holds(summary) || !picked->threads.count(summary.thread))
                continue;
            const bool listing = summary.kind == StepKind::McpCall && summary.name == "tools/list";
            if (summary.kind != StepKind::ToolCall && summary.kind != StepKind::ToolResult &&
                !listing)
                continue;
            Result<formats::Step> step = tape.step(summary.index);
            if (!step)
                return step.error();
            if (listing) {
                if (step->wire && isJsonRpcAnswer(step->wire->responseBody))
                    replay.m_toolListLines.push_back(std::move(step->wire->responseBody));
                if (step->payload.contains("server_info"))
                    replay.m_serverInfo = step->payload["server_info"];
                continue;
            }
            if (summary.kind == StepKind::ToolCall) {
                openCalls[summary.index.value] = {summary.name, std::move(step->payload)};
                continue;
            }
            if (!step->parent || step->status == formats::StepStatus::Cancelled)
                continue; // no call to answer, or no answer to give
            const auto call = openCalls.find(step->parent->value);
            if (call == openCalls.end())
                continue;
            RecordedToolResult result;
            result.callStep = *step->parent;
            result.resultStep = summary.index;
            result.tool = std::move(call->second.first);
            result.arguments = std::move(call->second.second);
            openCalls.erase(call);
            const json &payload = step->payload;
            if (payload.is_object() && payload.contains("output") && payload["output"].is_string())
                result.output = payload["output"].get<std::string>();
            result.isError = payload.is_object() && payload.value("is_error", false);
            if (mcp) {
                if (!step->wire || !isJsonRpcAnswer(step->wire->responseBody))
                    continue; // the server's answer was not JSON-RPC: nothing to hand out
                result.answerLine = std::move(step->wire->responseBody);
            }
            replay.m_results.push_back(std::move(result));
        }
    }
    // Results come in the order the tools finished; calls are answered in the order asked.
    std::stable_sort(replay.m_results.begin(), replay.m_results.end(),
                     [](const RecordedToolResult &a, const RecordedToolResult &b) {
                         return a.callStep < b.callStep;
                     });
    replay.m_used.assign(replay.m_results.size(), false);
    return replay;
}

Result<RecordedToolResult> ToolReplay::take(const std::string &tool, const json &arguments)
{
    for (size_t k = 0; k < m_results.size(); ++k) {
        if (m_used[k] || m_results[k].tool != tool || m_results[k].arguments != arguments)
            continue;
        m_used[k] = true;
        ++m_usedCount;
        return m_results[k];
    }
    return Error{ErrorCode::NotFound, missMessage(tool, arguments)};
}

std::optional<std::string> ToolReplay::nextToolListLine()
{
    if (m_toolListLines.empty())
        return std::nullopt;
    const size_t at = std::min(m_nextToolList, m_toolListLines.size() - 1);
    m_nextToolList = at + 1;
    return m_toolListLines[at];
}

std::string ToolReplay::missMessage(const std::string &tool, const json &arguments) const
{
    std::string message = "tool " + tool + " was not recorded with the arguments " +
                          quoted(arguments) + " (" + m_description + ")";
    const RecordedToolResult *nearest = nullptr;
    std::pair<size_t, size_t> best{0, 0};
    size_t ofTool = 0;
    size_t equalButUsed = 0;
    std::map<std::string, size_t> byTool;
    for (const RecordedToolResult &result : m_results) {
        ++byTool[result.tool];
        if (result.tool != tool)
            continue;
        ++ofTool;
        if (result.arguments == arguments) {
            ++equalButUsed; // take() found no unused one, so this one was used
            continue;
        }
        const std::pair<size_t, size_t> alike = likeness(result.arguments, arguments);
        if (!nearest || alike > best) {
            nearest = &result;
            best = alike;
        }
    }
    if (ofTool == 0) {
        std::vector<std::string> recorded;
        for (const auto &[name, count] : byTool)
            recorded.push_back(name + " x" + std::to_string(count));
        return message + "; no call of " + tool + " was recorded" +
               (recorded.empty() ? "; no tool call was recorded at all"
                                 : "; recorded tools: " + joined(recorded));
    }
    message += "; " + std::to_string(ofTool) + " call" + (ofTool == 1 ? "" : "s") + " of " + tool +
               " recorded";
    if (equalButUsed > 0)
        message += "; " + std::to_string(equalButUsed) +
                   " with these arguments, answered already (each recorded result is given once)";
    if (nearest)
        message += "; nearest recorded arguments (step " + std::to_string(nearest->callStep.value) +
                   "): " + quoted(nearest->arguments) +
                   ", which differ in: " + differingMembers(nearest->arguments, arguments);
    return message;
}

} // namespace tapedeck::replayer
