// Exporters: a tape handed to the tools a team already runs (formats/FORMAT.md, "Export").
//
// - OpenTelemetry (OTLP/HTTP JSON, the GenAI semantic conventions): a trace per run, for
//   Jaeger, Tempo, Phoenix, Langfuse or any OTLP collector.
// - Chrome trace-event JSON: the timeline, for Perfetto (ui.perfetto.dev) and chrome://tracing.
// The JSONL interchange, which keeps everything, is exportJsonl() in tape.h.
//
// Conventions that hold for every declaration below:
// - The output depends on the tape only: exporting the same tape twice gives the same bytes,
//   and the same trace and span ids (so a backend that receives a run twice sees one trace).
// - Nothing is invented. A step whose time the tape does not know (0, as some imported
//   formats leave it) is placed at the latest known time before it in its thread, or at the
//   run's start, and is marked (OTLP: attribute tapedeck.time_unknown; trace events: the
//   arg time_unknown); usage and cost appear only where the tape has them.
// - Message content (prompts, answers, tool arguments and outputs) leaves the tape only
//   when asked for (OtlpOptions::includeContent). Names, models, times, token counts,
//   costs, statuses and error messages are always exported.
// - Memory: OTLP holds one batch of spans and a few words per step of the run being
//   written, never the tape's content; trace events are all held (they are sorted into
//   lanes before writing), a few hundred bytes each. Wire bytes are never exported.
// - Nothing throws; a tape that cannot be read gives its reader's Error, a stream that
//   cannot be written an Error with code Io, an unknown run or branch one with NotFound.
// - Not thread-safe beyond TapeReader's own rules: one export per reader at a time.
#pragma once

#include <tapedeck/formats/tape.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace tapedeck::formats {

// Which part of a tape to export. Empty: every run, every branch.
struct ExportSelection {
    std::optional<RunId> run;
    // One branch as a whole history: its own steps and those of the branches it was forked
    // from, up to each fork. Implies its run (a run given as well must be that one).
    std::optional<BranchId> branch;
};

// ---------------------------------------------------------------------------------------
// OpenTelemetry

// The version of the OpenTelemetry semantic conventions the spans follow, and the schema
// URL every resourceSpans and scopeSpans names it with.
inline constexpr const char *kOtelSemconvVersion = "1.41.0";
inline constexpr const char *kOtelSchemaUrl = "https://opentelemetry.io/schemas/1.41.0";

// What the trace of a run holds (formats/FORMAT.md, "OpenTelemetry" has every attribute):
// - the root span `invoke_agent {agent}` (kind INTERNAL) from the run's start to its end;
// - a child `invoke_agent {agent}` per branch forked from the recorded one (whole-run
//   export only), and per sub-agent thread (`invoke_agent {thread label}`), the latter under
//   the parent thread's tool call that spawned it when one spans its start;
// - `chat {model}` (CLIENT) per model call: gen_ai.provider.name, gen_ai.request.model,
//   gen_ai.response.model, gen_ai.usage.* (input_tokens includes the cached tokens, as the
//   conventions require), gen_ai.response.time_to_first_chunk;
// - `execute_tool {name}` (INTERNAL) per tool call, from the call to its result, with
//   gen_ai.tool.name, gen_ai.tool.call.id, error.type and an ERROR status when it failed;
//   MCP calls likewise (kind CLIENT); HTTP exchanges as CLIENT spans named by their method;
// - error steps as `exception` events, compactions as `tapedeck.compaction` events, on the
//   agent span of their thread. Annotations and fork points are not exported.
// With includeContent, also gen_ai.input.messages, gen_ai.output.messages,
// gen_ai.system_instructions (JSON strings in the conventions' message format),
// gen_ai.tool.call.arguments / .result, and the run's command line and working directory.
struct OtlpOptions {
    ExportSelection selection;
    bool includeContent = false;
    // A batch (one request body; for exportOtlp, one resourceSpans entry) closes when it
    // holds this many spans or bytes; a single larger span goes alone.
    int64_t maxBatchSpans = 1000;
    int64_t maxBatchBytes = 4 << 20;
};

struct OtlpStats {
    int64_t traces = 0;  // runs exported
    int64_t spans = 0;
    int64_t batches = 0; // request bodies (exportOtlpBatches), resourceSpans entries (exportOtlp)
};

// Writes one ExportTraceServiceRequest in OTLP/JSON (what `POST /v1/traces` takes).
Result<OtlpStats> exportOtlp(const TapeReader &reader, std::ostream &out,
                             const OtlpOptions &options = {});

// The same spans as a series of ExportTraceServiceRequest bodies, each handed to `send` as
// soon as it is complete; runs are never mixed within a resourceSpans entry, small runs
// share a body. An error `send` returns stops the export and is returned.
using OtlpBatchSender = std::function<Status(const std::string &body, int64_t spans)>;
Result<OtlpStats> exportOtlpBatches(const TapeReader &reader, const OtlpOptions &options,
                                    const OtlpBatchSender &send);

// ---------------------------------------------------------------------------------------
// Chrome trace events

// {"traceEvents": [...], "displayTimeUnit": "ms"}: a process per run (pid = run id), a
// thread per tape thread (tid = thread id; a tape thread whose spans overlap, as parallel
// tool calls do, gets extra lanes named "<label> · lane N"), named by metadata events.
// Complete ("X") events, ts and dur in microseconds: one per model call (cat "model_call",
// with "waiting" and "streaming" slices inside when the first token's time is known), per
// tool call from call to result (cat "tool"), per MCP call and HTTP exchange; instant ("i")
// events for errors, compactions, annotations and fork points. Args carry the step index,
// tokens, cost and status. No message content is written.
struct ChromeTraceOptions {
    ExportSelection selection;
};

struct ChromeTraceStats {
    int64_t events = 0; // every event written, metadata included
};

Result<ChromeTraceStats> exportChromeTrace(const TapeReader &reader, std::ostream &out,
                                           const ChromeTraceOptions &options = {});

} // namespace tapedeck::formats
