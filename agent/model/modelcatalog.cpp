#include "modelcatalog.h"

namespace tapedeck::model {

using nlohmann::json;

namespace {

// A fixed date, so that answers do not change from run to run.
constexpr int64_t kCreated = 1704067200; // 2024-01-01T00:00:00Z
constexpr const char *kCreatedAt = "2024-01-01T00:00:00Z";

} // namespace

json modelBody(const std::string &id)
{
    return {{"id", id},
            {"object", "model"},
            {"created", kCreated},
            {"owned_by", "tapedeck"},
            {"type", "model"},
            {"display_name", id},
            {"created_at", kCreatedAt}};
}

json modelListBody(const std::vector<std::string> &models)
{
    json data = json::array();
    for (const std::string &id : models)
        data.push_back(modelBody(id));
    return {{"object", "list"},
            {"data", data},
            {"has_more", false},
            {"first_id", models.empty() ? json(nullptr) : json(models.front())},
            {"last_id", models.empty() ? json(nullptr) : json(models.back())}};
}

json geminiModelBody(const std::string &id)
{
    return {{"name", "models/" + id},
            {"version", "001"},
            {"displayName", id},
            {"inputTokenLimit", 1048576},
            {"outputTokenLimit", 65536},
            {"supportedGenerationMethods",
             {"generateContent", "streamGenerateContent", "countTokens"}}};
}

json geminiModelListBody(const std::vector<std::string> &models)
{
    json list = json::array();
    for (const std::string &id : models)
        list.push_back(geminiModelBody(id));
    return {{"models", list}};
}

} // namespace tapedeck::model
