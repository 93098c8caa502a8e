// A JSON value that a JSON schema accepts, built from the schema alone: the generic policy
// uses it for tool arguments and for answers that must follow a response schema. It
// understands the parts of JSON Schema that tool definitions use (type, properties,
// required, items, enum, const, default, anyOf/oneOf/allOf, minimum/maximum, minLength,
// minItems/maxItems, format); anything else gets a value of the declared type.
// Deterministic.
#pragma once

#include <nlohmann/json.hpp>

namespace tapedeck::model {

enum class ObjectFill {
    RequiredOnly,  // objects get their required properties (tool arguments)
    AllProperties, // objects get every declared property (structured answers)
};

nlohmann::json exampleForSchema(const nlohmann::json &schema, ObjectFill fill);

} // namespace tapedeck::model
