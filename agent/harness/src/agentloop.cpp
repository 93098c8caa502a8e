// The agent loop: model call, tool calls, results back, until something says stop.
#include <tapedeck/agent/agent.h>

#include "approvalgate.h"
#include "compaction.h"
#include "modelclient.h"
#include "toolbox.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <ostream>

namespace tapedeck::agent {

using formats::Error;
using formats::ErrorCode;
using formats::Result;
namespace wire = formats::wire;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

std::string seconds(double s)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.2fs", s);
    return text;
}

int64_t totalTokens(const formats::Usage &usage)
{
    return usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
}

void addUsage(formats::Usage &total, const formats::Usage &more)
{
    total.inputTokens += more.inputTokens;
    total.outputTokens += more.outputTokens;
    total.cacheReadTokens += more.cacheReadTokens;
    total.cacheWriteTokens += more.cacheWriteTokens;
}

class AgentLoop {
public:
    AgentLoop(const AgentConfig &config, AgentIo &io, fs::path workdir)
        : m_config(config), m_io(io), m_started(Clock::now()),
          m_client(ClientConfig{config.api == ApiKind::Anthropic ? wire::Api::AnthropicMessages
                                                                 : wire::Api::OpenAIChat,
                                config.baseUrl, config.apiKey, config.maxRetries,
                                config.requestTimeoutSeconds, config.interrupts}),
          m_tools(
              workdir,
              BashOptions{{}, config.bashTimeoutSeconds, config.bashOutputCap, config.interrupts}),
          m_gate(config.approve, io.answersFd, io.answersFromTerminal, io.log, config.interrupts)
    {
        m_request.api =
            config.api == ApiKind::Anthropic ? wire::Api::AnthropicMessages : wire::Api::OpenAIChat;
        m_request.model = config.model;
        m_request.system =
            config.systemPrompt.empty() ? defaultSystemPrompt() : config.systemPrompt;
        m_request.tools = m_tools.specs();
        m_request.maxTokens = config.maxResponseTokens;
        m_request.stream = true;
        if (m_request.api == wire::Api::OpenAIChat)
            m_request.extra["stream_options"] = {{"include_usage", true}};
        wire::Message task;
        task.role = wire::Role::User;
        task.text = config.task;
        m_request.messages.push_back(std::move(task));
    }

    RunSummary run()
    {
        while (true) {
            if (auto stop = budgetStop()) {
                stopWith(stop->first, stop->second);
                break;
            }
            if (shouldCompact()) {
                if (!compact())
                    break;
                continue;
            }
            if (!step())
                break;
        }
        m_summary.wallSeconds = elapsed();
        return m_summary;
    }

private:
    double elapsed() const
    {
        return std::chrono::duration<double>(Clock::now() - m_started).count();
    }
    int interrupts() const { return m_config.interrupts ? m_config.interrupts->load() : 0; }

    void stopWith(StopReason reason, std::string detail)
    {
        m_summary.reason = reason;
        m_summary.detail = std::move(detail);
    }

    std::string stepLabel() const { return "[step " + std::to_string(m_summary.steps) + "]"; }

    // The reason to stop before the next model call, if there is one.
    std::optional<std::pair<StopReason, std::string>> budgetStop() const
    {
        if (interrupts() > 0)
            return std::pair{StopReason::Interrupted,
                             std::string("interrupted by the user (SIGINT)")};
        if (m_config.maxSteps > 0 && m_summary.steps >= m_config.maxSteps)
            return std::pair{StopReason::StepBudget,
                             "used " + std::to_string(m_summary.steps) + " of " +
                                 std::to_string(m_config.maxSteps) + " model calls"};
        if (m_config.maxTokens > 0 && totalTokens(m_summary.usage) >= m_config.maxTokens)
            return std::pair{StopReason::TokenBudget,
                             "used " + std::to_string(totalTokens(m_summary.usage)) + " of " +
                                 std::to_string(m_config.maxTokens) + " tokens"};
        if (m_config.maxWallSeconds > 0 && elapsed() >= m_config.maxWallSeconds)
            return std::pair{StopReason::WallBudget, "ran " + seconds(elapsed()) + " of " +
                                                         seconds(m_config.maxWallSeconds)};
        return std::nullopt;
    }

