// Reading the optional `step_notes` table, shared by the reader.
#pragma once

#include "tapedeck/formats/tape.h"

namespace tapedeck::formats {

class Database;

Result<std::vector<StepNote>> readStepNotes(Database &db);

} // namespace tapedeck::formats
