// Plain OpenAI-format message lists: the conversations that benchmarks such as tau-bench
// publish. Accepted layouts:
// - a JSON array of messages, or an object with "messages": one run;
// - a JSON array of episodes, each an object with the messages in "messages" or "traj"
//   (tau-bench: task_id, reward, trial, info): one run per episode, read one episode at a
//   time so memory holds one episode, not the file;
// - JSON lines of either: one message per line (one run), or one episode per line.
// Tool messages whose text starts with "Error" are taken as failed calls, as tau-bench's
// environments report failures that way.
#include "chattranscript.h"
#include "formatimporters.h"
#include "lenientjson.h"

#include <sstream>

namespace tapedeck::formats::import {

using nlohmann::json;

namespace {

const json *episodeMessages(const json &value)
{
    if (const json *m = arrayMember(value, "messages"))
        return m;
    return arrayMember(value, "traj");
}

bool isMessage(const json &value)
{
    return value.is_object() && member(value, "role") && !episodeMessages(value);
}

std::string numberText(const json &value)
{
    if (value.is_number_integer())
        return std::to_string(value.get<int64_t>());
    std::ostringstream out;
    out << value;
    return out.str();
}

MessageDetails detailsOf(const json &message)
{
    MessageDetails details;
    details.model = stringMember(message, "model");
    if (stringMember(message, "role") == "tool") {
        const json *content = member(message, "content");
        details.isError = content && contentText(*content).rfind("Error", 0) == 0;
    }
    if (const json *usage = member(message, "usage")) {
        details.usage.inputTokens = integerMember(*usage, "prompt_tokens");
        details.usage.outputTokens = integerMember(*usage, "completion_tokens");
    }
    return details;
}

class Importer {
public:
    explicit Importer(TrajectoryBuilder &builder) : m_builder(builder) {}

    // One episode: a run of its own, with what the episode says about itself as labels.
    Status episode(const json &value, int64_t number, int64_t line)
    {
        RunInfo run;
        run.agent = stringMember(value, "agent");
        json labels = json::object();
        std::string name;
        for (const char *key : {"task_id", "trial", "reward", "model"}) {
            if (const json *v = member(value, key); v && !v->is_structured()) {
                labels[key] = *v;
                if (std::string_view(key) != "reward")
                    name += std::string(name.empty() ? "" : " ") +
                            (v->is_string() ? v->get<std::string>() : std::string(key) + " " + numberText(*v));
            }
        }
        run.name = name.empty() ? "episode " + std::to_string(number + 1) : name;
        run.labels = std::move(labels);
        if (const json *reward = member(value, "reward"); reward && reward->is_number())
            run.outcome = "reward " + numberText(*reward);
        auto started = m_builder.beginRun(run);
        if (!started)
            return started.error();
        if (Status s = keepEpisodeInfo(value); !s)
            return s;
        ChatTranscript transcript(m_builder, m_builder.mainThread(), stringMember(value, "model"));
        int64_t position = 0;
        for (const json &message : *episodeMessages(value)) {
            ++position;
            if (!message.is_object() || !member(message, "role")) {
                m_builder.skip(line, "episode " + std::to_string(number + 1) + ", message " +
                                         std::to_string(position) + ": not a message with a role");
                continue;
            }
            auto added = transcript.add(message, detailsOf(message));
            if (!added)
                return added.error();
        }
        if (Status s = transcript.finish(); !s)
            return s;
        return m_builder.endRun(run.outcome);
    }

    // One message of a single conversation.
    Status message(json value, int64_t line)
    {
        if (!m_transcript) {
            RunInfo run;
            run.name = "conversation";
            auto started = m_builder.beginRun(run);
            if (!started)
                return started.error();
            m_transcript.emplace(m_builder, m_builder.mainThread());
        }
        if (!isMessage(value)) {
            m_builder.skip(line, "not a message with a role");
            return {};
        }
        const MessageDetails details = detailsOf(value);
        auto added = m_transcript->add(std::move(value), details);
        return added ? Status() : Status(added.error());
    }

    // Ends the conversation read one message at a time, if there was one.
    Status finish() { return m_transcript ? m_transcript->finish() : Status(); }

    Status value(json value, int64_t number, int64_t line)
    {
        if (episodeMessages(value))
            return episode(value, number, line);
        return message(std::move(value), line);
    }

private:
    // What the episode says besides its messages (tau-bench: the task, its expected actions
    // and how the reward was reached), as the run's first step.
    Status keepEpisodeInfo(const json &value)
    {
        json rest = json::object();
        for (const auto &[key, v] : value.items()) {
            if (key != "messages" && key != "traj")
                rest[key] = v;
        }
        if (rest.empty())
            return {};
        Step step;
        step.kind = StepKind::Annotation;
        step.name = "episode";
        step.payload = std::move(rest);
        auto added = m_builder.add(std::move(step));
        return added ? Status() : Status(added.error());
    }

    TrajectoryBuilder &m_builder;
    std::optional<ChatTranscript> m_transcript;
};

} // namespace

bool looksLikeOpenAIMessages(const Sniff &sniff)
{
    if (sniff.firstLine.is_object())
        return member(sniff.firstLine, "role") || episodeMessages(sniff.firstLine);
    // A JSON document: an array (of messages or episodes) or an object with "messages".
    if (sniff.firstChar != '[' && sniff.firstChar != '{')
        return false;
    return sniff.head.find("\"role\"") != std::string_view::npos &&
           (sniff.firstChar == '[' || sniff.head.find("\"messages\"") != std::string_view::npos);
}

Status importOpenAIMessages(ImportSource &source, TrajectoryBuilder &builder)
{
    Importer importer(builder);
    std::istream &in = source.stream();
    // The first character says which layout: '[' one array, '{' an object per line (or
    // one object holding "messages").
    char first = 0;
    while (in.get(first) && (first == ' ' || first == '\n' || first == '\r' || first == '\t')) {
    }
    if (!in)
        return source.parseError(0, "the file is empty");
    in.unget();
    if (first == '[') {
        std::string damage;
        Status read = forEachArrayElement(
            source, [&](json &&element, int64_t index) { return importer.value(std::move(element), index, 0); },
            &damage);
        if (!damage.empty())
            builder.skip(0, damage);
        return read ? importer.finish() : read;
    }
    LineReader lines(source);
    std::string_view line;
    int64_t number = 0;
    bool any = false;
    while (lines.next(line)) {
        std::string problem;
        json value = lines.parseLine(line, problem);
        if (value.is_discarded()) {
            // One object over several lines: the whole file is one document.
            if (!any && line.find_first_not_of(" \t") != std::string_view::npos && line.back() != '}') {
                in.clear();
                in.seekg(0);
                auto doc = source.readDocument();
                if (!doc)
                    return doc.error();
                if (!episodeMessages(*doc))
                    return source.parseError(0, "expected an object with \"messages\", a list "
                                                "of messages, or one JSON object per line");
                return importer.episode(*doc, 0, 0);
            }
            builder.skip(lines.lineNumber(), problem);
            continue;
        }
        any = true;
        if (Status s = importer.value(std::move(value), number++, lines.lineNumber()); !s)
            return s;
    }
    return importer.finish();
}

} // namespace tapedeck::formats::import
