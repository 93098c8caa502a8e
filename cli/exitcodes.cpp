#include "exitcodes.h"
#include "commands.h"

#include <iostream>

namespace tapedeck::cli {

int &commandExitCode()
{
    static int code = kExitOk;
    return code;
}

int exitCodeFor(const formats::Error &error)
{
    switch (error.code) {
    case formats::ErrorCode::Corrupt:
    case formats::ErrorCode::Parse:
        return kExitDamaged;
    case formats::ErrorCode::InvalidArgument:
        return kExitUsage;
    case formats::ErrorCode::NotFound:
        return kExitCheckFailed;
    case formats::ErrorCode::Io:
    case formats::ErrorCode::NotATape:
    case formats::ErrorCode::FutureVersion:
        return kExitCannotOpen;
    }
    return kExitCannotOpen;
}

int reportError(const formats::Error &error)
{
    std::cerr << "tapedeck: " << error.message << "\n";
    return exitCodeFor(error);
}

} // namespace tapedeck::cli
