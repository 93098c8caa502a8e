// The relay of `tapedeck mcp`: copies this process's stdin to an MCP server's stdin and the
// server's stdout to this process's stdout, one thread per direction, so neither direction
// can hold up the other. Bytes are written on as soon as they are read, in the pieces they
// come in: the relay never waits for the end of a line, and alters, reorders or holds back
// nothing.
//
// Only after a piece is written is the copy cut into lines (newline-delimited JSON-RPC),
// which a third thread looks at, so that parsing never holds up a copy: each tools/list and
// tools/call request from the client is matched by its id to the server's answer, and the
// pair goes to the sink as the JSON of a call report (the McpCall form in
// recorder/src/mcpcall.h). A line that is not JSON was relayed like any other and is
// otherwise ignored.
//
// start() and finish() are called from one thread; the sink is called from the relay's
// inspecting thread, and from finish().
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace tapedeck::cli {

class McpRelay {
public:
    struct Identity {
        std::string session; // unique to this relay process
        std::string server;  // a short name of the server ("server-filesystem")
    };
    using Sink = std::function<void(nlohmann::json report)>;

    // Takes ownership of both pipe ends (the server's stdin and stdout).
    McpRelay(int toServer, int fromServer, Identity identity, Sink sink);
    ~McpRelay(); // finish({}) unless finished

    void start();
    // For when the server has exited: waits up to `drain` for the rest of its output to
    // reach stdout, stops both copies (the server's stdin is closed when this process's
    // stdin ends, or here) and reports the requests left unanswered, with a null response
    // at the time it gave up on them.
    void finish(std::chrono::milliseconds drain);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tapedeck::cli
