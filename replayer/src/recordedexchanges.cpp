#include "recordedexchanges.h"

#include <algorithm>

namespace tapedeck::replayer {

namespace fw = formats::wire;
using formats::Error;
using formats::ErrorCode;
using formats::StepKind;


formats::Result<RecordedExchanges> RecordedExchanges::load(const formats::TapeReader &reader,
                                                           std::optional<formats::RunId> run,
                                                           std::optional<formats::BranchId> branch,
                                                           std::optional<formats::StepIndex> before)
{
    formats::Result<BranchLineage> lineage = BranchLineage::resolve(reader, run, branch);
    if (!lineage)
        return lineage.error();
    if (before)
        lineage->endBefore(*before);
    RecordedExchanges out;
    out.m_run = lineage->run();
    out.m_branch = lineage->branch();
    formats::Status read = lineage->forEach(reader, [&out](const formats::StepSummary &s) {
        const bool replayable = s.kind == StepKind::ModelCall || s.kind == StepKind::HttpExchange ||
                                (s.kind == StepKind::Error && s.requestBytes > 0);
        // A model call imported without its wire bytes has nothing to answer with.
        if (!replayable || (s.kind == StepKind::ModelCall && s.requestBytes == 0))
            return true;
        if (s.kind == StepKind::ModelCall) {
            out.m_threads[s.thread].positions.push_back(out.m_exchanges.size());
            ++out.m_modelCalls;
        }
        out.m_exchanges.push_back({s.index, s.thread, s.kind, s.name, false});
        return true;
    });
    if (!read)
        return read.error();
    // A fork's prefix may be empty: it goes live at once.
    if (out.m_exchanges.empty() && !before)
        return Error{ErrorCode::NotFound, "branch " + std::to_string(out.m_branch.value) + " of run " +
                                              std::to_string(out.m_run.value) + " in " + reader.path() +
                                              " has no recorded exchange with its wire bytes to replay"};
    return out;
}

int64_t RecordedExchanges::unservedModelCalls() const
{
    int64_t count = 0;
    for (const RecordedExchange &e : m_exchanges)
        count += e.kind == StepKind::ModelCall && !e.served;
    return count;
}

int64_t RecordedExchanges::unservedModelCallsUpTo(formats::StepIndex last) const
{
    int64_t count = 0;
    for (const RecordedExchange &e : m_exchanges)
        count += e.kind == StepKind::ModelCall && !e.served && e.step <= last;
    return count;
}

int64_t RecordedExchanges::unservedModelCallsOf(formats::ThreadId thread) const
{
    auto it = m_threads.find(thread);
    return it == m_threads.end() ? 0 : static_cast<int64_t>(it->second.positions.size() - it->second.next);
}

int64_t RecordedExchanges::modelCallsOf(formats::ThreadId thread) const
{
    auto it = m_threads.find(thread);
    return it == m_threads.end() ? 0 : static_cast<int64_t>(it->second.positions.size());
}

std::vector<size_t> RecordedExchanges::modelCallCandidates() const
{
    std::vector<size_t> out;
    for (const auto &[thread, calls] : m_threads)
        if (calls.next < calls.positions.size())
            out.push_back(calls.positions[calls.next]);
    for (size_t i = 0; i < m_exchanges.size(); ++i)
        if (m_exchanges[i].kind == StepKind::Error && !m_exchanges[i].served)
            out.push_back(i);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<size_t> RecordedExchanges::otherCandidates(const std::string &methodAndUrl) const
{
    std::vector<size_t> unserved;
    std::vector<size_t> served;
    for (size_t i = 0; i < m_exchanges.size(); ++i) {
        const RecordedExchange &e = m_exchanges[i];
        if (e.kind == StepKind::HttpExchange && e.name == methodAndUrl)
            (e.served ? served : unserved).push_back(i);
        else if (e.kind == StepKind::Error && !e.served)
            unserved.push_back(i); // an unreachable upstream: any request may have met it
    }
    unserved.insert(unserved.end(), served.rbegin(), served.rend());
    return unserved;
}

size_t RecordedExchanges::callNumberInThread(size_t position) const
{
    auto it = m_threads.find(m_exchanges[position].thread);
    if (it == m_threads.end())
        return 0;
    const std::vector<size_t> &positions = it->second.positions;
    return static_cast<size_t>(std::lower_bound(positions.begin(), positions.end(), position) - positions.begin()) + 1;
}

std::vector<size_t> RecordedExchanges::laterInThread(size_t position, size_t count) const
{
    std::vector<size_t> out;
    auto it = m_threads.find(m_exchanges[position].thread);
    if (it == m_threads.end())
        return out;
    const std::vector<size_t> &positions = it->second.positions;
    auto at = std::upper_bound(positions.begin(), positions.end(), position);
    for (; at != positions.end() && out.size() < count; ++at)
        out.push_back(*at);
    return out;
}

const nlohmann::json &DecodedExchange::normalised(const MatchRules &rules) const
{
    if (!m_normalised) {
        nlohmann::json body = nlohmann::json::parse(step.wire->requestBody, nullptr, false);
        if (body.is_discarded())
            m_normalised = nlohmann::json();
        else
            m_normalised = api ? rules.normalise(*api, std::move(body)) : std::move(body);
    }
    return *m_normalised;
}

formats::Result<std::shared_ptr<const DecodedExchange>>
RecordedExchanges::decoded(size_t position, const formats::TapeReader &reader)
{
    if (auto it = m_decoded.find(position); it != m_decoded.end())
        return it->second;
    formats::Result<formats::Step> step =
        reader.step(m_exchanges[position].step, formats::TapeReader::Detail::WireOnly);
    if (!step)
        return step.error();
    if (!step->wire)
        return Error{ErrorCode::Corrupt, "step " + std::to_string(step->index.value) + " of " + reader.path() +
                                             " has no wire bytes"};
    auto out = std::make_shared<DecodedExchange>();
    if (step->wire->method == "POST")
        out->api = fw::apiForPath(step->wire->url);
    out->step = std::move(*step);
    // Only candidates stay decoded: a thread's next call, the proxy's answers, and what a
    // divergence report looked at last.
    if (m_decoded.size() > 64)
        m_decoded.clear();
    m_decoded[position] = out;
    return std::shared_ptr<const DecodedExchange>(out);
}

void RecordedExchanges::markServed(size_t position)
{
    RecordedExchange &e = m_exchanges[position];
    e.served = true;
    if (e.kind == StepKind::ModelCall) {
        ThreadCalls &calls = m_threads[e.thread];
        auto at = std::find(calls.positions.begin(), calls.positions.end(), position);
        calls.next = std::max(calls.next, static_cast<size_t>(at - calls.positions.begin()) + 1);
    }
    if (e.kind != StepKind::HttpExchange)
        m_decoded.erase(position);
}

} // namespace tapedeck::replayer
