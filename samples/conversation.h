// One thread's conversation, in the two forms a model call records.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tapedeck::samples {

// The normalized message list (system prompt excluded: it lives in the parameters) and the
// exact Chat Completions request body that resends all of it. The body is kept serialized
// and only ever appended to: a new message is dumped once, and a request costs the bytes
// that are new in it, not a re-serialization of the whole conversation (which would make
// generating a million-step session quadratic in its length).
//
// Body layout: {"model":...,"messages":[{system},m1,...,mN],<the other parameters>}. The
// part after the message array (the tail: sampling parameters, tools, stream flags) is
// appended just for the request and cut off again afterwards.
//
// lendTo() moves the messages, parameters and body into a Step for TapeWriter::append and
// takeBack() moves them back; in between the Conversation is empty and must not be used.
class Conversation {
public:
    Conversation(std::string_view model, std::string_view systemPrompt, nlohmann::json tools,
                 double temperature, int maxTokens);

    void append(nlohmann::json message);
    // Compaction: the conversation restarts from `messages`.
    void restart(std::vector<nlohmann::json> messages);

    size_t messageCount() const { return m_messages.size(); }
    size_t requestBytes() const { return m_body.size() + m_tail.size(); }

    void lendTo(formats::Step &step);
    void takeBack(formats::Step &step);

private:
    std::string m_head;  // {"model":...,"messages":[{system}
    std::string m_body;  // m_head and every message so far
    std::string m_tail;  // ],"max_tokens":...,"tools":[...]}
    std::vector<nlohmann::json> m_messages;
    nlohmann::json m_params;
};

} // namespace tapedeck::samples
