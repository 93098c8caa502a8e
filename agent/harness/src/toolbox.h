// The agent's tools: their JSON schemas as sent to the model, and their execution.
//
// A call whose arguments do not fit the schema (not JSON, a missing or mistyped field, an
// unknown tool) is answered with an error result that says what was expected, like any
// other failing tool: the model sees it and can correct itself.
#pragma once

#include "bashtool.h"
#include "todolist.h"
#include "toolresult.h"

#include <tapedeck/formats/wire.h>

#include <filesystem>
#include <string>
#include <vector>

namespace tapedeck::agent {

class Toolbox {
public:
    // bash.workdir is set from `workdir`.
    Toolbox(std::filesystem::path workdir, BashOptions bash);

    const std::vector<formats::wire::ToolSpec> &specs() const { return m_specs; }
    ToolResult run(const formats::wire::ToolCall &call);

    // write_file, edit_file and bash: the tools --approve risky asks about.
    static bool isRisky(const std::string &toolName);
    // The arguments in a few words, for progress lines and approval questions.
    static std::string describe(const formats::wire::ToolCall &call);

private:
    std::filesystem::path m_workdir;
    BashOptions m_bash;
    TodoList m_todo;
    std::vector<formats::wire::ToolSpec> m_specs;
};

} // namespace tapedeck::agent
