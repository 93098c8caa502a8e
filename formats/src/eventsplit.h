// The split form of a stream body (FORMAT.md, "Blobs", codec 5). A server-sent event stream
// repeats the same framing around every delta: each event is the previous one with a few
// bytes in the middle replaced. The split form keeps, per event, how much of the previous
// event it starts and ends with, and the middles apart, so that the middles line up into the
// response text the stream spells out (which the normalized response already holds) and the
// framing shrinks to three small numbers an event.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tapedeck::formats {

// The number of events in `body`: each ends after a blank line ("\n\n"), the last one at
// the end of the body.
size_t countEvents(std::string_view body);

// Any bytes have a split form; splitEvents then joinEvents gives them back exactly.
std::string splitEvents(std::string_view body);
// The body of a split form, nullopt when it is malformed or does not make `size` bytes.
std::optional<std::string> joinEvents(std::string_view split, size_t size);

} // namespace tapedeck::formats
