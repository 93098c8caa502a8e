#include "toolbox.h"

#include "filetools.h"

#include <optional>

namespace tapedeck::agent {

using nlohmann::json;
namespace wire = formats::wire;

namespace {

json objectSchema(json properties, json required)
{
    return {{"type", "object"},
            {"properties", std::move(properties)},
            {"required", std::move(required)},
            {"additionalProperties", false}};
}

json stringProperty(const char *description)
{
    return {{"type", "string"}, {"description", description}};
}

std::vector<wire::ToolSpec> toolSpecs()
{
    json todoItem = objectSchema(
        {{"content", stringProperty("What to do")},
         {"status", {{"type", "string"}, {"enum", {"pending", "in_progress", "done"}}}}},
        {"content", "status"});
    return {
        {"bash",
         "Run a shell command with bash -c in the working directory. Returns its combined stdout "
         "and stderr and its exit status. Long-running commands are killed after a timeout.",
         objectSchema({{"command", stringProperty("The command line to run")}}, {"command"})},
        {"read_file",
         "Read a text file. Paths are relative to the working directory. Use offset and limit "
         "to read part of a long file.",
         objectSchema(
             {{"path", stringProperty("The file to read")},
              {"offset", {{"type", "integer"}, {"description", "First line to read, 1-based"}}},
              {"limit", {{"type", "integer"}, {"description", "Number of lines to read"}}}},
             {"path"})},
        {"write_file",
         "Create or overwrite a file with the given content, creating directories as needed.",
         objectSchema({{"path", stringProperty("The file to write")},
                       {"content", stringProperty("The complete new content")}},
                      {"path", "content"})},
        {"edit_file",
         "Replace one exact occurrence of old_string with new_string in a file. Fails unless "
         "old_string occurs exactly once; include enough surrounding text to make it unique.",
         objectSchema({{"path", stringProperty("The file to edit")},
                       {"old_string", stringProperty("The exact text to replace")},
                       {"new_string", stringProperty("The replacement text")}},
                      {"path", "old_string", "new_string"})},
        {"list_dir", "List the entries of a directory (default: the working directory).",
         objectSchema({{"path", stringProperty("The directory to list")}}, json::array())},
        {"todo",
         "Record your plan: the complete list of items with their status. Each call replaces "
         "the whole list; the plan is shown back.",
         objectSchema({{"items", {{"type", "array"}, {"items", todoItem}}}}, {"items"})},
    };
}

// Reads the fields of a call's arguments, remembering the first that does not fit.
class Arguments {
public:
    explicit Arguments(const wire::ToolCall &call) : m_call(call) {}

    std::string string(const char *name, std::optional<std::string> fallback = std::nullopt)
    {
        const json &args = m_call.arguments;
        if (args.is_object() && args.contains(name) && args[name].is_string())
            return args[name].get<std::string>();
        if (fallback && !(args.is_object() && args.contains(name)))
            return *fallback;
        fail(std::string("argument \"") + name + "\" must be a string");
        return {};
    }

    int64_t integer(const char *name)
    {
        const json &args = m_call.arguments;
        if (!args.is_object() || !args.contains(name) || args[name].is_null())
            return 0;
        if (args[name].is_number_integer())
            return args[name].get<int64_t>();
        fail(std::string("argument \"") + name + "\" must be an integer");
        return 0;
    }

    const json &value(const char *name)
    {
        static const json missing;
        if (m_call.arguments.is_object() && m_call.arguments.contains(name))
            return m_call.arguments[name];
        fail(std::string("argument \"") + name + "\" is missing");
        return missing;
    }

    // The error result when an argument did not fit, else nullopt.
    std::optional<ToolResult> problem() const
    {
        if (m_call.arguments.is_string())
            return ToolResult::error(m_call.name + ": the arguments are not valid JSON: " +
                                     m_call.arguments.get<std::string>());
        if (!m_call.arguments.is_object())
            return ToolResult::error(m_call.name + ": the arguments must be a JSON object");
        if (m_problem.empty())
            return std::nullopt;
        return ToolResult::error(m_call.name + ": " + m_problem);
    }

private:
    void fail(std::string why)
    {
        if (m_problem.empty())
            m_problem = std::move(why);
    }

    const wire::ToolCall &m_call;
    std::string m_problem;
};

std::string shorten(std::string text, size_t max)
{
    for (char &c : text) {
        if (c == '\n' || c == '\t')
            c = ' ';
    }
    if (text.size() > max)
        text = text.substr(0, max - 3) + "...";
    return text;
}

} // namespace

Toolbox::Toolbox(std::filesystem::path workdir, BashOptions bash)
    : m_workdir(std::move(workdir)), m_bash(std::move(bash)), m_specs(toolSpecs())
{
    m_bash.workdir = m_workdir.string();
}

bool Toolbox::isRisky(const std::string &toolName)
{
    return toolName == "bash" || toolName == "write_file" || toolName == "edit_file";
}

std::string Toolbox::describe(const wire::ToolCall &call)
{
    const json &args = call.arguments;
    auto field = [&](const char *name) {
        return args.is_object() && args.contains(name) && args[name].is_string()
                   ? args[name].get<std::string>()
                   : std::string();
    };
    if (call.name == "bash")
        return shorten(field("command"), 60);
    if (call.name == "todo") {
        const size_t n = args.is_object() && args.contains("items") && args["items"].is_array()
                             ? args["items"].size()
                             : 0;
        return std::to_string(n) + " items";
    }
    if (call.name == "list_dir" && field("path").empty())
        return ".";
    if (!field("path").empty())
        return shorten(field("path"), 60);
    return shorten(args.dump(), 60);
}

ToolResult Toolbox::run(const wire::ToolCall &call)
{
    Arguments args(call);
    if (call.name == "bash") {
        const std::string command = args.string("command");
        if (auto problem = args.problem())
            return *problem;
        return runBash(command, m_bash);
    }
    if (call.name == "read_file") {
        const std::string path = args.string("path");
        const int64_t offset = args.integer("offset");
        const int64_t limit = args.integer("limit");
        if (auto problem = args.problem())
            return *problem;
        return readFile(m_workdir, path, offset, limit);
    }
    if (call.name == "write_file") {
        const std::string path = args.string("path");
        const std::string content = args.string("content");
        if (auto problem = args.problem())
            return *problem;
        return writeFile(m_workdir, path, content);
    }
    if (call.name == "edit_file") {
        const std::string path = args.string("path");
        const std::string oldString = args.string("old_string");
        const std::string newString = args.string("new_string");
        if (auto problem = args.problem())
            return *problem;
        return editFile(m_workdir, path, oldString, newString);
    }
    if (call.name == "list_dir") {
        const std::string path = args.string("path", std::string("."));
        if (auto problem = args.problem())
            return *problem;
        return listDir(m_workdir, path);
    }
    if (call.name == "todo") {
        const json &items = args.value("items");
        if (auto problem = args.problem())
            return *problem;
        return m_todo.update(items);
    }
    std::string known;
    for (const wire::ToolSpec &spec : m_specs)
        known.append(known.empty() ? "" : ", ").append(spec.name);
    return ToolResult::error("unknown tool \"" + call.name + "\"; the tools are: " + known);
}

} // namespace tapedeck::agent
