// Claude Code session JSONL: the transcript Claude Code writes under
// ~/.claude/projects/<project>/<session>.jsonl, one record per line.
//
// How records become steps:
// - Claude Code writes one API response as several "assistant" records, one per content
//   block, that share message.id. They become one model call whose answer holds every
//   block in order. Its request is the thread's conversation before it, in Anthropic
//   Messages form, accumulated from the records (each record holds only what is new).
// - tool_use blocks become tool calls; tool_result blocks (in "user" records) their
//   results, joined by tool_use_id.
// - Records are linked by uuid/parentUuid. A prompt whose parent lies before the end of the
//   conversation (the user went back and edited an earlier prompt) continues from there.
// - Sub-agents get threads of their own under the main one: records with isSidechain in
//   the session file (older versions), and the sub-agent files newer versions write
//   (<project>/<session>/subagents/agent-*.jsonl, or agent-*.jsonl beside the session in
//   2.0).
// - compact_boundary starts the conversation again from the summary that follows it (a
//   compaction step); API errors are error steps; every other record (queue operations,
//   attachments, file snapshots, progress, titles, the types newer versions add) is kept as
//   an annotation holding the record.
#include "chattranscript.h"
#include "formatimporters.h"
#include "importtime.h"
#include "lenientjson.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <unordered_map>

namespace tapedeck::formats::import {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Records read before the run starts: enough to reach the first answer, which names the
// model; the run's labels cannot change once it has begun.
constexpr size_t kHeadRecords = 256;
// Records held back behind a response whose blocks are still arriving; past this the
// response is taken as complete, which bounds memory on a damaged file.
constexpr size_t kMaxDeferred = 4096;
constexpr size_t kTitleBytes = 80;
constexpr size_t kUnknownLength = std::numeric_limits<size_t>::max();

// One record and where it was read: `source` 0 is the imported file, others index the
// sub-agent files.
struct Record {
    json value;
    int64_t line = 0;
    size_t source = 0;
};

struct ToolUse {
    std::string id;
    std::string name;
    json input;
    int64_t atUs = 0;
};

// A model response while the records that share its message.id arrive.
struct Response {
    std::string messageId;
    json message = json::object(); // the latest record's message, without its content
    json content = json::array();  // the blocks of every record, in order
    std::vector<ToolUse> toolUses;
    std::vector<std::string> uuids;
    Usage usage;
    int64_t requestedUs = 0;
    int64_t firstUs = 0;
    int64_t answeredUs = 0;
    std::vector<Record> deferred; // the thread's records that came before it was complete
};

struct Thread {
    size_t index = 0; // in Importer::m_threads; 0 is the main thread
    ThreadId id;
    std::vector<json> messages; // the conversation so far, as the API is sent it
    std::optional<Response> response;
    std::optional<Step> compaction; // a compact_boundary waiting for the summary after it
    int64_t latestUs = 0;           // when the thread's latest record was written
};

int64_t timeOf(const json &record)
{
    return timeFromJson(member(record, "timestamp"));
}

std::string messageIdOf(const json &record)
{
    const json *message = member(record, "message");
    return message ? stringMember(*message, "id") : std::string();
}

const json *contentOf(const json &record)
{
    const json *message = member(record, "message");
    const json *content = message ? member(*message, "content") : nullptr;
    return content && (content->is_string() || content->is_array()) ? content : nullptr;
}

bool hasToolResult(const json &content)
{
    if (!content.is_array())
        return false;
    return std::any_of(content.begin(), content.end(), [](const json &block) {
        return stringMember(block, "type") == "tool_result";
    });
}

// Content as a list of blocks: a string is one text block.
json blocksOf(const json &content)
{
    if (content.is_array())
        return content;
    return json::array({{{"type", "text"}, {"text", content.is_string() ? content : json("")}}});
}

// The first line of a prompt, shortened: what names a run or a sub-agent thread.
std::string titleOf(const json &content)
{
    std::string text = contentText(content);
    const size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos)
        return {};
    text = text.substr(begin, text.find_first_of("\r\n", begin) - begin);
    if (text.size() <= kTitleBytes)
        return text;
    size_t cut = kTitleBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut; // not inside a UTF-8 sequence
    return text.substr(0, cut) + "…";
}