    // The conversation's size now: what the last response reported for its request and
    // answer, plus an estimate of what was added since; an estimate of everything when the
    // API reported no usage.
    int64_t contextTokens() const
    {
        if (m_lastCallTokens == 0)
            return approximateTokens(m_request);
        const std::vector<wire::Message> added(
            m_request.messages.begin() +
                static_cast<std::ptrdiff_t>(std::min(m_messagesCounted, m_request.messages.size())),
            m_request.messages.end());
        return m_lastCallTokens + approximateTokens(added);
    }

    bool shouldCompact() const
    {
        return m_config.compactAtTokens > 0 && !m_justCompacted && canCompact(m_request.messages) &&
               contextTokens() > m_config.compactAtTokens;
    }

    CallCallbacks callbacks(bool printText)
    {
        CallCallbacks callbacks;
        if (printText) {
            callbacks.onText = [this](std::string_view text) {
                m_io.out << text << std::flush;
                m_textEndsLine = text.ends_with('\n');
            };
        }
        callbacks.onRetry = [this](const std::string &why) {
            ++m_summary.retries;
            m_io.log << stepLabel() << " retrying: " << why << "\n" << std::flush;
        };
        return callbacks;
    }

    // A model call's failure ends the run; the reason is the user's when they interrupted.
    void stopOnCallError(const Error &error)
    {
        if (interrupts() >= 2)
            stopWith(StopReason::Interrupted,
                     "interrupted by the user (SIGINT) during a model call");
        else
            stopWith(StopReason::ModelError, error.message);
        m_io.log << stepLabel() << " model call failed: " << error.message << "\n" << std::flush;
    }

    // The compaction is a step of its own: a model call whose answer replaces the history.
    bool compact()
    {
        ++m_summary.steps;
        const int64_t before = contextTokens();
        const size_t messages = m_request.messages.size();
        m_io.log << stepLabel() << " compaction: the conversation is ~" << before
                 << " tokens (limit " << m_config.compactAtTokens
                 << "); asking the model to summarise " << messages << " messages\n"
                 << std::flush;
        const auto started = Clock::now();
        auto response = m_client.call(compactionRequest(m_request), callbacks(false));
        if (!response) {
            stopOnCallError(response.error());
            return false;
        }
        addUsage(m_summary.usage, response->usage);
        m_justCompacted = true;
        // An empty summary would throw the conversation away for nothing: keep it instead.
        if (response->text.empty()) {
            m_io.log << stepLabel() << " compaction gave no summary; the conversation is kept\n"
                     << std::flush;
            return true;
        }
        ++m_summary.compactions;
        m_request.messages = compactedHistory(m_request.messages, response->text);
        m_lastCallTokens = 0;
        m_io.log << stepLabel() << " compaction done ("
                 << seconds(std::chrono::duration<double>(Clock::now() - started).count())
                 << "): " << messages << " messages -> " << m_request.messages.size() << ", ~"
                 << contextTokens() << " tokens; summary:\n"
                 << response->text << "\n"
                 << std::flush;
        return true;
    }

    // One model call and the tool calls it asks for. False when the run ends here.
    bool step()
    {
        ++m_summary.steps;
        const auto started = Clock::now();
        m_textEndsLine = true;
        auto response = m_client.call(m_request, callbacks(true));
        if (!m_textEndsLine)
            m_io.out << "\n" << std::flush;
        if (!response) {
            stopOnCallError(response.error());
            return false;
        }
        addUsage(m_summary.usage, response->usage);
        m_lastCallTokens = response->usage.inputTokens + response->usage.cacheReadTokens +
                           response->usage.cacheWriteTokens + response->usage.outputTokens;
        m_justCompacted = false;
        m_summary.finalText = response->text;
        m_io.log << stepLabel() << " model "
                 << seconds(std::chrono::duration<double>(Clock::now() - started).count()) << ", "
                 << response->usage.inputTokens << " in / " << response->usage.outputTokens
                 << " out tokens, " << response->toolCalls.size() << " tool calls, stop "
                 << wire::stopReasonName(response->stopReason) << "\n"
                 << std::flush;

        wire::Message answer;
        answer.role = wire::Role::Assistant;
        answer.text = response->text;
        answer.thinking = response->thinking;
        answer.toolCalls = response->toolCalls;
        m_request.messages.push_back(std::move(answer));
        m_messagesCounted = m_request.messages.size();

        if (response->toolCalls.empty()) {
            stopWith(StopReason::Finished, response->stopReason == wire::StopReason::MaxTokens
                                               ? "the model's answer was cut at max_tokens"
                                               : "the model answered without a tool call");
            return false;
        }
        for (const wire::ToolCall &call : response->toolCalls) {
            std::optional<wire::Message> result = runTool(call);
            if (!result)
                return false;
            m_request.messages.push_back(std::move(*result));
        }
        return true;
    }

