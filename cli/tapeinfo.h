// The report `tapedeck info` prints, also the end of `tapedeck demo`.
#pragma once

#include "tapedeck/formats/tape.h"

#include <ostream>

namespace tapedeck::cli {

// Prints the summary of a tape as text (or as one JSON object). Returns the error that
// stopped it, if any.
formats::Status printTapeInfo(const formats::TapeReader &reader, std::ostream &out, bool json);

} // namespace tapedeck::cli
