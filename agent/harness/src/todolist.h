// The todo tool: the agent's plan, a list of items with a status, kept for the whole run.
#pragma once

#include "toolresult.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tapedeck::agent {

class TodoList {
public:
    // Replaces the plan with `items` (the tool's "items" argument: objects with "content"
    // and "status" = "pending" | "in_progress" | "done") and shows it back. A malformed
    // item leaves the plan unchanged and names the item and the field.
    ToolResult update(const nlohmann::json &items);
    // "[x] done", "[>] in progress", "[ ] pending", one item a line.
    std::string render() const;

private:
    struct Item {
        std::string content;
        std::string status;
    };
    std::vector<Item> m_items;
};

} // namespace tapedeck::agent