    // Why a tool should not start, when it should not.
    std::optional<std::string> toolSkipReason() const
    {
        if (interrupts() > 0)
            return "not run: the user interrupted the agent";
        if (m_config.maxWallSeconds > 0 && elapsed() >= m_config.maxWallSeconds)
            return "not run: the agent's wall-time budget is exhausted";
        return std::nullopt;
    }

    // The tool's result as the message to send back; nullopt when the run ends here, because
    // AgentConfig::answerTools had no answer for the call.
    std::optional<wire::Message> runTool(const wire::ToolCall &call)
    {
        const std::string what = call.name + " " + Toolbox::describe(call);
        const auto started = Clock::now();
        ToolResult result;
        if (auto skip = toolSkipReason()) {
            result = {*skip, true, "skipped"};
        } else if (m_config.answerTools) {
            Result<ToolAnswer> answer = m_config.answerTools(call.name, call.arguments);
            if (!answer) {
                m_io.log << stepLabel() << "   " << what
                         << " not answered: " << answer.error().message << "\n"
                         << std::flush;
                stopWith(StopReason::NoToolAnswer, answer.error().message);
                return std::nullopt;
            }
            result = {std::move(answer->output), answer->isError,
                      answer->isError ? "replayed (error)" : "replayed"};
            ++m_summary.toolCalls[call.name];
        } else if (m_gate.needsApproval(call.name) && !m_gate.ask("approve " + what + "?")) {
            result = {"The user denied this tool call; it was not run.", true, "denied"};
            ++m_summary.toolCalls[call.name];
        } else {
            result = m_tools.run(call);
            ++m_summary.toolCalls[call.name];
        }
        if (result.isError && result.status != "skipped")
            ++m_summary.toolErrors;
        m_io.log << stepLabel() << "   " << what << " ("
                 << seconds(std::chrono::duration<double>(Clock::now() - started).count()) << ") "
                 << result.status << "\n"
                 << std::flush;
        if (call.name == "todo" && !result.isError)
            m_io.log << result.output << std::flush;

        wire::Message message;
        message.role = wire::Role::Tool;
        message.toolCallId = call.id;
        message.toolName = call.name;
        message.text = std::move(result.output);
        message.isError = result.isError;
        return message;
    }

    const AgentConfig &m_config;
    AgentIo &m_io;
    Clock::time_point m_started;
    ModelClient m_client;
    Toolbox m_tools;
    ApprovalGate m_gate;
    wire::Request m_request;
    RunSummary m_summary;
    int64_t m_lastCallTokens = 0; // the last response's reported request + answer size
    size_t m_messagesCounted = 0; // messages that m_lastCallTokens covers
    bool m_justCompacted = false; // no second compaction before the model has answered
    bool m_textEndsLine = true;
};

Result<fs::path> checkedWorkdir(const std::string &workdir)
{
    std::error_code ec;
    const fs::path dir = fs::absolute(workdir.empty() ? "." : workdir, ec);
    if (ec || !fs::is_directory(dir, ec))
        return Error{ErrorCode::InvalidArgument, "workdir: " + workdir + " is not a directory"};
    return dir.lexically_normal();
}

} // namespace

std::string defaultSystemPrompt()
{
    return "You are a careful software engineering agent working in a directory on the user's "
           "machine. Use the tools to look before you change anything: list_dir and read_file to "
           "explore, edit_file for small exact changes, write_file for new files, bash to build, "
           "test and run things. Paths are relative to the working directory. Keep a plan with "
           "the todo tool for tasks of more than a few steps. Tool results are the real output "
           "of real commands, errors included: read them and fix what failed. When the task is "
           "done, answer with a short report of what you did, without calling a tool.";
}

Result<RunSummary> runAgent(const AgentConfig &config, AgentIo &io)
{
    if (config.task.empty())
        return Error{ErrorCode::InvalidArgument, "task: empty; the agent needs a task"};
    if (config.model.empty())
        return Error{ErrorCode::InvalidArgument, "model: empty; name the model to use"};
    if (config.baseUrl.empty())
        return Error{ErrorCode::InvalidArgument, "base URL: empty; give the API's base URL"};
    auto workdir = checkedWorkdir(config.workdir);
    if (!workdir)
        return workdir.error();
    AgentLoop loop(config, io, *workdir);
    return loop.run();
}

} // namespace tapedeck::agent
