// Sends a recorded answer back as it was recorded: the status, the headers (less the
// hop-by-hop ones and those the recorder redacted), the body's exact bytes; a stream chunk
// by chunk, each at its recorded offset from the request's arrival divided by `speed`
// (0: no waiting). A stream that broke off in the recording breaks off here too.
#pragma once

#include <tapedeck/formats/tape.h>

#include <httplib.h>

#include <cstdint>
#include <memory>

namespace tapedeck::replayer {

// `step` stays alive (shared) until the client has the whole answer; `arrivedUs` is when
// the request arrived, on the steady clock of nowUs().
void sendRecordedAnswer(std::shared_ptr<const formats::Step> step, double speed, int64_t arrivedUs,
                        httplib::Response &res);

int64_t nowUs(); // the steady clock, in microseconds

} // namespace tapedeck::replayer