Usage usageOf(const json &usage)
{
    Usage out;
    out.inputTokens = integerMember(usage, "input_tokens");
    out.outputTokens = integerMember(usage, "output_tokens");
    out.cacheReadTokens = integerMember(usage, "cache_read_input_tokens");
    out.cacheWriteTokens = integerMember(usage, "cache_creation_input_tokens");
    return out;
}

// The records of one response repeat its usage as it stood when each block was written,
// so the largest of each count is the latest.
Usage largest(const Usage &a, const Usage &b)
{
    return {std::max(a.inputTokens, b.inputTokens), std::max(a.outputTokens, b.outputTokens),
            std::max(a.cacheReadTokens, b.cacheReadTokens),
            std::max(a.cacheWriteTokens, b.cacheWriteTokens)};
}

// What the model was shown of a tool's result: its text, or the blocks themselves when
// they hold more than text (images).
json toolOutput(const json *content)
{
    if (!content)
        return "";
    if (!content->is_array())
        return *content;
    const bool textOnly = std::all_of(content->begin(), content->end(), [](const json &block) {
        return stringMember(block, "type") == "text";
    });
    return textOnly ? json(contentText(*content)) : *content;
}

bool isClaudeCodeRecord(const json &value)
{
    const std::string type = stringMember(value, "type");
    if (type.empty())
        return false;
    return !stringMember(value, "sessionId").empty() || !stringMember(value, "uuid").empty() ||
           type == "summary" || type == "file-history-snapshot";
}

std::string firstSessionIdIn(const fs::path &file)
{
    std::ifstream in(file, std::ios::binary);
    std::string line;
    std::getline(in, line);
    return stringMember(json::parse(line, nullptr, false), "sessionId");
}

// The sub-agent transcripts of a session: <dir>/<session>/subagents/agent-*.jsonl (newer
// versions), and agent-*.jsonl beside the session that name it as theirs (2.0).
std::vector<fs::path> subagentFiles(const fs::path &session, const std::string &sessionId)
{
    std::vector<fs::path> found;
    const fs::path dir = session.has_parent_path() ? session.parent_path() : fs::path(".");
    auto collect = [&](const fs::path &folder, bool mustNameSession) {
        std::error_code ec;
        for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            std::error_code ignored;
            if (name.rfind("agent-", 0) != 0 || it->path().extension() != ".jsonl" ||
                !it->is_regular_file(ignored) || fs::equivalent(it->path(), session, ignored))
                continue;
            if (!mustNameSession || firstSessionIdIn(it->path()) == sessionId)
                found.push_back(it->path());
        }
    };
    for (const std::string &stem : {sessionId, session.stem().string()}) {
        std::error_code ec;
        if (!stem.empty() && fs::is_directory(dir / stem / "subagents", ec))
            collect(dir / stem / "subagents", false);
    }
    if (!sessionId.empty())
        collect(dir, true);
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

// "agent-<id>.jsonl" -> "<id>".
std::string agentIdOfFile(const fs::path &file)
{
    return file.stem().string().substr(std::string_view("agent-").size());
}

class Importer {
public:
    Importer(ImportSource &source, TrajectoryBuilder &builder)
        : m_source(source), m_builder(builder)
    {
        m_sourceNames.push_back(source.name());
    }

    Status run()
    {
        if (Status s = readSessionFile(); !s)
            return s;
        for (Thread &thread : m_threads) {
            if (Status s = finishThread(thread); !s)
                return s;
        }
        // A sub-agent file imported on its own is the main thread; its siblings are not its.
        if (!m_source.path().empty() && !m_sidechainFile.value_or(false)) {
            for (const fs::path &file : subagentFiles(m_source.path(), m_sessionId)) {
                if (Status s = readSubagentFile(file); !s)
                    return s;
            }
        }
        return m_builder.endRun(m_outcome);
    }

private:
    // ---- reading

