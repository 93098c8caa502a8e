#include "mcproute.h"

#include <httplib.h>

#include <optional>
#include <variant>

namespace tapedeck::recorder {

using nlohmann::json;

namespace {

constexpr const char *kMcpReportPath = "/_tapedeck/mcp";

void answerError(httplib::Response &response, int status, const std::string &message)
{
    response.status = status;
    response.set_content(
        json{{"error", {{"type", "tapedeck_mcp_report"}, {"message", message}}}}.dump(),
        "application/json");
}

std::optional<std::string> stringMember(const json &body, const char *name)
{
    if (body.contains(name) && body[name].is_string())
        return body[name].get<std::string>();
    return std::nullopt;
}

int64_t timeMember(const json &body, const char *name)
{
    return body.contains(name) && body[name].is_number_integer() ? body[name].get<int64_t>() : 0;
}

// The call the body describes, or the reason it describes none.
std::variant<McpCall, std::string> parseReport(const std::string &text)
{
    const json body = json::parse(text, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return std::string("the body is not a JSON object");
    McpCall call;
    for (auto [name, field] :
         {std::pair{"session", &call.session}, std::pair{"server", &call.server},
          std::pair{"method", &call.method}, std::pair{"request", &call.request}}) {
        std::optional<std::string> value = stringMember(body, name);
        if (!value || value->empty())
            return std::string("\"") + name + "\" is missing or not a non-empty string";
        *field = std::move(*value);
    }
    call.response = stringMember(body, "response");
    if (!call.response && body.contains("response") && !body["response"].is_null())
        return std::string("\"response\" is neither a string nor null");
    call.requestUs = timeMember(body, "request_us");
    call.responseUs = timeMember(body, "response_us");
    if (body.contains("server_info") && body["server_info"].is_object())
        call.serverInfo = body["server_info"];
    return call;
}

} // namespace

bool isMcpReportTarget(const std::string &target)
{
    return target.substr(0, target.find('?')) == kMcpReportPath;
}

void answerMcpReport(const httplib::Request &request, httplib::Response &response,
                     const Redactor &redactor, const std::function<void(CapturedExchange)> &sink)
{
    if (request.method != "POST") {
        answerError(response, 405, std::string(kMcpReportPath) + " takes POST only");
        return;
    }
    std::variant<McpCall, std::string> parsed = parseReport(request.body);
    if (auto *problem = std::get_if<std::string>(&parsed)) {
        answerError(response, 400, "not an MCP call report: " + *problem);
        return;
    }
    McpCall call = std::get<McpCall>(std::move(parsed));
    call.request = redactor.text(call.request);
    if (call.response)
        call.response = redactor.text(*call.response);

    CapturedExchange exchange;
    exchange.startedUs = call.requestUs;
    exchange.endedUs = call.responseUs;
    exchange.mcp = std::move(call);
    sink(std::move(exchange));
    response.status = 204;
}

} // namespace tapedeck::recorder
