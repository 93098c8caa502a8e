#include "textindex.h"

#include "blobstore.h"

#include <xxhash.h>

#include <algorithm>
#include <cctype>

namespace tapedeck::formats {

// Every string of `v`, one per line; with `seen`, only those not seen before; no more
// than `limit` bytes in all.
static void collectText(const nlohmann::json &v, std::string &out,
                        std::unordered_set<uint64_t> *seen = nullptr,
                        size_t limit = std::string::npos)
{
    if (out.size() >= limit)
        return;
    switch (v.type()) {
    case nlohmann::json::value_t::string: {
        const auto &s = v.get_ref<const std::string &>();
        if (!s.empty() && (!seen || seen->insert(XXH3_64bits(s.data(), s.size())).second)) {
            out.append(s, 0, limit - out.size());
            out += '\n';
        }
        break;
    }
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object:
        for (const auto &e : v)
            collectText(e, out, seen, limit);
        break;
    default:
        break;
    }
}

std::string textOf(const nlohmann::json &value)
{
    std::string out;
    collectText(value, out);
    return out;
}

Result<int64_t> indexedThrough(Database &db)
{
    return readMetaInteger(db, "text_indexed_through");
}

Status TextIndexWriter::init(BlobStore &blobs)
{
    auto text = m_db.prepare("INSERT INTO text_index(rowid, text) VALUES (?, ?)");
    if (!text)
        return text.error();
    auto source = m_db.prepare("INSERT INTO text_sources(blob, step, field) VALUES (?, ?, ?)");
    if (!source)
        return source.error();
    auto mark = m_db.prepare(
        "INSERT INTO meta(key, value) VALUES ('text_indexed_through', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!mark)
        return mark.error();
    m_insertText = std::move(*text);
    m_insertSource = std::move(*source);
    m_setWatermark = std::move(*mark);

    // A writer that died left its last batch unindexed: index it now from the blobs.
    auto through = indexedThrough(m_db);
    if (!through)
        return through.error();
    auto tail = m_db.prepare("SELECT blob FROM text_sources WHERE blob > ? ORDER BY blob");
    if (!tail)
        return tail.error();
    tail->bind(1, *through);
    for (;;) {
        auto row = tail->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        BlobId id{tail->int64(0)};
        auto bytes = blobs.get(id);
        if (!bytes)
            return bytes.error();
        auto v = nlohmann::json::parse(*bytes, nullptr, false);
        m_queue.emplace_back(id, v.is_discarded() ? *bytes : textOf(v));
    }
    if (m_queue.empty())
        return {};
    if (auto s = m_db.begin(); !s)
        return s;
    if (auto s = flush(true); !s) {
        m_db.rollback();
        return s;
    }
    return m_db.commit();
}

Status TextIndexWriter::add(BlobId blob, StepIndex step, TextField field,
                            const nlohmann::json &value)
{
    std::string text;
    collectText(value, text, &m_seenStrings, kMaxIndexedBytes);
    if (text.empty())
        return {};
    m_insertSource.bind(1, blob.value).bind(2, step.value).bind(3, int(field));
    if (auto s = m_insertSource.run(); !s)
        return s;
    m_queuedBytes += text.size();
    m_queue.emplace_back(blob, std::move(text));
    return flush(false);
}

Status TextIndexWriter::flush(bool force)
{
    if (m_queue.empty() || (!force && m_queue.size() < kBatch && m_queuedBytes < kBatchBytes))
        return {};
    int64_t highest = 0;
    for (const auto &[blob, text] : m_queue) {
        m_insertText.bind(1, blob.value).bindText(2, text);
        if (auto s = m_insertText.run(); !s)
            return s;
        highest = std::max(highest, blob.value);
    }
    m_setWatermark.bindText(1, std::to_string(highest));
    if (auto s = m_setWatermark.run(); !s)
        return s;
    m_queue.clear();
    m_queuedBytes = 0;
    return {};
}

static std::vector<std::string> wordsOf(const std::string &query)
{
    std::vector<std::string> words;
    std::string w;
    for (char c : query) {
        if (std::isalnum(uint8_t(c)) || uint8_t(c) >= 0x80 || c == '_') {
            w += c;
        } else if (!w.empty()) {
            words.push_back(std::move(w));
            w.clear();
        }
    }
    if (!w.empty())
        words.push_back(w);
    return words;
}

static Result<std::vector<TextMatch>> runMatch(Database &db, const std::string &match, int limit,
                                               int offset)
{
    auto stmt = db.prepare(
        "SELECT s.blob, s.step, s.field FROM text_index JOIN text_sources s "
        "ON s.blob = text_index.rowid WHERE text_index MATCH ? ORDER BY s.step, s.blob "
        "LIMIT ? OFFSET ?");
    if (!stmt)
        return stmt.error();
    stmt->bindText(1, match).bind(2, limit).bind(3, offset);
    std::vector<TextMatch> out;
    for (;;) {
        auto row = stmt->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        out.push_back(TextMatch{BlobId{stmt->int64(0)}, StepIndex{stmt->int64(1)},
                                TextField(stmt->int64(2))});
    }
    return out;
}

// Lower case, every run of characters that are not letters or digits made one space: the
// form in which words and phrases are looked for in text.
static std::string normalized(const std::string &text)
{
    std::string out;
    bool gap = false;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c >= 0x80 || c == '_') {
            if (gap && !out.empty())
                out += ' ';
            gap = false;
            out += char(std::tolower(c));
        } else {
            gap = true;
        }
    }
    return out;
}