    Status readSessionFile()
    {
        LineReader lines(m_source);
        std::string_view text;
        int64_t firstBadLine = 0;
        while (lines.next(text)) {
            Record record{parse(lines, text, 0), lines.lineNumber(), 0};
            if (record.value.is_discarded()) {
                firstBadLine = firstBadLine ? firstBadLine : lines.lineNumber();
                continue;
            }
            if (Status s = accept(std::move(record)); !s)
                return s;
        }
        if (m_started)
            return {};
        if (m_head.empty())
            return lines.lineNumber() == 0
                       ? m_source.parseError(0, "the file is empty")
                       : m_source.parseError(firstBadLine,
                                             "expected Claude Code session records: JSON objects "
                                             "with a \"type\" and a \"sessionId\" or \"uuid\"");
        return start();
    }

    // The record on the line, or a discarded value when it is not one (and skipped).
    json parse(const LineReader &lines, std::string_view text, size_t source)
    {
        std::string problem;
        json value = lines.parseLine(text, problem);
        if (value.is_discarded()) {
            skip(source, lines.lineNumber(), problem);
            return value;
        }
        if (!isClaudeCodeRecord(value)) {
            skip(source, lines.lineNumber(),
                 "not a Claude Code record (expected an object with a \"type\" and a "
                 "\"sessionId\" or \"uuid\")");
            return json(json::value_t::discarded);
        }
        return value;
    }

    Status accept(Record record)
    {
        if (m_started) {
            auto thread = route(record);
            if (!thread)
                return thread.error();
            return handle(**thread, std::move(record));
        }
        const bool answer = stringMember(record.value, "type") == "assistant";
        m_head.push_back(std::move(record));
        return answer || m_head.size() >= kHeadRecords ? start() : Status();
    }

    // Begins the run with what the first records say about the session, then handles them.
    Status start()
    {
        RunInfo run;
        run.agent = "claude-code";
        std::string title, prompt, version, branch, model;
        auto first = [](std::string &into, const json &from, const char *key) {
            if (into.empty())
                into = stringMember(from, key);
        };
        for (const Record &record : m_head) {
            const json &v = record.value;
            const std::string type = stringMember(v, "type");
            first(run.cwd, v, "cwd");
            first(m_sessionId, v, "sessionId");
            first(version, v, "version");
            first(branch, v, "gitBranch");
            if (type == "custom-title")
                title = stringMember(v, "customTitle");
            if (type == "summary" && title.empty())
                title = stringMember(v, "summary");
            if (const json *message = member(v, "message"); type == "assistant" && message) {
                if (const std::string m = stringMember(*message, "model"); m != "<synthetic>")
                    first(model, *message, "model");
            }
            const json *content = contentOf(v);
            if (type == "user" && prompt.empty() && content && !hasToolResult(*content) &&
                !boolMember(v, "isMeta") && !boolMember(v, "isSidechain"))
                prompt = titleOf(*content);
            if (const int64_t at = timeOf(v); at && (!run.startedUs || at < run.startedUs))
                run.startedUs = at;
        }
        run.name = !title.empty()    ? title
                   : !prompt.empty() ? prompt
                                     : "claude-code session " + m_sessionId;
        auto label = [&](const char *key, const std::string &value) {
            if (!value.empty())
                run.labels[key] = value;
        };
        label("session_id", m_sessionId);
        label("claude_code_version", version);
        label("git_branch", branch);
        label("model", model);
        auto begun = m_builder.beginRun(run);
        if (!begun)
            return begun.error();
        m_threads.push_back(Thread{0, m_builder.mainThread(), {}, {}, {}, 0});
        m_started = true;
        std::vector<Record> head = std::move(m_head);
        for (Record &record : head) {
            if (Status s = accept(std::move(record)); !s)
                return s;
        }
        return {};
    }

