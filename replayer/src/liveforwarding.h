// A replay that has gone live (a fork past its prefix, `--on-miss live`) sends each request
// on to a live server, the recorder of the new branch, and passes the answer back to the
// agent as it arrives: status, headers, body, a stream event by event.
#pragma once

#include <httplib.h>

#include <string>

namespace tapedeck::replayer {

// `target` is the path and query to ask for and `body` what to send (a fork's edits made);
// the other headers are the request's. An unreachable live server is a 502 whose JSON body
// says why.
void forwardLive(const std::string &liveUrl, const httplib::Request &req, const std::string &target,
                 std::string body, httplib::Response &res);

} // namespace tapedeck::replayer
