#include "todolist.h"

#include <algorithm>

namespace tapedeck::agent {
namespace {

const char *marker(const std::string &status)
{
    if (status == "done")
        return "[x]";
    if (status == "in_progress")
        return "[>]";
    return "[ ]";
}

} // namespace

ToolResult TodoList::update(const nlohmann::json &items)
{
    if (!items.is_array())
        return ToolResult::error("todo: items must be an array of {content, status} objects");
    std::vector<Item> plan;
    for (size_t i = 0; i < items.size(); ++i) {
        const nlohmann::json &item = items[i];
        const std::string where = "todo: items[" + std::to_string(i) + "]";
        if (!item.is_object() || !item.contains("content") || !item["content"].is_string())
            return ToolResult::error(where + ".content must be a string");
        const std::string status = item.value("status", std::string("pending"));
        if (status != "pending" && status != "in_progress" && status != "done")
            return ToolResult::error(
                where + ".status must be \"pending\", \"in_progress\" or \"done\", not \"" +
                status + "\"");
        plan.push_back({item["content"].get<std::string>(), status});
    }
    m_items = std::move(plan);
    const auto done = std::count_if(m_items.begin(), m_items.end(),
                                    [](const Item &item) { return item.status == "done"; });
    return ToolResult::ok("plan updated: " + std::to_string(m_items.size()) + " items, " +
                          std::to_string(done) + " done\n" + render());
}

std::string TodoList::render() const
{
    if (m_items.empty())
        return "(the plan is empty)\n";
    std::string out;
    for (const Item &item : m_items)
        out.append(marker(item.status)).append(" ").append(item.content).push_back('\n');
    return out;
}

} // namespace tapedeck::agent
