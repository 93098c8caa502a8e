#include <tapedeck/formats/wire.h>

namespace tapedeck::formats::wire {
namespace {

std::string_view pathOnly(std::string_view pathAndQuery) {
    return pathAndQuery.substr(0, pathAndQuery.find_first_of("?#"));
}

std::string_view queryOnly(std::string_view pathAndQuery) {
    size_t question = pathAndQuery.find('?');
    if (question == std::string_view::npos)
        return {};
    std::string_view query = pathAndQuery.substr(question + 1);
    return query.substr(0, query.find('#'));
}

bool hasQueryParameter(std::string_view query, std::string_view nameAndValue) {
    while (!query.empty()) {
        size_t amp = query.find('&');
        if (query.substr(0, amp) == nameAndValue)
            return true;
        if (amp == std::string_view::npos)
            break;
        query.remove_prefix(amp + 1);
    }
    return false;
}

} // namespace

std::optional<GeminiTarget> geminiTarget(std::string_view pathAndQuery) {
    std::string_view path = pathOnly(pathAndQuery);
    // ".../models/{model}:{method}": the model is the last path segment, up to the colon.
    size_t models = path.rfind("/models/");
    if (models == std::string_view::npos)
        return std::nullopt;
    std::string_view rest = path.substr(models + 8);
    size_t colon = rest.find(':');
    if (colon == 0 || colon == std::string_view::npos || rest.find('/') != std::string_view::npos)
        return std::nullopt;
    std::string_view method = rest.substr(colon + 1);
    GeminiTarget target;
    target.model = std::string(rest.substr(0, colon));
    if (method == "streamGenerateContent")
        target.stream = true;
    else if (method != "generateContent")
        return std::nullopt;
    target.sse = hasQueryParameter(queryOnly(pathAndQuery), "alt=sse");
    return target;
}

std::optional<Api> apiForPath(std::string_view pathAndQuery) {
    std::string_view path = pathOnly(pathAndQuery);
    while (path.size() > 1 && path.back() == '/')
        path.remove_suffix(1);
    if (path.ends_with("/chat/completions"))
        return Api::OpenAIChat;
    if (path.ends_with("/responses"))
        return Api::OpenAIResponses;
    if (path.ends_with("/messages"))
        return Api::AnthropicMessages;
    if (geminiTarget(pathAndQuery))
        return Api::Gemini;
    return std::nullopt;
}

} // namespace tapedeck::formats::wire
