#include "compaction.h"

#include <map>

namespace tapedeck::model {

using formats::wire::Message;
using formats::wire::Request;
using formats::wire::Role;

namespace {

std::string firstLine(const std::string &text, size_t maxChars)
{
    std::string line = text.substr(0, text.find('\n'));
    if (line.size() > maxChars) {
        line.resize(maxChars);
        line.append("...");
    }
    return line;
}

} // namespace

bool isCompactionRequest(const Request &request)
{
    if (request.messages.empty())
        return false;
    const Message &last = request.messages.back();
    return last.role == Role::User && std::string_view(last.text).starts_with(kCompactionPrompt);
}

std::string writeSummary(const Request &request)
{
    std::string task;
    std::map<std::string, std::string> resultById;
    for (const Message &m : request.messages) {
        if (m.role == Role::User && task.empty() && !m.text.starts_with(kCompactionPrompt))
            task = m.text;
        if (m.role == Role::Tool)
            resultById[m.toolCallId] = m.text;
    }

    std::string summary = "The user asked: ";
    summary.append(firstLine(task, 400));
    size_t calls = 0;
    std::string lines;
    for (const Message &m : request.messages) {
        for (const auto &call : m.toolCalls) {
            ++calls;
            lines.append("\n- ").append(call.name).append(" ").append(
                firstLine(call.arguments.dump(), 200));
            const auto result = resultById.find(call.id);
            lines.append(" -> ").append(result == resultById.end()
                                            ? std::string("(no result)")
                                            : firstLine(result->second, 200));
        }
    }
    summary.append("\nTool calls so far: ").append(std::to_string(calls)).append(".");
    summary.append(lines);
    return summary;
}

} // namespace tapedeck::model