    Status readSubagentFile(const fs::path &file)
    {
        const std::string agentId = agentIdOfFile(file);
        if (m_agentThreads.count(agentId))
            return {}; // its records were in the session file
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            m_builder.skip(0, "sub-agent file " + file.string() + ": cannot read");
            return {};
        }
        const size_t source = m_sourceNames.size();
        m_sourceNames.push_back(file.string());
        static const ImportOptions kNoProgress;
        std::error_code ec;
        const auto size = fs::file_size(file, ec);
        ImportSource sub(in, file.string(), file.string(), ec ? 0 : int64_t(size), kNoProgress);
        LineReader lines(sub);
        std::string_view text;
        Thread *thread = nullptr;
        while (lines.next(text)) {
            Record record{parse(lines, text, source), lines.lineNumber(), source};
            if (record.value.is_discarded())
                continue;
            if (!thread) {
                auto created = newSubagentThread(agentId, record);
                if (!created)
                    return created.error();
                thread = *created;
            }
            remember(record, *thread);
            if (Status s = handle(*thread, std::move(record)); !s)
                return s;
        }
        return thread ? finishThread(*thread) : Status();
    }

    void skip(size_t source, int64_t line, const std::string &what)
    {
        if (source == 0)
            m_builder.skip(line, what);
        else
            m_builder.skip(0, m_sourceNames[source] + ":" + std::to_string(line) + ": " + what);
    }
    void skip(const Record &record, const std::string &what)
    {
        skip(record.source, record.line, what);
    }

    // ---- threads

    // The thread a record of the session file belongs to. Only message-chain records say
    // which chain they are on; the others (queue operations, snapshots) are the session's.
    Result<Thread *> route(const Record &record)
    {
        Thread *thread = &m_threads.front();
        if (const json *flag = member(record.value, "isSidechain"); flag && flag->is_boolean()) {
            const bool sidechain = flag->get<bool>();
            if (!m_sidechainFile)
                m_sidechainFile = sidechain; // a sub-agent's own file: its chain is the main one
            if (sidechain != *m_sidechainFile) {
                auto sub = subagentThreadOf(record);
                if (!sub)
                    return sub.error();
                thread = *sub;
            }
        }
        remember(record, *thread);
        return thread;
    }

    // A sidechain record's thread: the one of its agent id, or of its parent record; a
    // record that continues neither starts a new sub-agent.
    Result<Thread *> subagentThreadOf(const Record &record)
    {
        const std::string agentId = stringMember(record.value, "agentId");
        if (!agentId.empty()) {
            if (auto known = m_agentThreads.find(agentId); known != m_agentThreads.end())
                return &m_threads[known->second];
        } else if (auto parent = m_uuids.find(stringMember(record.value, "parentUuid"));
                   parent != m_uuids.end() && parent->second.thread != 0) {
            return &m_threads[parent->second.thread];
        }
        return newSubagentThread(agentId, record);
    }

    Result<Thread *> newSubagentThread(const std::string &agentId, const Record &first)
    {
        auto id = m_builder.addThread("subagent: " + subagentName(agentId, first.value),
                                      m_threads.front().id, timeOf(first.value));
        if (!id)
            return id.error();
        const size_t index = m_threads.size();
        m_threads.push_back(Thread{index, *id, {}, {}, {}, timeOf(first.value)});
        if (!agentId.empty())
            m_agentThreads[agentId] = index;
        return &m_threads.back();
    }

    // What the Task call that started the agent called it, else the agent's first prompt.
    std::string subagentName(const std::string &agentId, const json &first) const
    {
        if (auto known = m_agentDescriptions.find(agentId); known != m_agentDescriptions.end())
            return known->second;
        const json *content = contentOf(first);
        if (content && content->is_string()) {
            auto task = m_taskDescriptionsByPrompt.find(content->get<std::string>());
            if (task != m_taskDescriptionsByPrompt.end())
                return task->second;
        }
        if (std::string title = content ? titleOf(*content) : std::string(); !title.empty())
            return title;
        return agentId.empty() ? std::to_string(m_threads.size()) : agentId;
    }

    void remember(const Record &record, const Thread &thread)
    {
        const std::string uuid = stringMember(record.value, "uuid");
        if (!uuid.empty())
            m_uuids[uuid] = {thread.index, kUnknownLength};
    }

    // How long the conversation was once the record had been taken in: where a prompt
    // that names it as its parent continues from.
    void noteLength(const std::string &uuid, const Thread &thread)
    {
        if (auto known = m_uuids.find(uuid); known != m_uuids.end())
            known->second.length = thread.messages.size();
    }

    Status finishThread(Thread &thread)
    {
        if (thread.response) {
            if (Status s = close(thread); !s)
                return s;
        }
        return flushCompaction(thread);
    }

    // ---- records

    Status handle(Thread &thread, Record record)
    {
        const std::string type = stringMember(record.value, "type");
        const std::string uuid = stringMember(record.value, "uuid");
        const int64_t at = timeOf(record.value);
        if (thread.response) {
            if (type == "assistant" && messageIdOf(record.value) == thread.response->messageId)
                return addToResponse(thread, record);
            if (!endsResponse(type, record.value) &&
                thread.response->deferred.size() < kMaxDeferred) {
                thread.response->deferred.push_back(std::move(record));
                return {};
            }
            if (Status s = close(thread); !s)
                return s;
        }
        if (thread.compaction && !boolMember(record.value, "isCompactSummary")) {
            if (Status s = flushCompaction(thread); !s)
                return s;
        }
        Status s;
        if (type == "assistant")
            s = assistant(thread, record);
        else if (type == "user")
            s = user(thread, record);
        else if (type == "system")
            s = system(thread, record);
        else
            s = note(thread, record, StepKind::Annotation, type);
        if (!thread.response)
            noteLength(uuid, thread); // an answer's records are noted once it is complete
        thread.latestUs = std::max(thread.latestUs, at);
        return s;
    }

    // Records after which the open response cannot go on: the blocks of another response,
    // a new prompt, a compaction. Tool results and everything else may arrive while its
    // blocks still stream in, and wait for it.
    static bool endsResponse(const std::string &type, const json &record)
    {
        if (type == "assistant")
            return true;
        if (type == "user") {
            const json *content = contentOf(record);
            return !content || !hasToolResult(*content);
        }
        return type == "system" && stringMember(record, "subtype") == "compact_boundary";
    }

    Status assistant(Thread &thread, Record &record)
    {
        const json *message = member(record.value, "message");
        if (!message || !message->is_object()) {
            skip(record, "an assistant record without a message object");
            return {};
        }
        if (boolMember(record.value, "isApiErrorMessage"))
            return note(thread, record, StepKind::Error, "api_error");
        // Claude Code's own stand-ins for an answer ("No response requested."), not the
        // model's: kept, but not part of the conversation.
        if (stringMember(*message, "model") == "<synthetic>")
            return note(thread, record, StepKind::Annotation, "assistant (synthetic)");
        Response &response = thread.response.emplace();
        response.messageId = messageIdOf(record.value);
        if (response.messageId.empty())
            response.messageId =
                "line " + std::to_string(record.line) + " of " + std::to_string(record.source);
        response.requestedUs = thread.latestUs;
        return addToResponse(thread, record);
    }

    Status addToResponse(Thread &thread, const Record &record)
    {
        Response &response = *thread.response;
        static const json kNoMessage = json::object();
        const json *found = member(record.value, "message");
        const json &message = found ? *found : kNoMessage;
        const int64_t at = timeOf(record.value);
        if (const json *content = member(message, "content")) {
            for (const json &block : blocksOf(*content)) {
                if (stringMember(block, "type") == "tool_use") {
                    const json *input = member(block, "input");
                    response.toolUses.push_back({stringMember(block, "id"),
                                                 stringMember(block, "name"),
                                                 input ? *input : json::object(), at});
                    rememberTask(response.toolUses.back());
                }
                response.content.push_back(block);
            }
        }
        for (auto it = message.begin(); it != message.end(); ++it) {
            if (it.key() != "content")
                response.message[it.key()] = it.value();
        }
        if (const json *usage = member(message, "usage"))
            response.usage = largest(response.usage, usageOf(*usage));
        response.firstUs = response.firstUs ? response.firstUs : at;
        response.answeredUs = std::max(response.answeredUs, at);
        if (std::string uuid = stringMember(record.value, "uuid"); !uuid.empty())
            response.uuids.push_back(std::move(uuid));
        thread.latestUs = std::max(thread.latestUs, at);
        return {};
    }

    // Writes the response as a model call followed by its tool calls, then the records
    // that waited for it.
    Status close(Thread &thread)
    {
        Response response = std::move(*thread.response);
        thread.response.reset();
        Step call;
        call.kind = StepKind::ModelCall;
        call.thread = thread.id;
        call.name = stringMember(response.message, "model");
        // The request went out once the record before the answer had been written.
        call.startedUs = response.requestedUs ? response.requestedUs : response.firstUs;
        call.endedUs = response.answeredUs ? response.answeredUs : call.startedUs;
        call.usage = response.usage;
        call.requestParams = json::object();
        if (!call.name.empty())
            call.requestParams["model"] = call.name;
        const std::string stopReason = stringMember(response.message, "stop_reason");
        call.payload = std::move(response.message);
        call.payload["content"] = response.content;
        auto index = m_builder.addLendingConversation(std::move(call), thread.messages);
        if (!index)
            return index.error();
        for (ToolUse &use : response.toolUses) {
            m_callTimes[use.id] = use.atUs;
            auto added = m_builder.addToolCall(thread.id, use.name, use.id, std::move(use.input),
                                               *index, use.atUs);
            if (!added)
                return added.error();
        }
        thread.messages.push_back(
            {{"role", "assistant"}, {"content", std::move(response.content)}});
        for (const std::string &uuid : response.uuids)
            noteLength(uuid, thread);
        if (thread.index == 0)
            m_outcome = stopReason;
        for (Record &record : response.deferred) {
            if (Status s = handle(thread, std::move(record)); !s)
                return s;
        }
        return {};
    }

    // A Task (Agent) call: its description names the sub-agent thread its prompt starts,
    // whose records may come before the call's response is complete.
    void rememberTask(const ToolUse &use)
    {
        const std::string description = stringMember(use.input, "description");
        const std::string prompt = stringMember(use.input, "prompt");
        if (description.empty() || prompt.empty())
            return;
        m_taskDescriptions[use.id] = description;
        m_taskDescriptionsByPrompt[prompt] = description;
    }

    Status user(Thread &thread, Record &record)
    {
        const json *content = contentOf(record.value);
        if (!content) {
            skip(record, "a user record without message.content (a string or a list of blocks)");
            return {};
        }
        const int64_t at = timeOf(record.value);
        if (hasToolResult(*content)) {
            for (const json &block : *content) {
                if (stringMember(block, "type") != "tool_result")
                    continue;
                if (Status s = toolResult(thread, block, record.value, at); !s)
                    return s;
            }
        } else {
            continueFromParent(thread, record.value);
            if (thread.index == 0 && !boolMember(record.value, "isMeta"))
                m_outcome = contentText(*content).rfind("[Request interrupted", 0) == 0
                                ? "interrupted"
                                : std::string();
        }
        appendUserMessage(thread, *content);
        if (thread.compaction && boolMember(record.value, "isCompactSummary")) {
            thread.compaction->payload["summary"] = contentText(*content);
            return flushCompaction(thread);
        }
        return {};
    }

    Status toolResult(Thread &thread, const json &block, const json &record, int64_t at)
    {
        const std::string id = stringMember(block, "tool_use_id");
        int64_t calledUs = at;
        if (auto call = m_callTimes.find(id); call != m_callTimes.end()) {
            calledUs = call->second ? call->second : at;
            m_callTimes.erase(call);
        }
        // A Task call's result names the agent whose file holds the sub-agent's records.
        if (const json *result = member(record, "toolUseResult")) {
            const std::string agentId = stringMember(*result, "agentId");
            auto task = m_taskDescriptions.find(id);
            if (!agentId.empty() && task != m_taskDescriptions.end())
                m_agentDescriptions[agentId] = task->second;
        }
        auto added =
            m_builder.addToolResult(thread.id, id, {}, toolOutput(member(block, "content")),
                                    boolMember(block, "is_error"), calledUs, at);
        return added ? Status() : Status(added.error());
    }

    // A prompt continues the conversation where its parent record left it: before the end
    // when the user went back to an earlier point.
    void continueFromParent(Thread &thread, const json &record)
    {
        auto parent = m_uuids.find(stringMember(record, "parentUuid"));
        if (parent != m_uuids.end() && parent->second.thread == thread.index &&
            parent->second.length < thread.messages.size())
            thread.messages.resize(parent->second.length);
    }

    // Claude Code writes each tool result as a record of its own; the API is sent them as
    // one user message, as it is any run of user content.
    static void appendUserMessage(Thread &thread, const json &content)
    {
        if (!thread.messages.empty() && stringMember(thread.messages.back(), "role") == "user") {
            json &last = thread.messages.back()["content"];
            if (!last.is_array())
                last = blocksOf(last);
            for (const json &block : blocksOf(content))
                last.push_back(block);
            return;
        }
        thread.messages.push_back({{"role", "user"}, {"content", content}});
    }

    Status system(Thread &thread, Record &record)
    {
        const std::string subtype = stringMember(record.value, "subtype");
        if (subtype == "compact_boundary") {
            // The conversation starts again from the summary in the next record; the step
            // waits for it so that it can hold the summary.
            thread.messages.clear();
            Step step = stepOf(thread, record, StepKind::Compaction, "compact");
            thread.compaction = std::move(step);
            return {};
        }
        if (subtype == "microcompact_boundary")
            return note(thread, record, StepKind::Compaction, "microcompact");
        if (subtype == "api_error")
            return note(thread, record, StepKind::Error, "api_error");
        return note(thread, record, StepKind::Annotation,
                    subtype.empty() ? std::string("system") : "system: " + subtype);
    }

    Step stepOf(const Thread &thread, Record &record, StepKind kind, const std::string &name)
    {
        Step step;
        step.kind = kind;
        step.status = kind == StepKind::Error ? StepStatus::Error : StepStatus::Ok;
        step.thread = thread.id;
        step.name = name;
        step.startedUs = step.endedUs = timeOf(record.value);
        step.payload = std::move(record.value);
        return step;
    }

    // A record kept as it is, as a step of the given kind.
    Status note(Thread &thread, Record &record, StepKind kind, const std::string &name)
    {
        if (kind == StepKind::Error && thread.index == 0)
            m_outcome = "api error";
        auto added = m_builder.add(stepOf(thread, record, kind, name));
        return added ? Status() : Status(added.error());
    }

    Status flushCompaction(Thread &thread)
    {
        if (!thread.compaction)
            return {};
        auto added = m_builder.add(std::move(*thread.compaction));
        thread.compaction.reset();
        return added ? Status() : Status(added.error());
    }

    struct KnownUuid {
        size_t thread = 0;
        size_t length = kUnknownLength;
    };

    ImportSource &m_source;
    TrajectoryBuilder &m_builder;
    std::vector<std::string> m_sourceNames;
    std::vector<Record> m_head;
    bool m_started = false;
    std::optional<bool> m_sidechainFile;
    std::string m_sessionId;
    std::string m_outcome;
    std::deque<Thread> m_threads; // a deque, so that references stay valid as threads are added
    std::unordered_map<std::string, KnownUuid> m_uuids;
    std::unordered_map<std::string, size_t> m_agentThreads;
    std::unordered_map<std::string, int64_t> m_callTimes; // of calls still without a result
    std::unordered_map<std::string, std::string> m_taskDescriptions;         // by tool_use id
    std::unordered_map<std::string, std::string> m_taskDescriptionsByPrompt; // by prompt
    std::unordered_map<std::string, std::string> m_agentDescriptions;        // by agent id
};

} // namespace

bool looksLikeClaudeCode(const Sniff &sniff)
{
    const json &first = sniff.firstLine;
    if (!first.is_object())
        return false;
    const std::string type = stringMember(first, "type");
    if (type == "summary")
        return member(first, "leafUuid") != nullptr;
    if (type == "file-history-snapshot")
        return member(first, "snapshot") != nullptr && member(first, "messageId") != nullptr;
    return !type.empty() && !stringMember(first, "sessionId").empty() &&
           (first.contains("parentUuid") || first.contains("uuid") || type == "queue-operation");
}

Status importClaudeCode(ImportSource &source, TrajectoryBuilder &builder)
{
    return Importer(source, builder).run();
}

} // namespace tapedeck::formats::import
