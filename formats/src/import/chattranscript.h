// A conversation in OpenAI Chat Completions form, turned into steps message by message:
// each assistant message is a model call over every message before it (the conversation as
// the model saw it), followed by a tool call step per tool call it made; each tool message
// is the result of one. Shared by the importers of formats that keep such message lists
// (plain message lists, SWE-agent, mini-swe-agent, Inspect, OpenHands).
#pragma once

#include "trajectorybuilder.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tapedeck::formats::import {

// What a format knows about one message beyond the message itself.
struct MessageDetails {
    std::string model;           // an assistant message: the model that wrote it
    Usage usage;
    std::optional<double> costUsd;
    int64_t startedUs = 0;       // an assistant message: when the call was made
    int64_t endedUs = 0;         // when the message was complete
    bool isError = false;        // a tool message: the tool failed; an assistant: the call did
};

class ChatTranscript {
public:
    ChatTranscript(TrajectoryBuilder &builder, ThreadId thread, std::string defaultModel = {});

    // Adds a message. Returns the model call step an assistant message became, or nullopt
    // for the other roles.
    Result<std::optional<StepIndex>> add(nlohmann::json message, const MessageDetails &details = {});

    // Keeps the messages that came after the last assistant message (the user's last word,
    // a tool result nobody read) as one Annotation step "unanswered_messages", so that no
    // message of the conversation is lost. Call once, at the end of the conversation.
    Status finish(int64_t atUs = 0);

    const std::vector<nlohmann::json> &messages() const { return m_messages; }
    std::optional<StepIndex> lastModelCall() const { return m_lastModelCall; }

private:
    TrajectoryBuilder &m_builder;
    ThreadId m_thread;
    std::string m_defaultModel;
    std::vector<nlohmann::json> m_messages;
    std::optional<StepIndex> m_lastModelCall;
    size_t m_answered = 0; // messages up to and including the last assistant message
};

// The text of an OpenAI message's content: a string as it is, an array of parts as their
// text joined by blank lines; "" otherwise.
std::string contentText(const nlohmann::json &content);

} // namespace tapedeck::formats::import
