// The exit codes of every tapedeck command (README, "Exit codes").
#pragma once

#include "tapedeck/formats/tape.h"

namespace tapedeck::cli {

enum ExitCode : int {
    kExitOk = 0,
    kExitCheckFailed = 1,  // verify found problems; search found nothing
    kExitUsage = 2,        // bad command line
    kExitCannotOpen = 3,   // input missing, unreadable, not a tape, or from a newer version
    kExitDamaged = 4,      // the tape (or interchange input) is damaged or malformed
    kExitCannotWrite = 5,  // the output could not be written
    kExitDiverged = 6,     // replay: a request did not match the recording (or, with --check,
                           // recorded calls were never asked for)
};

// The exit code that reports `error` when reading input.
int exitCodeFor(const formats::Error &error);
// Prints "tapedeck: <message>" to stderr and returns exitCodeFor(error).
int reportError(const formats::Error &error);

} // namespace tapedeck::cli
