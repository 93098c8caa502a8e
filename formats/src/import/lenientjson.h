// Reading members of records whose schema drifts between versions of the tools that wrote
// them: a member that is absent or of another type reads as empty, never as an exception.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tapedeck::formats::import {

// The member, or nullptr when `object` is not an object or has no such member (or null).
const nlohmann::json *member(const nlohmann::json &object, std::string_view key);
// The member when it is a string, "" otherwise.
std::string stringMember(const nlohmann::json &object, std::string_view key);
// The member when it is a number (rounded toward zero), 0 otherwise.
int64_t integerMember(const nlohmann::json &object, std::string_view key);
std::optional<double> numberMember(const nlohmann::json &object, std::string_view key);
bool boolMember(const nlohmann::json &object, std::string_view key);
// The member when it is an array, nullptr otherwise.
const nlohmann::json *arrayMember(const nlohmann::json &object, std::string_view key);

} // namespace tapedeck::formats::import