// The double-quoted parts of a query that hold more than one word.
static std::vector<std::string> quotedPhrases(const std::string &query)
{
    std::vector<std::string> phrases;
    size_t pos = 0;
    for (;;) {
        size_t open = query.find('"', pos);
        if (open == std::string::npos)
            break;
        size_t close = query.find('"', open + 1);
        if (close == std::string::npos)
            break;
        std::string p = normalized(query.substr(open + 1, close - open - 1));
        if (p.find(' ') != std::string::npos)
            phrases.push_back(p);
        pos = close + 1;
    }
    return phrases;
}

static Result<std::string> textOfBlob(BlobStore &blobs, BlobId id)
{
    auto bytes = blobs.get(id);
    if (!bytes)
        return bytes.error();
    auto v = nlohmann::json::parse(*bytes, nullptr, false);
    return v.is_discarded() ? *bytes : textOf(v);
}

// Whether the blob's text holds every word (as a word prefix) and every phrase.
static Result<bool> textHolds(BlobStore &blobs, BlobId id, const std::vector<std::string> &words,
                              const std::vector<std::string> &phrases)
{
    auto text = textOfBlob(blobs, id);
    if (!text)
        return text.error();
    // Spaces around, so that words are found only where they start (appended, not
    // concatenated: GCC 12 warns falsely on `" " + string`).
    std::string norm(1, ' ');
    norm.append(normalized(*text)).append(1, ' ');
    auto holds = [&norm](const std::string &piece, bool wholeWord) {
        std::string needle(1, ' ');
        needle.append(piece);
        if (wholeWord)
            needle.append(1, ' ');
        return norm.find(needle) != std::string::npos;
    };
    for (const std::string &w : words) {
        if (!holds(normalized(w), false))
            return false;
    }
    for (const std::string &p : phrases) {
        if (!holds(p, true))
            return false;
    }
    return true;
}

// The unindexed tail: blobs after the watermark that hold every word and phrase.
static Result<std::vector<TextMatch>> scanTail(Database &db, BlobStore &blobs,
                                               const std::vector<std::string> &words,
                                               const std::vector<std::string> &phrases, int limit)
{
    std::vector<TextMatch> out;
    if (words.empty())
        return out;
    std::vector<std::string> plain;
    for (const std::string &w : words) {
        if (w != "AND" && w != "OR" && w != "NOT" && w != "NEAR")
            plain.push_back(w);
    }
    auto through = indexedThrough(db);
    if (!through)
        return through.error();
    auto tail = db.prepare(
        "SELECT blob, step, field FROM text_sources WHERE blob > ? ORDER BY step, blob");
    if (!tail)
        return tail.error();
    tail->bind(1, *through);
    while (int(out.size()) < limit) {
        auto row = tail->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        TextMatch m{BlobId{tail->int64(0)}, StepIndex{tail->int64(1)}, TextField(tail->int64(2))};
        auto holds = textHolds(blobs, m.blob, plain, phrases);
        if (!holds)
            return holds.error();
        if (*holds)
            out.push_back(m);
    }
    return out;
}

