#include "mcprecording.h"

namespace tapedeck::recorder {

using formats::Step;
using formats::StepKind;
using formats::StepStatus;
using nlohmann::json;

namespace {

// A reported line as its JSON-RPC message; null when it does not parse (the relay reports
// only lines that do, but redaction may have cut through one).
json parseMessage(const std::optional<std::string> &line)
{
    if (!line)
        return nullptr;
    json message = json::parse(*line, nullptr, false);
    return message.is_object() ? message : json(nullptr);
}

json member(const json &object, const char *name)
{
    return object.is_object() && object.contains(name) ? object[name] : json(nullptr);
}

std::string idText(const json &id)
{
    return id.is_string() ? id.get<std::string>() : id.is_null() ? std::string() : id.dump();
}

// What a tool's result says, as text: its text items in order; other items by what they are.
std::string resultText(const json &result)
{
    std::string text;
    const json content = member(result, "content");
    if (!content.is_array())
        return text;
    for (const json &item : content) {
        const std::string type =
            member(item, "type").is_string() ? item["type"].get<std::string>() : "";
        std::string piece;
        if (type == "text" && member(item, "text").is_string()) {
            piece = item["text"].get<std::string>();
        } else if (type == "resource" && member(member(item, "resource"), "text").is_string()) {
            piece = item["resource"]["text"].get<std::string>();
        } else {
            const json what = member(item, "uri").is_string() ? item["uri"]
                              : member(member(item, "resource"), "uri").is_string()
                                  ? item["resource"]["uri"]
                                  : member(item, "mimeType");
            piece = "[" + (type.empty() ? std::string("content") : type) +
                    (what.is_string() ? " " + what.get<std::string>() : std::string()) + "]";
        }
        if (!text.empty())
            text += "\n";
        text += piece;
    }
    return text;
}

formats::WireExchange wireOf(const McpCall &call)
{
    formats::WireExchange wire;
    wire.method = call.method;
    wire.url = "stdio";
    wire.requestBody = call.request;
    wire.responseBody = call.response.value_or("");
    return wire;
}

StepStatus statusOf(const McpCall &call, const json &response, bool isError)
{
    if (!call.response)
        return StepStatus::Cancelled;
    return isError || response.is_null() ? StepStatus::Error : StepStatus::Ok;
}

Step buildProtocolCall(const McpCall &call, const json &request, const json &response)
{
    Step step;
    step.kind = StepKind::McpCall;
    step.name = call.method;
    step.startedUs = call.requestUs;
    step.endedUs = call.responseUs;
    step.payload = json{{"server", call.server}, {"method", call.method}};
    if (const json params = member(request, "params"); !params.is_null())
        step.payload["params"] = params;
    if (!call.serverInfo.is_null())
        step.payload["server_info"] = call.serverInfo;
    const json error = member(response, "error");
    if (!error.is_null())
        step.payload["error"] = error;
    else if (!response.is_null())
        step.payload["result"] = member(response, "result");
    else if (call.response)
        step.payload["problem"] = "the answer is not a JSON-RPC message";
    else
        step.payload["problem"] = "the server ended before answering";
    step.status = statusOf(call, response, !error.is_null());
    step.wire = wireOf(call);
    return step;
}

Step buildToolCall(const McpCall &call, const json &request)
{
    const json params = member(request, "params");
    Step step;
    step.kind = StepKind::ToolCall;
    step.startedUs = step.endedUs = call.requestUs;
    step.name = member(params, "name").is_string() ? params["name"].get<std::string>() : "";
    step.callId = idText(member(request, "id"));
    const json arguments = member(params, "arguments");
    step.payload = arguments.is_null() ? json::object() : arguments;
    return step;
}

Step buildToolResult(const McpCall &call, const Step &toolCall, const json &response)
{
    Step step;
    step.kind = StepKind::ToolResult;
    step.name = toolCall.name;
    step.callId = toolCall.callId;
    step.startedUs = call.requestUs;
    step.endedUs = call.responseUs;
    const json error = member(response, "error");
    const json result = member(response, "result");
    const bool isError = !error.is_null() || member(result, "isError") == json(true);
    std::string output = resultText(result);
    if (!error.is_null() && member(error, "message").is_string())
        output = error["message"].get<std::string>();
    step.payload = json{{"output", output}, {"is_error", isError}};
    if (!error.is_null())
        step.payload["error"] = error;
    if (!call.response)
        step.payload["problem"] = "the server ended before answering";
    else if (response.is_null())
        step.payload["problem"] = "the answer is not a JSON-RPC message";
    step.status = statusOf(call, response, isError);
    step.wire = wireOf(call);
    return step;
}

} // namespace

formats::Result<formats::ThreadId> McpRecording::threadFor(const McpCall &call,
                                                           formats::TapeWriter &writer)
{
    if (auto known = m_threads.find(call.session); known != m_threads.end())
        return known->second;
    formats::ThreadInfo info;
    info.branch = m_branch;
    info.label = "mcp: " + call.server;
    info.startedUs = call.requestUs;
    formats::Result<formats::ThreadId> added = writer.addThread(info);
    if (added)
        m_threads.emplace(call.session, *added);
    return added;
}

formats::Result<McpRecording::Written> McpRecording::record(const McpCall &call,
                                                            formats::TapeWriter &writer)
{
    formats::Result<formats::ThreadId> thread = threadFor(call, writer);
    if (!thread)
        return thread.error();
    const json request = parseMessage(call.request);
    const json response = parseMessage(call.response);
    Written written;

    if (call.method != "tools/call") {
        Step step = buildProtocolCall(call, request, response);
        step.thread = *thread;
        if (formats::Result<formats::StepIndex> index = writer.append(step); !index)
            return index.error();
        written.steps = 1;
        return written;
    }

    // The result names its call as its parent, so the call is committed first.
    Step toolCall = buildToolCall(call, request);
    toolCall.thread = *thread;
    formats::Result<formats::StepIndex> callIndex = writer.append(toolCall);
    if (!callIndex)
        return callIndex.error();
    written.steps = written.toolCalls = 1;

    Step result = buildToolResult(call, toolCall, response);
    result.thread = *thread;
    result.parent = *callIndex;
    if (formats::Result<formats::StepIndex> resultIndex = writer.append(result); !resultIndex)
        return resultIndex.error();
    written.steps = 2;
    written.toolResults = 1;
    return written;
}

} // namespace tapedeck::recorder
