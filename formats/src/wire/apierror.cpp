// Error bodies: OpenAI's and Gemini's {"error": {...}}, Anthropic's {"type": "error", ...}.
#include "common.h"

namespace tapedeck::formats::wire {
namespace {

// The error type each API uses for an HTTP status, for an ApiError that names none.
std::string typeForStatus(Api api, int status) {
    if (api == Api::Gemini) {
        switch (status) {
        case 400: return "INVALID_ARGUMENT";
        case 401: return "UNAUTHENTICATED";
        case 403: return "PERMISSION_DENIED";
        case 404: return "NOT_FOUND";
        case 429: return "RESOURCE_EXHAUSTED";
        case 503: return "UNAVAILABLE";
        case 504: return "DEADLINE_EXCEEDED";
        default: return "INTERNAL";
        }
    }
    bool anthropic = api == Api::AnthropicMessages;
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return anthropic ? "rate_limit_error" : "rate_limit_exceeded";
    case 529: return "overloaded_error";
    default: return anthropic ? "api_error" : "server_error";
    }
}

} // namespace

nlohmann::json renderError(Api api, const ApiError &error) {
    std::string type = error.type.empty() ? typeForStatus(api, error.httpStatus) : error.type;
    switch (api) {
    case Api::AnthropicMessages:
        return {{"type", "error"}, {"error", {{"type", type}, {"message", error.message}}}};
    case Api::Gemini:
        return {{"error",
                 {{"code", error.httpStatus}, {"message", error.message}, {"status", type}}}};
    case Api::OpenAIChat:
    case Api::OpenAIResponses:
        break;
    }
    return {{"error",
             {{"message", error.message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

std::optional<ApiError> parseError(int httpStatus, const nlohmann::json &body) {
    if (!body.is_object())
        return std::nullopt;
    auto error = body.find("error");
    if (error == body.end() || !error->is_object())
        return std::nullopt;
    auto text = [&](const char *key) -> std::string {
        auto it = error->find(key);
        return it != error->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    ApiError out;
    out.httpStatus = httpStatus;
    auto code = error->find("code");
    if (httpStatus == 0 && code != error->end() && code->is_number_integer())
        out.httpStatus = code->get<int>();
    out.message = text("message");
    // OpenAI and Anthropic name the kind in "type", Gemini in "status".
    out.type = text("type");
    if (out.type.empty())
        out.type = text("status");
    if (out.type.empty())
        out.type = text("code");
    return out;
}

} // namespace tapedeck::formats::wire
