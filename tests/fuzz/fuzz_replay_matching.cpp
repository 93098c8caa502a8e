// Replay matching on hostile input: a user's rules file (--match-rules) and request
// bodies. Nothing may crash, throw, trip a sanitizer or allocate without bound; a bad rules
// file is an error that names FILE:LINE; a normalised body compares the same as itself and
// normalising it again changes nothing. A fork's edits (requestedit.h) made to the body, on
// a first and a later request, leave it an object.
//
// Input: the rules file's text, a 0 byte, then a request body (JSON); without a 0 byte,
// the whole input is the body and only the built-in rules apply.
#include "matchrules.h"
#include "requestcomparison.h"
#include "requestedit.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace tapedeck;
using namespace tapedeck::replayer;
namespace fw = tapedeck::formats::wire;

namespace {

[[noreturn]] void fail(const std::string &what)
{
    std::fprintf(stderr, "fuzz_replay_matching: %s\n", what.c_str());
    std::abort();
}

const std::string &rulesPath()
{
    static const std::string path = "/tmp/fuzz_replay_matching." + std::to_string(getpid()) + ".jsonl";
    return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string input(reinterpret_cast<const char *>(data), size);
    const size_t split = input.find('\0');
    static const MatchRules builtIn = MatchRules::builtIn();
    const MatchRules *rules = &builtIn;
    std::optional<MatchRules> withFile;
    if (split != std::string::npos) {
        {
            std::ofstream file(rulesPath(), std::ios::trunc | std::ios::binary);
            file << input.substr(0, split);
        }
        formats::Result<MatchRules> parsed = MatchRules::builtInPlus(rulesPath());
        if (!parsed) {
            if (parsed.error().message.find(rulesPath()) == std::string::npos)
                fail("a rules-file error that does not name the file: " + parsed.error().message);
            return 0;
        }
        withFile = std::move(*parsed);
        rules = &*withFile;
    }
    const nlohmann::json body = nlohmann::json::parse(
        split == std::string::npos ? input : input.substr(split + 1), nullptr, false);
    if (body.is_discarded())
        return 0;
    for (fw::Api api : {fw::Api::OpenAIChat, fw::Api::OpenAIResponses, fw::Api::AnthropicMessages, fw::Api::Gemini}) {
        const nlohmann::json once = rules->normalise(api, body);
        if (!compareRequests(api, once, once).same())
            fail(std::string("a normalised body differs from itself (") + fw::apiName(api) + ")");
        (void)compareRequests(api, once, rules->normalise(api, nlohmann::json::object()));
        (void)unifiedDiff(once.dump(1), body.dump(1));

        RequestEditor editor({{RequestEdit::Kind::ToolResult, "call_1", "edited", ""},
                              {RequestEdit::Kind::AppendUser, "", "added", ""},
                              {RequestEdit::Kind::Model, "", "", "other-model"}});
        std::string target = "/v1beta/models/m:streamGenerateContent?alt=sse";
        for (int request = 0; request < 2; ++request) {
            nlohmann::json edited = body;
            (void)editor.apply(api, target, edited);
            if (body.is_object() != edited.is_object())
                fail(std::string("an edit changed what the body is (") + fw::apiName(api) + ")");
        }
    }
    return 0;
}
