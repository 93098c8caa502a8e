// Reading a script file for the script policy: JSONL, one turn per line, as SCRIPT.md
// documents. The whole file is read and checked up front, so that a bad script is refused
// before the server listens, with the file, line and field that were wrong.
#pragma once

#include "policy.h"

#include <string>
#include <vector>

namespace tapedeck::model {

struct ScriptTurn {
    Turn turn;
    std::string expect;         // text the request's last message must contain; empty: anything
    bool forCompaction = false; // "on": "compaction"
    int line = 0;               // 1-based line of the file
};

struct Script {
    std::string path;
    std::vector<ScriptTurn> turns; // in file order, compaction turns included
};

// Reads and checks `path`. A Parse error's message is "PATH:LINE: /FIELD: expected ..., got
// ..."; an unreadable file is an Io error naming it.
formats::Result<Script> readScript(const std::string &path);

// The same for text already in memory; `path` is only used in messages.
formats::Result<Script> parseScript(const std::string &text, const std::string &path);

} // namespace tapedeck::model
