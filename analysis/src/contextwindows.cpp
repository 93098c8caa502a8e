// Context windows of well-known models, by name prefix (the longest prefix wins). Figures
// are the providers' published input windows; AnalysisOptions::contextWindowTokens
// overrides them for anything else.
#include <tapedeck/analysis/findings.h>

#include <array>
#include <utility>

namespace tapedeck::analysis {

int64_t knownContextWindow(std::string_view model)
{
    static constexpr std::array<std::pair<std::string_view, int64_t>, 22> kWindows = {{
        {"claude-", 200'000},
        {"gpt-3.5-turbo", 16'385},
        {"gpt-4", 8'192},
        {"gpt-4-32k", 32'768},
        {"gpt-4-turbo", 128'000},
        {"gpt-4o", 128'000},
        {"gpt-4.1", 1'047'576},
        {"gpt-4.5", 128'000},
        {"gpt-5", 400'000},
        {"o1", 200'000},
        {"o3", 200'000},
        {"o4-mini", 200'000},
        {"gemini-1.5-pro", 2'097'152},
        {"gemini-", 1'048'576},
        {"deepseek-", 128'000},
        {"qwen", 131'072},
        {"qwen3", 262'144}, // Qwen3-Max, Qwen3-Coder
        {"mistral-large", 131'072},
        {"codestral", 256'000},
        {"llama-3", 131'072},
        {"grok-4", 256'000},
        {"kimi-k2", 262'144},
    }};
    // Provider-qualified names: "anthropic/claude-...", "openai/gpt-4o".
    if (const size_t slash = model.rfind('/'); slash != std::string_view::npos)
        model = model.substr(slash + 1);
    int64_t window = 0;
    size_t longest = 0;
    for (const auto &[prefix, tokens] : kWindows)
        if (model.substr(0, prefix.size()) == prefix && prefix.size() > longest) {
            longest = prefix.size();
            window = tokens;
        }
    return window;
}

} // namespace tapedeck::analysis
