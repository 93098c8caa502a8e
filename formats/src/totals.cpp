#include "totals.h"

#include <string>

namespace tapedeck::formats {

void KindTotals::add(const KindTotals &o)
{
    steps += o.steps;
    errors += o.errors;
    usage.inputTokens += o.usage.inputTokens;
    usage.outputTokens += o.usage.outputTokens;
    usage.cacheReadTokens += o.usage.cacheReadTokens;
    usage.cacheWriteTokens += o.usage.cacheWriteTokens;
    costUsd += o.costUsd;
    costedSteps += o.costedSteps;
    messageRefs += o.messageRefs;
    if (o.firstUs && (!firstUs || o.firstUs < firstUs))
        firstUs = o.firstUs;
    lastUs = std::max(lastUs, o.lastUs);
}

void RoleTotals::add(const RoleTotals &o)
{
    blobs += o.blobs;
    storedBytes += o.storedBytes;
    rawBytes += o.rawBytes;
}

namespace {

// Adds up the steps after `throughStep` and the blobs after `throughBlob` into `out`.
Status addTail(Database &db, int64_t throughStep, int64_t throughBlob, Totals &out)
{
    auto steps = db.prepare(
        "SELECT run, kind, count(*), sum(status != 0), sum(input_tokens), sum(output_tokens), "
        "sum(cache_read_tokens), sum(cache_write_tokens), coalesce(sum(cost_usd), 0), "
        "count(cost_usd), sum(message_count), coalesce(min(nullif(started_us, 0)), 0), "
        "max(max(ended_us, started_us)) FROM steps WHERE id > ? GROUP BY run, kind");
    if (!steps)
        return steps.error();
    steps->bind(1, throughStep);
    for (;;) {
        auto row = steps->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        KindTotals k;
        k.steps = steps->int64(2);
        k.errors = steps->int64(3);
        k.usage = Usage{steps->int64(4), steps->int64(5), steps->int64(6), steps->int64(7)};
        k.costUsd = steps->real(8);
        k.costedSteps = steps->int64(9);
        k.messageRefs = steps->int64(10);
        k.firstUs = steps->int64(11);
        k.lastUs = steps->int64(12);
        out.byRunKind[{steps->int64(0), int(steps->int64(1))}].add(k);
    }
    auto blobs = db.prepare(
        "SELECT role, count(*), sum(length(data)), sum(size) FROM blobs WHERE id > ? GROUP BY role");
    if (!blobs)
        return blobs.error();
    blobs->bind(1, throughBlob);
    for (;;) {
        auto row = blobs->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        out.byRole[int(blobs->int64(0))].add(
            RoleTotals{blobs->int64(1), blobs->int64(2), blobs->int64(3)});
    }
    return {};
}

} // namespace

Result<Totals> readTotals(Database &db)
{
    Totals t;
    auto kinds = db.prepare(
        "SELECT run, kind, steps, errors, input_tokens, output_tokens, cache_read_tokens, "
        "cache_write_tokens, cost_usd, costed_steps, message_refs, first_us, last_us FROM totals");
    if (!kinds)
        return kinds.error();
    for (;;) {
        auto row = kinds->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        KindTotals k;
        k.steps = kinds->int64(2);
        k.errors = kinds->int64(3);
        k.usage = Usage{kinds->int64(4), kinds->int64(5), kinds->int64(6), kinds->int64(7)};
        k.costUsd = kinds->real(8);
        k.costedSteps = kinds->int64(9);
        k.messageRefs = kinds->int64(10);
        k.firstUs = kinds->int64(11);
        k.lastUs = kinds->int64(12);
        t.byRunKind[{kinds->int64(0), int(kinds->int64(1))}].add(k);
    }
    auto roles = db.prepare("SELECT role, blobs, stored_bytes, raw_bytes FROM blob_totals");
    if (!roles)
        return roles.error();
    for (;;) {
        auto row = roles->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        t.byRole[int(roles->int64(0))].add(
            RoleTotals{roles->int64(1), roles->int64(2), roles->int64(3)});
    }
    auto throughStep = readMetaInteger(db, "totals_through_step");
    if (!throughStep)
        return throughStep.error();
    auto throughBlob = readMetaInteger(db, "totals_through_blob");
    if (!throughBlob)
        return throughBlob.error();
    if (auto s = addTail(db, *throughStep, *throughBlob, t); !s)
        return s.error();
    return t;
}

Status TotalsWriter::init()
{
    struct {
        Statement *stmt;
        const char *sql;
    } statements[] = {
        {&m_addKind,
         "INSERT INTO totals(run, kind, steps, errors, input_tokens, output_tokens, "
         "cache_read_tokens, cache_write_tokens, cost_usd, costed_steps, message_refs, first_us, "
         "last_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
         "ON CONFLICT(run, kind) DO UPDATE SET steps = steps + ?3, errors = errors + ?4, "
         "input_tokens = input_tokens + ?5, output_tokens = output_tokens + ?6, "
         "cache_read_tokens = cache_read_tokens + ?7, cache_write_tokens = cache_write_tokens + ?8, "
         "cost_usd = cost_usd + ?9, costed_steps = costed_steps + ?10, "
         "message_refs = message_refs + ?11, "
         "first_us = CASE WHEN ?12 > 0 AND (first_us = 0 OR ?12 < first_us) THEN ?12 "
         "ELSE first_us END, last_us = max(last_us, ?13)"},
        {&m_addRole,
         "INSERT INTO blob_totals(role, blobs, stored_bytes, raw_bytes) VALUES (?1, ?2, ?3, ?4) "
         "ON CONFLICT(role) DO UPDATE SET blobs = blobs + ?2, stored_bytes = stored_bytes + ?3, "
         "raw_bytes = raw_bytes + ?4"},
        {&m_setMark,
         "INSERT INTO meta(key, value) VALUES (?, ?) "
         "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
    };
    for (auto &[stmt, sql] : statements) {
        auto p = m_db.prepare(sql);
        if (!p)
            return p.error();
        *stmt = std::move(*p);
    }
    auto throughStep = readMetaInteger(m_db, "totals_through_step");
    if (!throughStep)
        return throughStep.error();
    auto throughBlob = readMetaInteger(m_db, "totals_through_blob");
    if (!throughBlob)
        return throughBlob.error();
    m_pending = {};
    m_pendingSteps = 0;
    m_throughStep = *throughStep;
    m_throughBlob = *throughBlob;
    // What lies beyond the marks is pending again: the next flush folds it in.
    if (auto s = addTail(m_db, m_throughStep, m_throughBlob, m_pending); !s)
        return s;
    auto lastStep = m_db.prepare("SELECT coalesce(max(id), 0) FROM steps");
    auto lastBlob = m_db.prepare("SELECT coalesce(max(id), 0) FROM blobs");
    if (!lastStep)
        return lastStep.error();
    if (!lastBlob)
        return lastBlob.error();
    auto r1 = lastStep->step();
    auto r2 = lastBlob->step();
    if (!r1)
        return r1.error();
    if (!r2)
        return r2.error();
    m_throughStep = std::max(m_throughStep, lastStep->int64(0));
    m_throughBlob = std::max(m_throughBlob, lastBlob->int64(0));
    return {};
}

void TotalsWriter::addStep(RunId run, StepKind kind, const KindTotals &step, StepIndex index)
{
    m_pending.byRunKind[{run.value, int(kind)}].add(step);
    m_throughStep = std::max(m_throughStep, index.value);
    ++m_pendingSteps;
}

void TotalsWriter::addBlob(BlobRole role, int64_t storedBytes, int64_t rawBytes, BlobId id)
{
    m_pending.byRole[int(role)].add(RoleTotals{1, storedBytes, rawBytes});
    m_throughBlob = std::max(m_throughBlob, id.value);
}

Status TotalsWriter::flush(bool force)
{
    if (!force && m_pendingSteps < kBatch)
        return {};
    for (const auto &[key, k] : m_pending.byRunKind) {
        m_addKind.bind(1, key.first)
            .bind(2, key.second)
            .bind(3, k.steps)
            .bind(4, k.errors)
            .bind(5, k.usage.inputTokens)
            .bind(6, k.usage.outputTokens)
            .bind(7, k.usage.cacheReadTokens)
            .bind(8, k.usage.cacheWriteTokens)
            .bind(9, k.costUsd)
            .bind(10, k.costedSteps)
            .bind(11, k.messageRefs)
            .bind(12, k.firstUs)
            .bind(13, k.lastUs);
        if (auto s = m_addKind.run(); !s)
            return s;
    }
    for (const auto &[role, r] : m_pending.byRole) {
        m_addRole.bind(1, role).bind(2, r.blobs).bind(3, r.storedBytes).bind(4, r.rawBytes);
        if (auto s = m_addRole.run(); !s)
            return s;
    }
    for (auto [key, value] : {std::pair{"totals_through_step", m_throughStep},
                              std::pair{"totals_through_blob", m_throughBlob}}) {
        m_setMark.bindText(1, key).bindText(2, std::to_string(value));
        if (auto s = m_setMark.run(); !s)
            return s;
    }
    m_pending = {};
    m_pendingSteps = 0;
    return {};
}

} // namespace tapedeck::formats
