// Turns one step of a tape into the HTML documents the inspector shows, one per section:
// the conversation as the model saw it, what is new in this request, the response, usage
// and timing, and the exact wire exchange.
//
// Every model API's request is read through formats::wire, so a Chat Completions, a
// Responses, an Anthropic Messages and a Gemini call read alike: the API is taken from the
// wire URL, or guessed from the request's shape when the step has no wire exchange.
//
// Guarantees that hold for every section:
// - Everything that comes from the tape is HTML-escaped; bytes that are not UTF-8, and
//   control characters, are shown as \xNN, so any step renders to well-formed HTML.
// - Work and output are bounded whatever the step holds: a text block is cut at
//   RenderLimits::blockBytes, a wire body at bodyBytes, and a section at sectionBytes,
//   each cut with a note saying how much was left out. A conversation too long for its
//   section, or of more than a few hundred messages, keeps its first and last messages and
//   says how many in between are left out.
// - Nothing throws, whatever the JSON holds: a request or response the codecs cannot read
//   is shown as its JSON with the reason.
//
// The renderer holds only its limits and the run's start time: it is a value, cheap to
// copy, and any thread may render with it (the inspector renders in its loading job, off
// the GUI thread). Uses Qt Core only.
#pragma once

#include <tapedeck/formats/tape.h>

#include <QString>

#include <array>
#include <optional>

namespace tapedeck::gui {

struct RenderLimits {
    qsizetype blockBytes = 64 * 1024;    // one message text, tool output, system prompt
    qsizetype bodyBytes = 256 * 1024;    // one request or response body on the wire tab
    qsizetype sectionBytes = 512 * 1024; // the HTML of one whole section, in characters
    // Thinking shown whole, or folded to the start of its first line.
    bool thinkingExpanded = false;
    // The section is rendered as the first part of a page whose whole follows: a cut at
    // sectionBytes says the rest is on its way rather than left out.
    bool firstPart = false;
};

// The link a thinking block's title line points to: the inspector folds or unfolds every
// thinking block when it is followed.
inline constexpr char kToggleThinkingLink[] = "tapedeck:toggle-thinking";

enum class InspectorSection { Conversation, NewInRequest, Response, Usage, Wire };
inline constexpr int kInspectorSectionCount = 5;

// "conversation", "new", "response", "usage", "wire".
QString inspectorSectionName(InspectorSection section);
std::optional<InspectorSection> inspectorSectionFromName(const QString &name);

// The five sections of one step, each a whole HTML document.
struct RenderedStep {
    formats::StepIndex step;
    std::array<QString, kInspectorSectionCount> html;

    const QString &section(InspectorSection s) const { return html[size_t(s)]; }
};

class ConversationRenderer {
public:
    // `runStartUs` is what times are shown as offsets from (0: offsets are not shown).
    explicit ConversationRenderer(RenderLimits limits = {}, int64_t runStartUs = 0);

    const RenderLimits &limits() const { return m_limits; }

    // A model call's request as the model saw it: tools and sampling parameters, the system
    // prompt, every message. For the other kinds, the step itself: a tool call's arguments,
    // a tool result's output and whether it failed, how long it ran, and the payload; with
    // `toolCall` (the step a tool result answers, when the caller read it), the arguments
    // the result is for.
    QString conversation(const formats::Step &step, const formats::Step *toolCall = nullptr) const;
    // What this model call's request adds to `previous`, the thread's model call before it
    // (null when this is the thread's first): the messages after the prefix the two
    // requests share, and whether the system prompt, the tools or the parameters changed.
    QString newInRequest(const formats::Step &step, const formats::Step *previous) const;
    // The model's answer: thinking, text, tool calls, stop reason; or the API's error.
    QString response(const formats::Step &step) const;
    // Tokens, cost, start / first token / end, latency, time to first token, status.
    QString usage(const formats::Step &step) const;
    // Method, URL, status, both header sets, both bodies (JSON pretty-printed, a stream as
    // its events with their arrival times) and the stream's chunk timing.
    QString wire(const formats::Step &step) const;

    // All five sections; the request is read once for the first three. `previous` and
    // `toolCall` are as for newInRequest() and conversation().
    RenderedStep render(const formats::Step &step, const formats::Step *previous,
                        const formats::Step *toolCall = nullptr) const;

    // A document holding only a title and a line of text (an error, "no step selected").
    static QString notice(const QString &title, const QString &text, bool isError = false);

private:
    RenderLimits m_limits;
    int64_t m_runStartUs = 0;
};

} // namespace tapedeck::gui
