// The .tape schema: the one place that knows the format version, the DDL and the checks
// made when a file is opened. formats/FORMAT.md documents every table below; change both
// together, and bump kFormatVersion for any change an older reader would misread.
#pragma once

#include "database.h"

namespace tapedeck::formats {

// 'TAPE' in ASCII: `PRAGMA application_id`, so `file(1)` and our reader can tell a tape
// from any other SQLite database.
inline constexpr int32_t kApplicationId = 0x54415045;
inline constexpr int kFormatVersion = 1;

// Blob roles, kept per blob so that `info` can say where the bytes go and how many
// distinct messages a tape holds.
enum class BlobRole : int { Content = 1, Wire = 2, Message = 3 };

// What a row of text_sources says the indexed text came from.
enum class TextField : int { Message = 1, ToolArguments = 2, ToolOutput = 3, Payload = 4 };
const char *textFieldName(TextField field);

// Creates every table of the current version in an empty database.
Status createSchema(Database &db);
// Checks application_id and user_version of an opened database: NotATape, FutureVersion
// or Corrupt (an unreadable header) otherwise. Returns the file's version.
Result<int> checkSchema(Database &db);
// An integer kept in the meta table; 0 when the key is absent.
Result<int64_t> readMetaInteger(Database &db, const char *key);

// Settings every connection uses (WAL, foreign keys off for speed: the writer keeps
// references valid and verify checks them).
Status configureConnection(Database &db, bool writer);

} // namespace tapedeck::formats
