// mini-swe-agent trajectories (*.traj.json), formats "mini-swe-agent-1" (v1) and
// "mini-swe-agent-1.1" (v2). One JSON object per trajectory:
// - "info": exit_status, submission, model_stats (instance_cost, api_calls), mini_version,
//   config (agent; model with model_name; environment with cwd; their class names);
// - "messages": the conversation in OpenAI Chat form. Each message may carry an "extra" of
//   mini-swe-agent's own: on assistant messages the model's raw response (model, usage,
//   created), the call's cost and when the answer came ("timestamp"); on observations the
//   return code, the raw output and when the command ended. v1 keeps only role and
//   content, and the raw response on assistant messages. v2 ends with an "exit" message;
// - "trajectory_format", "instance_id" (written last).
// A file holds one trajectory (pretty-printed), or several, one compact document a line.
//
// Each assistant message is a model call. The command it ran is a "bash" tool call: its
// tool_calls when the model called the tool (v2's default), else the commands extra.actions
// names, else the one ```bash (v2: ```mswea_bash_command) block of its text, which is what
// v1 runs. The message that carries the output (a tool message, or the user message after
// a text command) is the result; a return code other than 0 makes it an error. "extra" is
// left out of the messages: it never went to the model.
#include "chattranscript.h"
#include "formatimporters.h"
#include "lenientjson.h"
#include "trajectoryjson.h"

#include <cctype>
#include <deque>
#include <filesystem>

namespace tapedeck::formats::import {

using nlohmann::json;

namespace {

std::string trimmed(std::string_view text)
{
    const size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos)
        return {};
    const size_t end = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(start, end - start + 1));
}

// The command of a text-based answer: the one fenced bash block, as mini-swe-agent's
// action regex ("```bash\s*\n(.*?)\n```") finds it; nothing when there are none or
// several (the agent answers those with a format error and runs nothing).
std::optional<std::string> fencedCommand(std::string_view text)
{
    std::vector<std::string> found;
    for (std::string_view fence :
         {std::string_view("```bash"), std::string_view("```mswea_bash_command")}) {
        size_t at = 0;
        while ((at = text.find(fence, at)) != std::string_view::npos) {
            size_t bodyStart = at + fence.size();
            size_t newline = std::string_view::npos;
            while (bodyStart < text.size() &&
                   std::isspace(static_cast<unsigned char>(text[bodyStart]))) {
                if (text[bodyStart] == '\n' && newline == std::string_view::npos)
                    newline = bodyStart;
                ++bodyStart;
            }
            if (newline == std::string_view::npos) {
                at = bodyStart;
                continue;
            }
            const size_t close = text.find("\n```", newline + 1);
            if (close == std::string_view::npos)
                break;
            found.push_back(trimmed(text.substr(newline + 1, close - newline - 1)));
            at = close + 4;
        }
    }
    if (found.size() != 1)
        return std::nullopt;
    return found.front();
}

// The return code an observation reports: extra.returncode (a number, or digits in a
// string), else the <returncode> tag of its text.
std::optional<int64_t> returnCode(const json *extra, const std::string &text)
{
    if (const json *code = extra ? member(*extra, "returncode") : nullptr) {
        if (code->is_number())
            return integerMember(*extra, "returncode");
        if (code->is_string()) {
            const json parsed = json::parse(code->get<std::string>(), nullptr, false);
            if (parsed.is_number_integer())
                return parsed.get<int64_t>();
        }
    }
    const size_t open = text.find("<returncode>");
    if (open == std::string::npos)
        return std::nullopt;
    const size_t start = open + 12;
    const size_t close = text.find("</returncode>", start);
    if (close == std::string::npos)
        return std::nullopt;
    const json parsed = json::parse(text.substr(start, close - start), nullptr, false);
    if (!parsed.is_number_integer())
        return std::nullopt;
    return parsed.get<int64_t>();
}

bool failed(const json *extra, const std::string &text)
{
    if (extra && !stringMember(*extra, "exception_info").empty())
        return true;
    const auto code = returnCode(extra, text);
    return code && *code != 0;
}

const json *configPart(const json *info, const char *part)
{
    const json *config = info ? member(*info, "config") : nullptr;
    return config ? member(*config, part) : nullptr;
}

// When the run began: the first time any message gives.
int64_t firstTime(const json &messages)
{
    for (const json &message : messages) {
        const json *extra = member(message, "extra");
        if (!extra)
            continue;
        const json *response = member(*extra, "response");
        if (int64_t t = response ? epochTime(member(*response, "created")) : 0)
            return t;
        if (int64_t t = epochTime(member(*extra, "timestamp")))
            return t;
    }
    return 0;
}

std::string fileStem(const std::string &sourceName)
{
    std::string name = std::filesystem::path(sourceName).filename().string();
    for (const char *suffix : {".json", ".traj"}) {
        const std::string_view s(suffix);
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
            name.resize(name.size() - s.size());
    }
    return name;
}

// One trajectory: a run.
class MiniSweRun {
public:
    MiniSweRun(TrajectoryBuilder &builder, int64_t line) : m_builder(builder), m_line(line) {}

