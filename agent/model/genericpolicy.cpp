#include "genericpolicy.h"

#include "compaction.h"
#include "schemaexample.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

namespace tapedeck::model {

using formats::Result;
using formats::wire::Message;
using formats::wire::Request;
using formats::wire::Role;
using formats::wire::StopReason;
using formats::wire::ToolCall;
using formats::wire::ToolSpec;
using nlohmann::json;

namespace {

constexpr size_t kQuotedOutputChars = 4000;

std::string lowered(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return text;
}

std::string trimmed(const std::string &text)
{
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos)
        return {};
    const size_t last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

std::string withoutSystemReminders(std::string text)
{
    static const std::string open = "<system-reminder>";
    static const std::string close = "</system-reminder>";
    for (size_t start = text.find(open); start != std::string::npos;
         start = text.find(open, start)) {
        const size_t end = text.find(close, start);
        text.erase(start,
                   end == std::string::npos ? std::string::npos : end + close.size() - start);
    }
    return text;
}

// How much a tool looks like a shell: 0 not at all, higher is better.
int shellScore(const ToolSpec &tool)
{
    static const std::array<const char *, 8> kExact = {"bash",         "shell",
                                                       "exec_command", "shell_command",
                                                       "run_command",  "run_shell_command",
                                                       "terminal",     "execute_command"};
    const std::string name = lowered(tool.name);
    if (std::find(kExact.begin(), kExact.end(), name) != kExact.end())
        return 2;
    const bool shellish =
        name.find("bash") != std::string::npos || name.find("shell") != std::string::npos;
    const bool sideTool =
        name.find("output") != std::string::npos || name.find("kill") != std::string::npos;
    return shellish && !sideTool ? 1 : 0;
}

const ToolSpec &chooseTool(const std::vector<ToolSpec> &tools)
{
    const ToolSpec *best = &tools.front();
    int bestScore = shellScore(*best);
    for (const ToolSpec &tool : tools) {
        const int score = shellScore(tool);
        if (score > bestScore) {
            best = &tool;
            bestScore = score;
        }
    }
    return *best;
}

// The property of a shell tool's schema that takes the command.
std::string commandProperty(const json &parameters)
{
    const json properties = parameters.value("properties", json::object());
    for (const char *name : {"command", "cmd", "script", "commands", "code"}) {
        if (properties.contains(name))
            return name;
    }
    for (const json &name : parameters.value("required", json::array())) {
        if (name.is_string() &&
            properties.value(name.get<std::string>(), json::object()).value("type", "") == "string")
            return name.get<std::string>();
    }
    return "command";
}

json shellArguments(const ToolSpec &tool, const std::string &command)
{
    json args = exampleForSchema(tool.parameters, ObjectFill::RequiredOnly);
    if (!args.is_object())
        args = json::object();
    const std::string property = commandProperty(tool.parameters);
    const json schema =
        tool.parameters.value("properties", json::object()).value(property, json::object());
    if (schema.value("type", "") == "array")
        args[property] = json::array({"bash", "-lc", command});
    else
        args[property] = command;
    return args;
}

const Message *lastUserMessage(const Request &request)
{
    for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
        if (it->role == Role::User)
            return &*it;
    }
    return nullptr;
}

// The last message, skipping user messages that hold nothing but client reminders (some
// clients append those after a tool result).
const Message *lastMeaningfulMessage(const Request &request)
{
    for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
        if (it->role != Role::User || !trimmed(withoutSystemReminders(it->text)).empty())
            return &*it;
    }
    return nullptr;
}

std::string toolNameFor(const Request &request, const Message &result)
{
    if (!result.toolName.empty())
        return result.toolName;
    for (const Message &m : request.messages) {
        for (const ToolCall &call : m.toolCalls) {
            if (call.id == result.toolCallId)
                return call.name;
        }
    }
    return "tool";
}

std::string quoteToolResult(const Request &request, const Message &result)
{
    std::string output = trimmed(result.text);
    if (output.size() > kQuotedOutputChars)
        output = output.substr(0, kQuotedOutputChars) + "...";
    std::string text = "The " + toolNameFor(request, result);
    text.append(result.isError ? " tool failed with: " : " tool returned: ");
    text.append(output.empty() ? std::string("(no output)") : output);
    return text;
}

Turn textTurn(std::string text)
{
    Turn turn;
    turn.response.text = std::move(text);
    turn.response.stopReason = StopReason::EndTurn;
    return turn;
}

} // namespace

std::string commandFromRequest(const std::string &userText)
{
    const std::string text = withoutSystemReminders(userText);
    static const std::regex backticked("`([^`\n]+)`");
    static const std::regex afterRun(R"((?:^|[^A-Za-z])[Rr]un\s+([^\n,;.!?]+))");
    std::smatch match;
    if (std::regex_search(text, match, backticked) && !trimmed(match[1].str()).empty())
        return trimmed(match[1].str());
    if (std::regex_search(text, match, afterRun)) {
        std::string command = match[1].str();
        const size_t conjunction = command.find(" and ");
        if (conjunction != std::string::npos)
            command.resize(conjunction);
        command = trimmed(command);
        if (!command.empty())
            return command;
    }
    return "echo hello";
}

Result<Turn> GenericPolicy::answer(const Request &request)
{
    if (isCompactionRequest(request))
        return textTurn(writeSummary(request));

    const bool wantsJson = !request.responseSchema.is_null();
    const Message *last = lastMeaningfulMessage(request);
    const bool afterToolResult = last && last->role == Role::Tool;

    if (!afterToolResult && !request.tools.empty()) {
        const ToolSpec &tool = chooseTool(request.tools);
        Turn turn;
        ToolCall call;
        call.name = tool.name;
        if (shellScore(tool) > 0) {
            const Message *user = lastUserMessage(request);
            call.arguments =
                shellArguments(tool, commandFromRequest(user ? user->text : std::string()));
        } else {
            call.arguments = exampleForSchema(tool.parameters, ObjectFill::RequiredOnly);
            if (!call.arguments.is_object())
                call.arguments = json::object();
        }
        turn.response.toolCalls.push_back(std::move(call));
        turn.response.stopReason = StopReason::ToolUse;
        return turn;
    }

    if (wantsJson)
        return textTurn(exampleForSchema(request.responseSchema, ObjectFill::AllProperties).dump());
    if (afterToolResult)
        return textTurn(quoteToolResult(request, *last));

    const Message *user = lastUserMessage(request);
    std::string asked = user ? trimmed(withoutSystemReminders(user->text)) : std::string();
    if (asked.size() > 200)
        asked = asked.substr(0, 200) + "...";
    return textTurn("This is tapedeck-model's generic answer to: " +
                    (asked.empty() ? "(an empty request)" : asked));
}

} // namespace tapedeck::model
