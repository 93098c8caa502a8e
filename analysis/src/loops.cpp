// Loops: within one thread, the same tool call (or the same cycle of 2-4 calls) made again
// and again. Two ways to be "the same":
// - every call of the cycle has the same loose key (callkey.h) as in the first round: the
//   agent repeats itself, whatever the results;
// - the cycle's calls use the same tools and one of them, the check, has the same loose key
//   and fails (an error, or a metric worse than the best) in every round: the same failing
//   attempt retried with other edits in between, the shape of "fix, build, fail" loops.
// A loop is reported once, at its longest; scanning then resumes after it.
#include "findingtext.h"
#include "rules.h"

#include <algorithm>
#include <map>
#include <set>

namespace tapedeck::analysis {

namespace {

constexpr size_t kMaxCycle = 4;

struct Call {
    const ToolCallFacts *facts;
    bool failed; // an error, no result, or a metric setback
};

enum class Sameness { Repeated, RetriedCheck };

struct Match {
    size_t cycle = 0, rounds = 0;
    Sameness sameness = Sameness::Repeated;
    size_t checkOffset = 0; // RetriedCheck: the check's place in the cycle
};

bool sameRound(const std::vector<Call> &calls, size_t start, size_t cycle, size_t round)
{
    for (size_t q = 0; q < cycle; ++q)
        if (calls[start + q].facts->looseKey != calls[start + round * cycle + q].facts->looseKey)
            return false;
    return true;
}

bool retriedRound(const std::vector<Call> &calls, size_t start, size_t cycle, size_t round, size_t check)
{
    for (size_t q = 0; q < cycle; ++q)
        if (calls[start + q].facts->tool != calls[start + round * cycle + q].facts->tool)
            return false;
    const Call &first = calls[start + check];
    const Call &again = calls[start + round * cycle + check];
    return first.facts->looseKey == again.facts->looseKey && first.failed && again.failed;
}

Match longestAt(const std::vector<Call> &calls, size_t start, size_t minRounds)
{
    Match best;
    const size_t left = calls.size() - start;
    for (size_t cycle = 1; cycle <= kMaxCycle && cycle * minRounds <= left; ++cycle) {
        size_t rounds = 1;
        while ((rounds + 1) * cycle <= left && sameRound(calls, start, cycle, rounds))
            ++rounds;
        if (rounds >= minRounds && rounds * cycle > best.rounds * best.cycle)
            best = {cycle, rounds, Sameness::Repeated, 0};
        if (cycle < 2)
            continue;
        for (size_t check = 0; check < cycle; ++check) {
            rounds = 1;
            while ((rounds + 1) * cycle <= left && retriedRound(calls, start, cycle, rounds, check))
                ++rounds;
            if (rounds >= minRounds && rounds * cycle > best.rounds * best.cycle)
                best = {cycle, rounds, Sameness::RetriedCheck, check};
        }
    }
    return best;
}

std::string cycleText(const std::vector<Call> &calls, size_t start, const Match &m)
{
    std::string text;
    for (size_t q = 0; q < m.cycle; ++q) {
        const ToolCallFacts &f = *calls[start + q].facts;
        const bool shown = m.sameness == Sameness::Repeated || q == m.checkOffset;
        text += (q ? " → " : "") + (shown ? f.label : f.tool);
    }
    return text;
}

} // namespace

void findLoops(const BranchSteps &steps, const AnalysisOptions &options,
               const std::vector<MetricStanding> &standings, std::vector<Finding> &out)
{
    std::set<size_t> setbacks; // positions of results whose metric fell behind the best
    for (size_t i = 0; i < steps.metric.size(); ++i)
        if (standings[i] == MetricStanding::Setback)
            setbacks.insert(steps.metric[i].result);

    std::map<formats::ThreadId, std::vector<Call>> byThread;
    for (const ToolCallFacts &f : steps.calls)
        byThread[steps.steps[f.call].thread].push_back({&f, f.failed || (f.result && setbacks.count(*f.result))});

    const size_t minRounds = size_t(std::max(2, options.minLoopRepeats));
    for (const auto &[thread, calls] : byThread) {
        for (size_t start = 0; start < calls.size();) {
            Match m = longestAt(calls, start, minRounds);
            if (m.rounds == 0) {
                ++start;
                continue;
            }
            // A long cycle found at a call just before a loop of a shorter one ("fail, then
            // edit+fail edit+fail ..."): the shorter one, starting a little later, is the loop.
            for (size_t shift = 1; shift < m.cycle; ++shift) {
                const Match later = longestAt(calls, start + shift, minRounds);
                if (later.rounds > 0 && later.cycle < m.cycle &&
                    shift + later.rounds * later.cycle >= m.rounds * m.cycle) {
                    start += shift;
                    m = later;
                    break;
                }
            }
            const size_t end = start + m.rounds * m.cycle; // one past the loop's last call
            std::vector<size_t> positions;
            size_t failedRounds = 0;
            bool lastRoundOk = false;
            for (size_t r = 0; r < m.rounds; ++r) {
                bool failed = false;
                for (size_t q = 0; q < m.cycle; ++q) {
                    const Call &c = calls[start + r * m.cycle + q];
                    positions.push_back(c.facts->call);
                    if (c.facts->result)
                        positions.push_back(*c.facts->result);
                    failed = failed || c.failed;
                }
                failedRounds += failed ? 1 : 0;
                lastRoundOk = !failed;
            }
            std::sort(positions.begin(), positions.end());

            // How it ended: the same round done right, another call, or the end of the run.
            std::string ended, endedText;
            std::optional<size_t> endedAt;
            if (m.sameness == Sameness::Repeated && failedRounds > 0 && lastRoundOk) {
                ended = "success";
                const Call &last = calls[end - 1];
                endedAt = last.facts->result ? *last.facts->result : last.facts->call;
                endedText = "the last round succeeded";
            } else if (end < calls.size()) {
                const Call &next = calls[end];
                bool sameAgain = m.sameness == Sameness::RetriedCheck && end + m.cycle <= calls.size();
                for (size_t q = 0; sameAgain && q < m.cycle; ++q)
                    sameAgain = calls[end + q].facts->tool == calls[start + q].facts->tool;
                const Call *check = sameAgain ? &calls[end + m.checkOffset] : nullptr;
                if (check && check->facts->looseKey == calls[start + m.checkOffset].facts->looseKey &&
                    !check->failed) {
                    ended = "success";
                    endedAt = check->facts->result ? *check->facts->result : check->facts->call;
                    endedText = "the next round's " + check->facts->tool + " succeeded";
                } else {
                    ended = "different_call";
                    endedAt = next.facts->call;
                    endedText = "broken by " + next.facts->label;
                }
            } else {
                ended = "run_end";
                endedText = "still going when the thread's tool calls ended";
            }

            Finding f = makeFinding(steps, FindingKind::Loop,
                                    failedRounds >= minRounds ? Severity::Warning : Severity::Notice, positions);
            const std::string what = cycleText(calls, start, m);
            f.title = "loop: " + what + " " + std::to_string(m.rounds) + " times";
            std::string detail = std::to_string(m.rounds) + " rounds of " + std::to_string(m.cycle) +
                                 (m.cycle == 1 ? " call" : " calls") + " in " + steps.threadLabel(thread);
            if (f.endUs > f.startUs && f.startUs > 0)
                detail += " over " + durationText(f.endUs - f.startUs);
            detail += failedRounds == m.rounds ? ", every one failed"
                      : failedRounds > 0      ? ", " + std::to_string(failedRounds) + " failed"
                                              : ", none failed";
            detail += "; " + endedText;
            if (endedAt)
                detail += " (" + stepText(steps.indexAt(*endedAt)) + ")";
            f.detail = detail;
            f.measures = {{"count", m.rounds},
                          {"cycle", m.cycle},
                          {"failed_rounds", failedRounds},
                          {"same", m.sameness == Sameness::Repeated ? "calls" : "failing_check"},
                          {"ended", ended},
                          {"thread", thread.value}};
            if (endedAt)
                f.measures["ended_step"] = steps.indexAt(*endedAt).value;
            if (f.endUs > f.startUs && f.startUs > 0)
                f.measures["span_us"] = f.endUs - f.startUs;
            out.push_back(std::move(f));
            start = end;
        }
    }
}

} // namespace tapedeck::analysis
