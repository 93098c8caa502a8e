// Running totals of a tape (steps, errors, tokens and cost per run and kind; blobs and
// bytes per role), so that a summary reads a handful of rows whatever the run's length.
//
// The writer folds totals into the `totals` and `blob_totals` tables in batches, not at
// every step: each table row rewritten per commit is one more page for SQLite to write.
// meta 'totals_through_step' and 'totals_through_blob' say how far the tables reach; what
// lies beyond (at most one batch, or what a crashed writer left) is added up from the
// steps and blobs tables on demand, by readTotals() and by the next writer.
#pragma once

#include "database.h"
#include "schema.h"

#include <map>

namespace tapedeck::formats {

struct KindTotals {
    int64_t steps = 0;
    int64_t errors = 0;
    Usage usage;
    double costUsd = 0;
    int64_t costedSteps = 0;
    int64_t messageRefs = 0;
    int64_t firstUs = 0;  // earliest non-zero start
    int64_t lastUs = 0;
    void add(const KindTotals &o);
};

struct RoleTotals {
    int64_t blobs = 0;
    int64_t storedBytes = 0;
    int64_t rawBytes = 0;
    void add(const RoleTotals &o);
};

struct Totals {
    std::map<std::pair<int64_t, int>, KindTotals> byRunKind;  // (run, kind)
    std::map<int, RoleTotals> byRole;                         // BlobRole
};

// The stored totals plus the tail beyond them: exact at any moment.
Result<Totals> readTotals(Database &db);

// The writer's side. Used inside the writer's transactions; not thread-safe.
class TotalsWriter {
public:
    explicit TotalsWriter(Database &db) : m_db(db) {}
    // Prepares statements and takes up the tail a previous writer left unfolded.
    Status init();
    void addStep(RunId run, StepKind kind, const KindTotals &step, StepIndex index);
    void addBlob(BlobRole role, int64_t storedBytes, int64_t rawBytes, BlobId id);
    // Folds the pending totals into the tables every kBatch steps, or now with `force`.
    Status flush(bool force);

    static constexpr int kBatch = 512;

private:
    Database &m_db;
    Statement m_addKind;
    Statement m_addRole;
    Statement m_setMark;
    Totals m_pending;
    int m_pendingSteps = 0;
    int64_t m_throughStep = 0;
    int64_t m_throughBlob = 0;
};

} // namespace tapedeck::formats
