#include "stepbuilder.h"

#include "contentdecoding.h"

namespace tapedeck::recorder {

namespace fw = formats::wire;
using formats::Step;
using formats::StepKind;
using formats::StepStatus;
using nlohmann::json;

namespace {

std::string headerValue(const json &headers, const char *name)
{
    if (headers.is_object() && headers.contains(name) && headers[name].is_string())
        return headers[name].get<std::string>();
    return {};
}

bool isEventStream(const CapturedExchange &exchange)
{
    return headerValue(exchange.wire.responseHeaders, "content-type").find("text/event-stream") !=
           std::string::npos;
}

// The answer of a streamed call, from its events; what arrived when the stream broke off.
std::optional<fw::Response> assembleStream(fw::Api api, const std::string &body, std::string &problem)
{
    fw::SseParser parser;
    std::vector<fw::SseEvent> events;
    parser.feed(body, events);
    if (auto last = parser.finish())
        events.push_back(std::move(*last));
    fw::StreamAssembler assembler(api);
    for (const fw::SseEvent &event : events) {
        if (formats::Status s = assembler.add(event); !s) {
            problem = s.error().message;
            break;
        }
    }
    if (problem.empty() && !assembler.complete())
        problem = "the stream ended before its last event";
    return assembler.response();
}

// A Gemini stream without alt=sse is one JSON array of responses, sent piece by piece.
std::optional<fw::Response> assembleJsonArrayStream(const json &array, std::string &problem)
{
    fw::StreamAssembler assembler(fw::Api::Gemini);
    for (const json &item : array) {
        if (formats::Status s = assembler.add(fw::SseEvent{"", item.dump()}); !s) {
            problem = s.error().message;
            break;
        }
    }
    return assembler.response();
}

// The response body is redacted here, whole, once the answer has been assembled from it: a
// secret split over two network reads is caught, and one split over two stream events is
// caught in the assembled answer (the wire bytes then hold its two halves).
void redactResponse(formats::WireExchange &wire, const Redactor &redactor)
{
    if (redactor.hasPatterns())
        wire.responseBody = redactor.text(wire.responseBody, wire.chunks);
}

} // namespace

std::optional<std::string> decodedResponseBody(const CapturedExchange &exchange)
{
    return decodeContent(headerValue(exchange.wire.responseHeaders, "content-encoding"),
                         exchange.wire.responseBody);
}

formats::Result<ModelCallSteps> buildModelCall(CapturedExchange &exchange, const Redactor &redactor)
{
    const fw::Api api = *exchange.api;
    json body = json::parse(exchange.wire.requestBody, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return formats::Error{formats::ErrorCode::Parse, "the request body is not a JSON object"};
    formats::Result<fw::Request> parsed = fw::parseRequest(api, body);
    if (!parsed)
        return parsed.error();

    ModelCallSteps out;
    out.request = std::move(*parsed);
    if (api == fw::Api::Gemini) {
        if (auto target = fw::geminiTarget(exchange.wire.url)) {
            out.request.model = target->model;
            out.request.stream = target->stream;
        }
    }

    Step &call = out.modelCall;
    call.kind = StepKind::ModelCall;
    call.name = out.request.model;
    call.startedUs = exchange.startedUs;
    call.firstTokenUs = exchange.firstByteUs;
    call.endedUs = exchange.endedUs;
    // The request as the client wrote it: its conversation one message per entry (so each
    // is stored once across the run), everything else as the parameters. Moved, not
    // copied: a body can be tens of megabytes.
    const char *member = fw::conversationMember(api);
    json params = std::move(body);
    if (params.contains(member)) {
        json &conversation = params[member];
        if (conversation.is_array()) {
            for (json &m : conversation)
                call.requestMessages.push_back(std::move(m));
        } else {
            call.requestMessages.push_back(std::move(conversation));
        }
        params.erase(member);
    }
    call.requestParams = std::move(params);

    std::string problem = exchange.failure;
    // The body is parsed where it lies unless it came compressed.
    const bool encoded = !headerValue(exchange.wire.responseHeaders, "content-encoding").empty();
    const std::optional<std::string> decoded = encoded ? decodedResponseBody(exchange) : std::nullopt;
    const std::string *responseText = !encoded ? &exchange.wire.responseBody : decoded ? &*decoded : nullptr;
    const int status = exchange.wire.status;
    if (status >= 200 && status < 300 && responseText) {
        if (isEventStream(exchange)) {
            out.response = assembleStream(api, *responseText, problem);
        } else {
            const json responseJson = json::parse(*responseText, nullptr, false);
            if (responseJson.is_array() && api == fw::Api::Gemini) {
                out.response = assembleJsonArrayStream(responseJson, problem);
            } else if (!responseJson.is_discarded()) {
                if (auto response = fw::parseResponse(api, responseJson))
                    out.response = std::move(*response);
                else
                    problem = response.error().message;
            } else {
                problem = "the response body is not JSON";
            }
        }
    } else if (!responseText) {
        problem = "the response body could not be decoded (content-encoding " +
                  headerValue(exchange.wire.responseHeaders, "content-encoding") + ")";
    }

    if (out.response) {
        if (redactor.hasPatterns()) {
            out.response->text = redactor.text(out.response->text);
            out.response->thinking = redactor.text(out.response->thinking);
            for (fw::ToolCall &toolCall : out.response->toolCalls)
                redactor.strings(toolCall.arguments);
        }
        call.usage = out.response->usage;
        call.payload = fw::renderResponse(api, *out.response);
    } else if (responseText) {
        const json errorBody = json::parse(*responseText, nullptr, false);
        call.payload = errorBody.is_discarded() ? json{{"body", *responseText}} : errorBody;
    }
    if (status == 0 || status >= 400)
        call.status = StepStatus::Error;
    else if (!problem.empty())
        call.status = StepStatus::Cancelled; // a stream that broke off: partly received
    if (!problem.empty()) {
        if (!call.payload.is_object())
            call.payload = json::object();
        call.payload["tapedeck_problem"] = problem;
    }
    call.wire = std::move(exchange.wire);
    redactResponse(*call.wire, redactor);

    if (out.response && call.status == StepStatus::Ok) {
        for (const fw::ToolCall &toolCall : out.response->toolCalls) {
            Step step;
            step.kind = StepKind::ToolCall;
            step.name = toolCall.name;
            step.callId = toolCall.id;
            step.payload = toolCall.arguments;
            step.startedUs = exchange.endedUs;
            step.endedUs = exchange.endedUs;
            out.toolCalls.push_back(std::move(step));
        }
    }
    return out;
}

Step buildHttpExchange(CapturedExchange &&exchange, const Redactor &redactor)
{
    Step step;
    step.kind = StepKind::HttpExchange;
    step.name = exchange.wire.method + " " + exchange.wire.url;
    step.startedUs = exchange.startedUs;
    step.firstTokenUs = exchange.firstByteUs;
    step.endedUs = exchange.endedUs;
    step.status = exchange.wire.status >= 400 || !exchange.failure.empty() ? StepStatus::Error
                                                                           : StepStatus::Ok;
    step.payload = json{{"status", exchange.wire.status}};
    if (!exchange.failure.empty())
        step.payload["problem"] = exchange.failure;
    step.wire = std::move(exchange.wire);
    redactResponse(*step.wire, redactor);
    return step;
}

Step buildUpstreamError(CapturedExchange &&exchange)
{
    Step step;
    step.kind = StepKind::Error;
    step.status = StepStatus::Error;
    step.name = "upstream unreachable";
    step.startedUs = exchange.startedUs;
    step.endedUs = exchange.endedUs;
    step.payload = json{{"message", exchange.failure},
                        {"upstream", exchange.upstreamUrl},
                        {"request", exchange.wire.method + " " + exchange.wire.url}};
    step.wire = std::move(exchange.wire);
    return step;
}

Step buildToolResult(const FoundToolResult &result, int64_t requestStartedUs)
{
    Step step;
    step.kind = StepKind::ToolResult;
    step.name = result.call.name;
    step.callId = result.callId;
    step.parent = result.call.step;
    step.status = result.isError ? StepStatus::Error : StepStatus::Ok;
    step.startedUs = result.call.askedUs;
    step.endedUs = std::max(requestStartedUs, result.call.askedUs);
    step.payload = json{{"output", result.output}, {"is_error", result.isError}};
    return step;
}

} // namespace tapedeck::recorder
