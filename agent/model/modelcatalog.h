// The model lists the server answers GET /v1/models and GET /v1beta/models with, in the
// shapes the SDKs read: one list whose entries carry both OpenAI's members (object,
// created, owned_by) and Anthropic's (type, display_name, created_at, and the page's
// has_more/first_id/last_id), and Gemini's {"models": [{"name": "models/ID", ...}]}.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tapedeck::model {

nlohmann::json modelListBody(const std::vector<std::string> &models);
nlohmann::json modelBody(const std::string &id);

nlohmann::json geminiModelListBody(const std::vector<std::string> &models);
nlohmann::json geminiModelBody(const std::string &id);

} // namespace tapedeck::model