    Status import(json &doc, const std::string &fallbackName)
    {
        json &messages = doc["messages"];
        const json *info = member(doc, "info");
        const json *model = configPart(info, "model");
        const std::string defaultModel = model ? stringMember(*model, "model_name") : std::string();
        RunInfo run = runInfo(doc, info, fallbackName);
        run.startedUs = firstTime(messages);
        if (!defaultModel.empty())
            run.labels["model"] = defaultModel;
        auto started = m_builder.beginRun(run);
        if (!started)
            return started.error();
        m_transcript.emplace(m_builder, m_builder.mainThread(), defaultModel);
        size_t position = 0;
        for (json &message : messages) {
            ++position;
            if (!message.is_object() || !member(message, "role")) {
                m_builder.skip(m_line, "message " + std::to_string(position) +
                                           ": not a message with a role");
                continue;
            }
            if (Status s = add(std::move(message)); !s)
                return s;
        }
        return m_builder.endRun(run.outcome);
    }

private:
    static RunInfo runInfo(const json &doc, const json *info, const std::string &fallbackName)
    {
        RunInfo run;
        run.agent = "mini-swe-agent";
        const std::string instance = stringMember(doc, "instance_id");
        run.name = instance.empty() ? fallbackName : instance;
        if (!instance.empty())
            run.labels["instance_id"] = instance;
        if (const std::string format = stringMember(doc, "trajectory_format"); !format.empty())
            run.labels["trajectory_format"] = format;
        if (const json *environment = configPart(info, "environment"))
            run.cwd = stringMember(*environment, "cwd");
        if (!info)
            return run;
        run.outcome = stringMember(*info, "exit_status");
        for (const char *key : {"exit_status", "mini_version"}) {
            if (const std::string value = stringMember(*info, key); !value.empty())
                run.labels[key] = value;
        }
        if (const json *config = member(*info, "config")) {
            if (const std::string agentType = stringMember(*config, "agent_type");
                !agentType.empty())
                run.labels["agent_type"] = agentType;
        }
        if (const json *stats = member(*info, "model_stats")) {
            for (const char *key : {"instance_cost", "api_calls"}) {
                if (const json *value = member(*stats, key); value && value->is_number())
                    run.labels[key] = *value;
            }
        }
        return run;
    }

    Status add(json message)
    {
        json extra;
        if (auto it = message.find("extra"); it != message.end()) {
            extra = std::move(*it);
            message.erase(it);
        }
        const json *extraInfo = extra.is_object() ? &extra : nullptr;
        const std::string role = stringMember(message, "role");
        if (role == "exit") {
            // v2's record of how the run ended (exit_status, submission in its extra).
            message["extra"] = std::move(extra);
            Step note;
            note.kind = StepKind::Annotation;
            note.name = "exit";
            note.payload = std::move(message);
            auto index = m_builder.add(std::move(note));
            return index ? Status() : Status(index.error());
        }
        if (role == "assistant")
            return answer(std::move(message), extraInfo);
        if (role == "tool" || (role == "user" && !m_waiting.empty()))
            return observation(std::move(message), extraInfo, role == "tool");
        auto added = m_transcript->add(std::move(message));
        return added ? Status() : Status(added.error());
    }

    Status answer(json message, const json *extra)
    {
        const json *response = extra ? member(*extra, "response") : nullptr;
        MessageDetails details;
        if (response) {
            details.model = stringMember(*response, "model");
            if (const json *usage = member(*response, "usage"))
                details.usage = chatCompletionUsage(*usage);
        }
        if (extra)
            details.costUsd = numberMember(*extra, "cost");
        details.endedUs = extra ? epochTime(member(*extra, "timestamp")) : 0;
        if (!details.endedUs)
            details.endedUs = epochTime(member(message, "timestamp"));
        // The call was made when the previous message was complete; the provider's
        // "created" (whole seconds) is the best there is for the first one.
        details.startedUs =
            m_lastEndUs ? m_lastEndUs : (response ? epochTime(member(*response, "created")) : 0);
        if (details.endedUs && details.startedUs > details.endedUs)
            details.startedUs = details.endedUs;

        std::vector<std::string> commands;
        const json *toolCalls = arrayMember(message, "tool_calls");
        if (!toolCalls || toolCalls->empty())
            commands = textCommands(message, extra);
        auto call = m_transcript->add(std::move(message), details);
        if (!call)
            return call.error();
        // Commands that got no output by the next answer (a format error, an interruption)
        // stay without a result.
        m_waiting.clear();
        for (const std::string &command : commands) {
            const std::string id = "call-" + std::to_string(++m_madeUpIds);
            auto step = m_builder.addToolCall(m_builder.mainThread(), "bash", id,
                                              json{{"command", command}}, *call, details.endedUs);
            if (!step)
                return step.error();
            m_waiting.push_back(id);
        }
        m_answeredUs = details.endedUs;
        if (details.endedUs)
            m_lastEndUs = details.endedUs;
        return {};
    }

