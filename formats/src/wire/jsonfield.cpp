#include "jsonfield.h"

namespace tapedeck::formats::wire::detail {

std::string displayPointer(const std::string &pointer) {
    return pointer.empty() ? std::string("(the body)") : pointer;
}

std::string appendPointer(const std::string &pointer, std::string_view token) {
    std::string out = pointer;
    out.push_back('/');
    for (char c : token) {
        if (c == '~')
            out.append("~0");
        else if (c == '/')
            out.append("~1");
        else
            out.push_back(c);
    }
    return out;
}

std::string jsonTypeName(const nlohmann::json &value) {
    switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number";
    default: return "something else";
    }
}

Field::Field(const nlohmann::json &value, std::string pointer)
    : m_value(&value), m_pointer(std::move(pointer)) {}

void Field::fail(std::string_view expected) const {
    std::string message = displayPointer(m_pointer);
    message.append(": expected ").append(expected).append(", got ").append(
        jsonTypeName(*m_value));
    if (m_value->is_string()) {
        std::string shown = m_value->get_ref<const std::string &>().substr(0, 40);
        message.push_back(' ');
        message.append(nlohmann::json(shown).dump(-1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace));
    }
    throw ParseFailure(std::move(message));
}

const Field &Field::requireObject() const {
    if (!m_value->is_object())
        fail("an object");
    return *this;
}

Field Field::at(std::string_view key) const {
    requireObject();
    auto it = m_value->find(key);
    if (it == m_value->end() || it->is_null()) {
        std::string message = displayPointer(m_pointer);
        message.append(": expected a member \"").append(key).append("\"");
        throw ParseFailure(std::move(message));
    }
    return Field(*it, appendPointer(m_pointer, key));
}

std::optional<Field> Field::find(std::string_view key) const {
    requireObject();
    auto it = m_value->find(key);
    if (it == m_value->end() || it->is_null())
        return std::nullopt;
    return Field(*it, appendPointer(m_pointer, key));
}

std::vector<Field> Field::elements() const {
    if (!m_value->is_array())
        fail("an array");
    std::vector<Field> out;
    out.reserve(m_value->size());
    for (size_t i = 0; i < m_value->size(); ++i)
        out.emplace_back((*m_value)[i], appendPointer(m_pointer, std::to_string(i)));
    return out;
}

const std::string &Field::string() const {
    if (!m_value->is_string())
        fail("a string");
    return m_value->get_ref<const std::string &>();
}

int64_t Field::integer() const {
    if (m_value->is_number_integer())
        return m_value->get<int64_t>();
    if (m_value->is_number_unsigned()) {
        uint64_t v = m_value->get<uint64_t>();
        if (v <= uint64_t(INT64_MAX))
            return int64_t(v);
    }
    fail("an integer");
}

double Field::number() const {
    if (!m_value->is_number())
        fail("a number");
    return m_value->get<double>();
}

bool Field::boolean() const {
    if (!m_value->is_boolean())
        fail("a boolean");
    return m_value->get<bool>();
}

std::string Field::stringOr(std::string_view key, std::string fallback) const {
    auto member = find(key);
    return member ? member->string() : fallback;
}

int64_t Field::integerOr(std::string_view key, int64_t fallback) const {
    auto member = find(key);
    return member ? member->integer() : fallback;
}

bool Field::booleanOr(std::string_view key, bool fallback) const {
    auto member = find(key);
    return member ? member->boolean() : fallback;
}

} // namespace tapedeck::formats::wire::detail
