#include "textindex.h"

#include "blobstore.h"

#include <algorithm>
#include <cctype>

namespace tapedeck::formats {

static void collectText(const nlohmann::json &v, std::string &out)
{
    switch (v.type()) {
    case nlohmann::json::value_t::string: {
        const auto &s = v.get_ref<const std::string &>();
        if (!s.empty()) {
            out += s;
            out += '\n';
        }
        break;
    }
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object:
        for (const auto &e : v)
            collectText(e, out);
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
    auto q = db.prepare("SELECT value FROM meta WHERE key = 'text_indexed_through'");
    if (!q)
        return q.error();
    auto row = q->step();
    if (!row)
        return row.error();
    return *row ? std::stoll("0" + q->text(0)) : int64_t(0);
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

Status TextIndexWriter::add(BlobId blob, StepIndex step, TextField field, std::string text)
{
    if (text.empty())
        return {};
    m_insertSource.bind(1, blob.value).bind(2, step.value).bind(3, int(field));
    if (auto s = m_insertSource.run(); !s)
        return s;
    m_queue.emplace_back(blob, std::move(text));
    return flush(false);
}

Status TextIndexWriter::flush(bool force)
{
    if (m_queue.empty() || (!force && m_queue.size() < kBatch))
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

static Result<std::vector<TextMatch>> runMatch(Database &db, const std::string &match, int limit)
{
    auto stmt = db.prepare(
        "SELECT s.blob, s.step, s.field FROM text_index JOIN text_sources s "
        "ON s.blob = text_index.rowid WHERE text_index MATCH ? ORDER BY s.step, s.blob LIMIT ?");
    if (!stmt)
        return stmt.error();
    stmt->bindText(1, match).bind(2, limit);
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

static std::string lower(std::string s);

// The unindexed tail: blobs after the watermark that hold every word of the query.
static Result<std::vector<TextMatch>> scanTail(Database &db, BlobStore &blobs,
                                               const std::vector<std::string> &words, int limit)
{
    std::vector<TextMatch> out;
    auto through = indexedThrough(db);
    if (!through)
        return through.error();
    auto tail = db.prepare("SELECT blob, step, field FROM text_sources WHERE blob > ? ORDER BY step, blob");
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
        auto bytes = blobs.get(m.blob);
        if (!bytes)
            return bytes.error();
        auto v = nlohmann::json::parse(*bytes, nullptr, false);
        std::string text = lower(v.is_discarded() ? *bytes : textOf(v));
        bool all = !words.empty();
        for (const std::string &w : words)
            all = all && text.find(lower(w)) != std::string::npos;
        if (all)
            out.push_back(m);
    }
    return out;
}

Result<std::vector<TextMatch>> searchText(Database &db, BlobStore &blobs, const std::string &query,
                                          int limit)
{
    const std::vector<std::string> words = wordsOf(query);
    auto matches = runMatch(db, query, limit);
    if (!matches && matches.error().code != ErrorCode::Corrupt) {
        if (words.empty())
            return std::vector<TextMatch>{};
        std::string phrase = "\"";
        for (size_t i = 0; i < words.size(); ++i)
            phrase += (i ? " " : "") + words[i];
        phrase += "\"";
        matches = runMatch(db, phrase, limit);
    }
    if (!matches)
        return matches;
    if (int(matches->size()) < limit) {
        auto tail = scanTail(db, blobs, words, limit - int(matches->size()));
        if (!tail)
            return tail.error();
        matches->insert(matches->end(), tail->begin(), tail->end());
    }
    return matches;
}

static std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string snippetFor(const std::string &text, const std::string &query, size_t width)
{
    std::string haystack = lower(text);
    size_t at = std::string::npos;
    for (const std::string &w : wordsOf(query)) {
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
