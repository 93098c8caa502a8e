// The exchanges of one branch of a run that a replay can answer with: its model calls, the
// other traffic that crossed the proxy (model lists, token counts, HEAD /) and the
// proxy's own answers when the upstream could not be reached, in recorded order, with
// which of them the replay has served. A branch's exchanges are its ancestors' up to its
// fork point, then its own.
//
// Built from step summaries alone; a step is decoded only when a request is compared with
// it, and only the next model call of each thread is kept decoded. Not thread-safe.
#pragma once

#include <tapedeck/replayer/branchlineage.h>
#include "matchrules.h"

#include <tapedeck/formats/tape.h>
#include <tapedeck/formats/wire.h>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tapedeck::replayer {

struct RecordedExchange {
    formats::StepIndex step;
    formats::ThreadId thread;
    formats::StepKind kind = formats::StepKind::ModelCall;
    std::string name;            // the summary's: the model, or "METHOD URL"
    bool served = false;
};

// A recorded step decoded for matching: its wire exchange and its normalised request.
struct DecodedExchange {
    formats::Step step;
    std::optional<formats::wire::Api> api; // nullopt: not a model call
    // The request body through the rules (null when it is not JSON), made on first use: a
    // request that comes byte for byte as recorded is matched without it.
    const nlohmann::json &normalised(const MatchRules &rules) const;

private:
    mutable std::optional<nlohmann::json> m_normalised;
};

class RecordedExchanges {
public:
    // Errors: no such run or branch, nothing replayable on it. With `before`, only the
    // exchanges before that step (a fork's prefix, which may be empty).
    static formats::Result<RecordedExchanges> load(const formats::TapeReader &reader,
                                                   std::optional<formats::RunId> run,
                                                   std::optional<formats::BranchId> branch,
                                                   std::optional<formats::StepIndex> before = {});

    formats::RunId run() const { return m_run; }
    formats::BranchId branch() const { return m_branch; }
    const std::vector<RecordedExchange> &all() const { return m_exchanges; }
    int64_t modelCalls() const { return m_modelCalls; }
    int64_t unservedModelCalls() const;
    int64_t unservedModelCallsUpTo(formats::StepIndex last) const;
    int64_t unservedModelCallsOf(formats::ThreadId thread) const;
    int64_t modelCallsOf(formats::ThreadId thread) const;

    // The model calls a model-call request may be: the first unserved one of each thread,
    // and the unserved proxy answers for an unreachable upstream; in recorded order.
    std::vector<size_t> modelCallCandidates() const;
    // The recorded exchanges with this "METHOD URL" that are not model calls, unserved
    // first, in recorded order.
    std::vector<size_t> otherCandidates(const std::string &methodAndUrl) const;
    // 1-based: which model call of its thread the one at `position` is.
    size_t callNumberInThread(size_t position) const;
    // The model calls after `position` in its thread, for the report's nearest candidates.
    std::vector<size_t> laterInThread(size_t position, size_t count) const;

    // The exchange at `position`, decoded (cached while it is a candidate).
    formats::Result<std::shared_ptr<const DecodedExchange>> decoded(size_t position,
                                                                   const formats::TapeReader &reader);
    void markServed(size_t position);

private:
    formats::RunId m_run;
    formats::BranchId m_branch;
    std::vector<RecordedExchange> m_exchanges;
    int64_t m_modelCalls = 0;
    // Per thread, the positions of its model calls and how many are served (in order).
    struct ThreadCalls {
        std::vector<size_t> positions;
        size_t next = 0;
    };
    std::map<formats::ThreadId, ThreadCalls> m_threads;
    std::map<size_t, std::shared_ptr<const DecodedExchange>> m_decoded;
};

} // namespace tapedeck::replayer
