// Reading a JSON document member by member while knowing where each member sits, so that
// a malformed body fails with the JSON pointer of the bad field and what was expected.
//
// The codecs read with Field and let a ParseFailure travel up to the public entry point,
// which turns it (and any nlohmann exception) into an Error value: nothing leaves the
// library as an exception.
#pragma once

#include <tapedeck/formats/tape.h>

#include <nlohmann/json.hpp>

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::formats::wire::detail {

class ParseFailure : public std::exception {
public:
    explicit ParseFailure(std::string message) : m_message(std::move(message)) {}
    const char *what() const noexcept override { return m_message.c_str(); }

private:
    std::string m_message;
};

// A view of one value of a document and its JSON pointer. Holds a reference: the document
// must outlive it.
class Field {
public:
    explicit Field(const nlohmann::json &value, std::string pointer = {});

    const nlohmann::json &json() const { return *m_value; }
    const std::string &pointer() const { return m_pointer; }

    bool isNull() const { return m_value->is_null(); }
    bool isString() const { return m_value->is_string(); }
    bool isArray() const { return m_value->is_array(); }
    bool isObject() const { return m_value->is_object(); }

    // A member that must be there (and not null); fails when this is not an object.
    Field at(std::string_view key) const;
    // A member that may be absent or null.
    std::optional<Field> find(std::string_view key) const;
    // The elements of an array; fails when this is not one.
    std::vector<Field> elements() const;

    const std::string &string() const;
    int64_t integer() const;
    double number() const;
    bool boolean() const;
    const Field &requireObject() const;

    // The optional member `key` as a string, "" when absent or null.
    std::string stringOr(std::string_view key, std::string fallback = {}) const;
    // The optional member `key` as an integer, `fallback` when absent or null.
    int64_t integerOr(std::string_view key, int64_t fallback = 0) const;
    bool booleanOr(std::string_view key, bool fallback = false) const;

    [[noreturn]] void fail(std::string_view expected) const;

private:
    const nlohmann::json *m_value;
    std::string m_pointer;
};

// "/a/b" for display; the whole document is "(the body)".
std::string displayPointer(const std::string &pointer);
std::string appendPointer(const std::string &pointer, std::string_view token);
std::string jsonTypeName(const nlohmann::json &value);

// Runs `read`, turning a ParseFailure or any exception into a Parse error whose message
// starts with `context` ("openai-chat request: ...").
template <typename T, typename Read>
Result<T> guardedParse(std::string_view context, Read &&read) {
    std::string prefix(context);
    prefix.append(": ");
    try {
        return read();
    } catch (const ParseFailure &failure) {
        return Error{ErrorCode::Parse, prefix.append(failure.what())};
    } catch (const std::exception &e) {
        return Error{ErrorCode::Parse, prefix.append(e.what())};
    }
}

} // namespace tapedeck::formats::wire::detail
