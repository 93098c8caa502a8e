// tapedeck-agent: the reference agent on the command line.
#include <tapedeck/agent/agent.h>
#include <tapedeck/replayer/toolreplay.h>

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace {

using tapedeck::agent::AgentConfig;
using tapedeck::agent::ApiKind;
using tapedeck::agent::ApprovalMode;

constexpr int kExitUsage = 2;

std::atomic<int> g_interrupts{0};

void onInterrupt(int)
{
    const int count = ++g_interrupts;
    const char *message = count == 1 ? "\ntapedeck-agent: interrupted; finishing the current step "
                                       "(Ctrl-C again to stop now)\n"
                                     : "\ntapedeck-agent: stopping now\n";
    (void)!write(STDERR_FILENO, message, std::char_traits<char>::length(message));
}

void installInterruptHandler()
{
    struct sigaction action {};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
}

std::string envOr(const char *name, const std::string &fallback)
{
    const char *value = std::getenv(name);
    return value && *value ? std::string(value) : fallback;
}

bool readFile(const std::string &path, std::string &content, const char *what)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::cerr << "tapedeck-agent: cannot read the " << what << " file " << path << "\n";
        return false;
    }
    std::ostringstream text;
    text << in.rdbuf();
    content = text.str();
    return true;
}

// --replay-tools: every tool call is answered with the recorded result of the next unused
// call of that tool with equal arguments in the tape's last run; nothing runs.
bool answerToolsFromTape(const std::string &tape, AgentConfig &config)
{
    auto replay = tapedeck::replayer::ToolReplay::load(tape, {});
    if (!replay) {
        std::cerr << "tapedeck-agent: cannot answer tools from " << tape << ": "
                  << replay.error().message << "\n";
        return false;
    }
    std::cerr << "tapedeck-agent: tools are not run; their calls are answered from "
              << replay->description() << " (" << replay->recordedCount() << " recorded results)\n";
    auto shared = std::make_shared<tapedeck::replayer::ToolReplay>(std::move(*replay));
    config.answerTools = [shared](const std::string &tool, const nlohmann::json &arguments)
        -> tapedeck::formats::Result<tapedeck::agent::ToolAnswer> {
        auto recorded = shared->take(tool, arguments);
        if (!recorded)
            return recorded.error();
        return tapedeck::agent::ToolAnswer{std::move(recorded->output), recorded->isError};
    };
    return true;
}

constexpr const char *kDescription =
    "tapedeck-agent: a tool-using agent that works on a task in a directory.\n"
    "It sends the task to a model API (OpenAI Chat Completions or Anthropic Messages, streamed),\n"
    "prints the answer as it arrives, runs the tools the model calls (bash, read_file,\n"
    "write_file, edit_file, list_dir, todo) in --workdir, sends back their real output, and\n"
    "repeats until the model answers without a tool call or a budget runs out. Progress (one\n"
    "line per model call and per tool call) and a summary at the end go to stderr; the model's\n"
    "text goes to stdout.";

constexpr const char *kFooter =
    "Environment:\n"
    "  OPENAI_BASE_URL, ANTHROPIC_BASE_URL  base URL when --base-url is not given (with or\n"
    "                        without /v1); defaults https://api.openai.com/v1, "
    "https://api.anthropic.com\n"
    "  OPENAI_API_KEY, ANTHROPIC_API_KEY    the API key (Authorization: Bearer / x-api-key)\n"
    "\n"
    "Approvals: questions go to stderr and are answered y/n on stdin. When stdin is not a\n"
    "terminal, one line is read per question, and the end of input denies. A denied tool is\n"
    "not run; the model is told that the user denied it.\n"
    "\n"
    "Ctrl-C (SIGINT) finishes the model call or tool in progress, then stops with the summary;\n"
    "a second Ctrl-C stops at once (a running command's process group is killed).\n"
    "\n"
    "Exit codes:\n"
    "  0  finished: the model answered without calling a tool\n"
    "  1  model or API error (after retries), or an unreadable answer\n"
    "  2  usage error (bad option, missing task, unreadable file, missing --workdir)\n"
    "  3  a budget was exhausted (--max-steps, --max-tokens, --max-wall-seconds)\n"
    "  4  interrupted (SIGINT)\n"
    "  5  --replay-tools: a tool call the tape holds no recorded result for\n"
    "\n"
    "Replaying tools: with --replay-tools FILE (a tape recorded by `tapedeck record` around\n"
    "this agent) no tool runs and nothing is asked: each call gets the recorded result of the\n"
    "next unused call of that tool with equal arguments (JSON equality), in recorded order,\n"
    "from the tape's last run. A call with no such result stops the agent with exit 5 and\n"
    "says what was recorded for that tool. Pair it with `tapedeck replay` for a run with no\n"
    "side effect at all.\n"
    "\n"
    "Example:\n"
    "  OPENAI_BASE_URL=http://127.0.0.1:8080 tapedeck-agent --api openai --model gpt-4o \\\n"
    "      --workdir ./repo --approve risky --max-steps 40 \"Make the tests pass\"";

} // namespace