    static std::vector<std::string> textCommands(const json &message, const json *extra)
    {
        std::vector<std::string> commands;
        if (const json *actions = extra ? arrayMember(*extra, "actions") : nullptr) {
            for (const json &action : *actions) {
                if (std::string command = stringMember(action, "command"); !command.empty())
                    commands.push_back(std::move(command));
            }
            return commands;
        }
        const json *content = member(message, "content");
        if (auto command = fencedCommand(content ? contentText(*content) : std::string()))
            commands.push_back(std::move(*command));
        return commands;
    }

    Status observation(json message, const json *extra, bool toolMessage)
    {
        const json *content = member(message, "content");
        const std::string text = content ? contentText(*content) : std::string();
        MessageDetails details;
        details.isError = failed(extra, text);
        details.startedUs = m_answeredUs;
        details.endedUs = extra ? epochTime(member(*extra, "timestamp")) : 0;
        if (details.endedUs)
            m_lastEndUs = details.endedUs;
        if (toolMessage) {
            auto added = m_transcript->add(std::move(message), details);
            return added ? Status() : Status(added.error());
        }
        // The output of a text command: a user message to the model, the result of the
        // command waiting longest.
        const std::string id = m_waiting.front();
        m_waiting.pop_front();
        auto added = m_transcript->add(std::move(message), details);
        if (!added)
            return added.error();
        auto result = m_builder.addToolResult(m_builder.mainThread(), id, {}, text, details.isError,
                                              details.startedUs, details.endedUs);
        return result ? Status() : Status(result.error());
    }

    TrajectoryBuilder &m_builder;
    int64_t m_line;
    std::optional<ChatTranscript> m_transcript;
    std::deque<std::string> m_waiting; // call ids of text commands whose output is to come
    int64_t m_madeUpIds = 0;
    int64_t m_lastEndUs = 0;  // when the last message with a time was complete
    int64_t m_answeredUs = 0; // when the last answer came: its commands started then
};

bool isTrajectory(const json &value)
{
    return arrayMember(value, "messages") != nullptr;
}

const char *kExpected =
    "expected a mini-swe-agent trajectory: an object with \"info\" and \"messages\"";

// One pretty-printed trajectory, read so that a damaged file keeps its complete messages.
Status importDocument(ImportSource &source, TrajectoryBuilder &builder)
{
    auto doc = readObjectSalvaging(source);
    if (!doc)
        return doc.error();
    const json *messages = arrayMember(doc->value, "messages");
    if (!messages || messages->empty())
        return source.parseError(0, std::string(kExpected) +
                                        (doc->problem.empty() ? "" : "; " + doc->problem));
    MiniSweRun run(builder, 0);
    if (Status s = run.import(doc->value, fileStem(source.name())); !s)
        return s;
    if (!doc->problem.empty())
        builder.skip(0, doc->problem);
    return {};
}

// Several trajectories, one a line.
Status importLines(ImportSource &source, TrajectoryBuilder &builder)
{
    LineReader lines(source);
    std::string_view line;
    int64_t runs = 0;
    int64_t firstBad = 0;
    std::string firstProblem;
    while (lines.next(line)) {
        std::string problem;
        json value = lines.parseLine(line, problem);
        if (!value.is_discarded() && !isTrajectory(value))
            problem = kExpected;
        if (!problem.empty()) {
            if (!firstBad) {
                firstBad = lines.lineNumber();
                firstProblem = problem;
            }
            builder.skip(lines.lineNumber(), problem);
            continue;
        }
        MiniSweRun run(builder, lines.lineNumber());
        const std::string name =
            fileStem(source.name()) + " line " + std::to_string(lines.lineNumber());
        if (Status s = run.import(value, name); !s)
            return s;
        ++runs;
    }
    if (runs == 0)
        return source.parseError(firstBad, firstBad ? firstProblem : "the file is empty");
    return {};
}

} // namespace

bool looksLikeMiniSweAgent(const Sniff &sniff)
{
    if (sniff.firstChar != '{')
        return false;
    const std::string_view head = sniff.head;
    // The format names itself, but last: a large trajectory's head ends long before.
    if (const size_t format = findJsonKey(head, "trajectory_format");
        format != std::string_view::npos)
        return head.compare(format, 15, "\"mini-swe-agent") == 0;
    // mini-swe-agent writes "info" first, and in it its version or its class names.
    const size_t open = head.find('{');
    const size_t first = head.find_first_not_of(" \t\r\n", open + 1);
    if (first == std::string_view::npos || head.compare(first, 6, "\"info\"") != 0)
        return false;
    const size_t agentType = findJsonKey(head, "agent_type");
    return hasJsonKey(head, "mini_version") ||
           (agentType != std::string_view::npos &&
            head.compare(agentType, 14, "\"minisweagent.") == 0);
}

Status importMiniSweAgent(ImportSource &source, TrajectoryBuilder &builder)
{
    // A pretty-printed document opens with "{" alone on its first line; anything else is
    // read as one trajectory a line.
    std::istream &in = source.stream();
    std::string first;
    while (std::getline(in, first) && trimmed(first).empty()) {
    }
    const bool document = trimmed(first) == "{";
    in.clear();
    in.seekg(0);
    return document ? importDocument(source, builder) : importLines(source, builder);
}

} // namespace tapedeck::formats::import
