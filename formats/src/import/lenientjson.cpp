#include "lenientjson.h"

namespace tapedeck::formats::import {

using nlohmann::json;

const json *member(const json &object, std::string_view key)
{
    if (!object.is_object())
        return nullptr;
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return nullptr;
    return &*it;
}

std::string stringMember(const json &object, std::string_view key)
{
    const json *m = member(object, key);
    return m && m->is_string() ? m->get<std::string>() : std::string();
}

int64_t integerMember(const json &object, std::string_view key)
{
    const json *m = member(object, key);
    if (!m || !m->is_number())
        return 0;
    if (m->is_number_float()) {
        const double v = m->get<double>();
        return v > -9.2e18 && v < 9.2e18 ? int64_t(v) : 0;
    }
    return m->is_number_unsigned() ? int64_t(m->get<uint64_t>() & INT64_MAX) : m->get<int64_t>();
}

std::optional<double> numberMember(const json &object, std::string_view key)
{
    const json *m = member(object, key);
    if (!m || !m->is_number())
        return std::nullopt;
    return m->get<double>();
}

bool boolMember(const json &object, std::string_view key)
{
    const json *m = member(object, key);
    return m && m->is_boolean() && m->get<bool>();
}

const json *arrayMember(const json &object, std::string_view key)
{
    const json *m = member(object, key);
    return m && m->is_array() ? m : nullptr;
}

} // namespace tapedeck::formats::import
