#include "schemaexample.h"

#include <algorithm>
#include <string>

namespace tapedeck::model {

using nlohmann::json;

namespace {

constexpr int kMaxDepth = 8;

std::string typeOf(const json &schema)
{
    if (!schema.contains("type")) {
        if (schema.contains("properties"))
            return "object";
        if (schema.contains("items"))
            return "array";
        return "string";
    }
    const json &type = schema.at("type");
    if (type.is_string())
        return type.get<std::string>();
    if (type.is_array()) {
        for (const json &t : type) {
            if (t.is_string() && t != "null")
                return t.get<std::string>();
        }
        return "null";
    }
    return "string";
}

json stringFor(const json &schema)
{
    const std::string format = schema.value("format", "");
    std::string text = "example";
    if (format == "date-time")
        text = "2024-01-01T00:00:00Z";
    else if (format == "date")
        text = "2024-01-01";
    else if (format == "uri" || format == "url")
        text = "https://example.com/";
    else if (format == "email")
        text = "user@example.com";
    const size_t minLength = schema.value("minLength", size_t(0));
    if (text.size() < minLength)
        text.append(minLength - text.size(), 'x');
    if (schema.contains("maxLength") && schema.at("maxLength").is_number_unsigned())
        text.resize(std::min(text.size(), schema.at("maxLength").get<size_t>()));
    return text;
}

json numberFor(const json &schema, bool integer)
{
    double value = 1;
    if (schema.contains("minimum") && schema.at("minimum").is_number())
        value = std::max(value, schema.at("minimum").get<double>());
    if (schema.contains("exclusiveMinimum") && schema.at("exclusiveMinimum").is_number())
        value = std::max(value, schema.at("exclusiveMinimum").get<double>() + 1);
    if (schema.contains("maximum") && schema.at("maximum").is_number())
        value = std::min(value, schema.at("maximum").get<double>());
    if (integer)
        return static_cast<int64_t>(value);
    return value;
}

json example(const json &schema, ObjectFill fill, int depth);

json objectFor(const json &schema, ObjectFill fill, int depth)
{
    json out = json::object();
    const json properties = schema.value("properties", json::object());
    if (!properties.is_object())
        return out;
    if (fill == ObjectFill::AllProperties) {
        for (const auto &[name, property] : properties.items())
            out[name] = example(property, fill, depth + 1);
        return out;
    }
    for (const json &name : schema.value("required", json::array())) {
        if (!name.is_string())
            continue;
        const std::string key = name.get<std::string>();
        out[key] = example(properties.value(key, json::object()), fill, depth + 1);
    }
    return out;
}

json arrayFor(const json &schema, ObjectFill fill, int depth)
{
    json out = json::array();
    if (!schema.contains("items") || !schema.at("items").is_object())
        return out;
    size_t count = std::max<size_t>(1, schema.value("minItems", size_t(0)));
    if (schema.contains("maxItems") && schema.at("maxItems").is_number_unsigned())
        count = std::min(count, schema.at("maxItems").get<size_t>());
    for (size_t i = 0; i < count; ++i)
        out.push_back(example(schema.at("items"), fill, depth + 1));
    return out;
}

json example(const json &schema, ObjectFill fill, int depth)
{
    if (!schema.is_object() || depth > kMaxDepth)
        return nullptr;
    if (schema.contains("const"))
        return schema.at("const");
    if (schema.contains("enum") && schema.at("enum").is_array() && !schema.at("enum").empty())
        return schema.at("enum").front();
    if (schema.contains("default"))
        return schema.at("default");
    for (const char *alternatives : {"anyOf", "oneOf", "allOf"}) {
        if (schema.contains(alternatives) && schema.at(alternatives).is_array() &&
            !schema.at(alternatives).empty())
            return example(schema.at(alternatives).front(), fill, depth + 1);
    }
    const std::string type = typeOf(schema);
    if (type == "object")
        return objectFor(schema, fill, depth);
    if (type == "array")
        return arrayFor(schema, fill, depth);
    if (type == "integer")
        return numberFor(schema, true);
    if (type == "number")
        return numberFor(schema, false);
    if (type == "boolean")
        return false;
    if (type == "null")
        return nullptr;
    return stringFor(schema);
}

} // namespace

json exampleForSchema(const json &schema, ObjectFill fill)
{
    return example(schema, fill, 0);
}

} // namespace tapedeck::model