Result<std::vector<TextMatch>> searchText(Database &db, BlobStore &blobs, const std::string &query,
                                          int limit)
{
    const std::vector<std::string> words = wordsOf(query);
    // The index keeps no positions (detail=none: a fraction of the size), so FTS5 cannot
    // match phrases itself. A query it refuses (a phrase, a stray quote, `foo-bar`) is
    // asked as all of its words, and the phrases are then looked for in the text.
    std::string match = query;
    std::vector<std::string> phrases;
    auto probe = runMatch(db, match, 1, 0);
    if (!probe) {
        if (probe.error().code == ErrorCode::Corrupt)
            return probe.error();
        if (words.empty())
            return std::vector<TextMatch>{};
        match.clear();
        for (const std::string &w : words)
            match += (match.empty() ? "\"" : " \"") + w + "\"";
        phrases = quotedPhrases(query);
        if (phrases.empty() && words.size() > 1)
            phrases.push_back(normalized(query));
    }
    std::vector<TextMatch> out;
    constexpr int kPage = 256;
    for (int offset = 0; int(out.size()) < limit; offset += kPage) {
        auto page = runMatch(db, match, phrases.empty() ? limit - int(out.size()) : kPage, offset);
        if (!page)
            return page.error();
        for (const TextMatch &m : *page) {
            if (!phrases.empty()) {
                auto holds = textHolds(blobs, m.blob, {}, phrases);
                if (!holds)
                    return holds.error();
                if (!*holds)
                    continue;
            }
            out.push_back(m);
            if (int(out.size()) >= limit)
                break;
        }
        if (phrases.empty() || int(page->size()) < kPage)
            break;
    }
    // The tail is scanned for plain words and phrases; FTS5 operators (OR, NOT, NEAR)
    // are not interpreted there.
    if (int(out.size()) < limit) {
        auto tail = scanTail(db, blobs, words, phrases, limit - int(out.size()));
        if (!tail)
            return tail.error();
        out.insert(out.end(), tail->begin(), tail->end());
    }
    return out;
}

static std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string snippetFor(const std::string &text, const std::string &query, size_t width)
{
    std::string haystack = lower(text);
    // Centre on the query as a whole when it occurs so (a phrase), else on its first word.
    std::string whole;
    for (const std::string &w : wordsOf(query)) {
        if (!whole.empty())
            whole += ' ';
        whole += lower(w);
    }
    size_t at = whole.empty() ? std::string::npos : haystack.find(whole);
    for (const std::string &w : at != std::string::npos ? std::vector<std::string>{} : wordsOf(query)) {
        size_t p = haystack.find(lower(w));
        if (p < at)
            at = p;
    }
    if (at == std::string::npos)
        at = 0;
    size_t start = at > width / 3 ? at - width / 3 : 0;
    // Do not cut a UTF-8 sequence in half.
    while (start > 0 && (uint8_t(text[start]) & 0xc0) == 0x80)
        --start;
    size_t end = std::min(text.size(), start + width);
    while (end < text.size() && (uint8_t(text[end]) & 0xc0) == 0x80)
        ++end;
    std::string out;
    bool space = false;
    for (size_t i = start; i < end; ++i) {
        char c = text[i];
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = true;
            continue;
        }
        if (space && !out.empty())
            out += ' ';
        space = false;
        out += c;
    }
    if (start > 0)
        out = "…" + out;
    if (end < text.size())
        out += "…";
    return out;
}

} // namespace tapedeck::formats