int main(int argc, char **argv)
{
    CLI::App app(kDescription, "tapedeck-agent");
    app.footer(kFooter);
    app.get_formatter()->column_width(30);

    AgentConfig config;
    std::string api = "openai";
    std::string approve = "never";
    std::string systemPromptFile;
    std::string taskFile;
    std::string replayToolsFile;

    app.add_option("--api", api, "The model API: openai (Chat Completions) or anthropic (Messages)")
        ->check(CLI::IsMember({"openai", "anthropic"}))
        ->capture_default_str();
    app.add_option("--model", config.model, "The model name sent with each request")->required();
    app.add_option(
        "--base-url", config.baseUrl,
        "The API's base URL, with or without /v1 (default: OPENAI_BASE_URL or ANTHROPIC_BASE_URL)");
    app.add_option("--workdir", config.workdir, "The directory the tools work in")
        ->capture_default_str();
    auto *promptOption =
        app.add_option("--system-prompt", config.systemPrompt,
                       "The system prompt (default: a built-in one for coding tasks)");
    app.add_option("--system-prompt-file", systemPromptFile,
                   "Read the system prompt from this file")
        ->excludes(promptOption);
    auto *taskOption = app.add_option("task", config.task, "The task: the first user message");
    app.add_option("--task-file", taskFile, "Read the task from this file")->excludes(taskOption);

    app.add_option("--max-steps", config.maxSteps,
                   "Stop after this many model calls, compactions included (0: no limit)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--max-tokens", config.maxTokens,
                   "Stop once the run has used this many tokens, input plus output (0: no limit)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--max-wall-seconds", config.maxWallSeconds,
                   "Stop once the run has taken this long (0: no limit)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--max-response-tokens", config.maxResponseTokens,
                   "The max_tokens of each request")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--max-retries", config.maxRetries,
                   "Retries of a model call on 429, 5xx and dropped connections (exponential "
                   "backoff, retry-after honoured up to 60s)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--request-timeout", config.requestTimeoutSeconds,
                   "Seconds one model call may take, stream included")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--bash-timeout", config.bashTimeoutSeconds,
                   "Seconds a bash command may run before its process group is killed")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--bash-output-cap", config.bashOutputCap,
                   "Bytes of a command's output sent to the model (its head and tail)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--approve", approve,
                   "Ask before tools run: never, risky (write_file, edit_file, bash) or always")
        ->check(CLI::IsMember({"never", "risky", "always"}))
        ->capture_default_str();
    app.add_option("--compact-at-tokens", config.compactAtTokens,
                   "Summarise the conversation when it passes this many tokens (0: never)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--replay-tools", replayToolsFile,
                   "Run no tool: answer each call from this tape's recorded results (below)")
        ->type_name("FILE");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        app.exit(e);
        return kExitUsage;
    }

    if (!taskFile.empty() && !readFile(taskFile, config.task, "task"))
        return kExitUsage;
    if (!systemPromptFile.empty() &&
        !readFile(systemPromptFile, config.systemPrompt, "system prompt"))
        return kExitUsage;
    if (config.task.empty()) {
        std::cerr << "tapedeck-agent: no task; give it as the last argument or with --task-file "
                     "(see --help)\n";
        return kExitUsage;
    }

    const bool anthropic = api == "anthropic";
    config.api = anthropic ? ApiKind::Anthropic : ApiKind::OpenAI;
    if (config.baseUrl.empty())
        config.baseUrl = anthropic ? envOr("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
                                   : envOr("OPENAI_BASE_URL", "https://api.openai.com/v1");
    config.apiKey = envOr(anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY", "");
    config.approve = approve == "always"  ? ApprovalMode::Always
                     : approve == "risky" ? ApprovalMode::Risky
                                          : ApprovalMode::Never;
    config.interrupts = &g_interrupts;
    if (!replayToolsFile.empty() && !answerToolsFromTape(replayToolsFile, config))
        return kExitUsage;
    installInterruptHandler();

    tapedeck::agent::AgentIo io{std::cout, std::cerr, STDIN_FILENO, isatty(STDIN_FILENO) == 1};
    auto summary = tapedeck::agent::runAgent(config, io);
    if (!summary) {
        std::cerr << "tapedeck-agent: " << summary.error().message << "\n";
        return kExitUsage;
    }
    std::cout << std::flush;
    std::cerr << tapedeck::agent::formatSummary(*summary) << std::flush;
    return tapedeck::agent::exitCodeFor(summary->reason);
}
