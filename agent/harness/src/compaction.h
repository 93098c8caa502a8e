// Context compaction: when the conversation grows past a token limit, the model summarises
// it and the summary replaces the history.
//
// The shape is a contract other parts of Tapedeck rely on (the scripted model server
// recognises a compaction request by its first sentence): the compaction request ends with
// a user message starting with kCompactionPrompt's first sentence and forbids tool use;
// the new history starts with a user message that starts with kSummaryPrefix, followed by
// the latest turn (the last assistant message and the tool results answering it).
#pragma once

#include <tapedeck/formats/wire.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tapedeck::agent {

inline constexpr const char *kCompactionPrompt =
    "Write a summary of the conversation so far. It will replace the conversation, so include "
    "everything needed to carry on: the task, what has been done, the files and commands "
    "involved and their results, what was learned, and what remains to do. Answer with the "
    "summary only.";
inline constexpr const char *kSummaryPrefix = "[Summary of the earlier conversation]";

// About four characters a token: the size of everything a request sends.
int64_t approximateTokens(const formats::wire::Request &request);
int64_t approximateTokens(const std::vector<formats::wire::Message> &messages);

// Where the latest turn starts: the index of the last assistant message, or messages.size()
// when there is none.
size_t latestTurnStart(const std::vector<formats::wire::Message> &messages);

// True when there is an earlier part to summarise: something beyond the task before the
// latest turn.
bool canCompact(const std::vector<formats::wire::Message> &messages);

// The request that asks for the summary: `request` plus the prompt, with tool use switched
// off (tool_choice "none"). The tools themselves stay: the Messages API refuses a history
// holding tool_use and tool_result blocks when the request defines no tools.
formats::wire::Request compactionRequest(const formats::wire::Request &request);

// The history that replaces `messages`: the summary, then the latest turn.
std::vector<formats::wire::Message>
compactedHistory(const std::vector<formats::wire::Message> &messages, const std::string &summary);

} // namespace tapedeck::agent
