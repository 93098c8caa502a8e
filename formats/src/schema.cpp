#include "schema.h"

namespace tapedeck::formats {

const char *textFieldName(TextField field)
{
    switch (field) {
    case TextField::Message:
        return "message";
    case TextField::ToolArguments:
        return "tool_arguments";
    case TextField::ToolOutput:
        return "tool_output";
    case TextField::Payload:
        return "payload";
    }
    return "unknown";
}

int currentFormatVersion()
{
    return kFormatVersion;
}

static constexpr const char *kSchema = R"sql(
CREATE TABLE meta(
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE dictionaries(
    id INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

CREATE TABLE blobs(
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    role INTEGER NOT NULL,
    size INTEGER NOT NULL,
    codec INTEGER NOT NULL,
    dict INTEGER,
    base INTEGER,
    data BLOB NOT NULL
);

CREATE TABLE strings(
    id INTEGER PRIMARY KEY,
    value TEXT NOT NULL UNIQUE
);

CREATE TABLE runs(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    agent TEXT NOT NULL,
    command TEXT NOT NULL,
    cwd TEXT NOT NULL,
    labels TEXT NOT NULL,
    started_us INTEGER NOT NULL,
    ended_us INTEGER NOT NULL,
    outcome TEXT NOT NULL
);

CREATE TABLE branches(
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL,
    parent INTEGER,
    fork_step INTEGER,
    description TEXT NOT NULL,
    created_us INTEGER NOT NULL
);

CREATE TABLE threads(
    id INTEGER PRIMARY KEY,
    branch INTEGER NOT NULL,
    parent INTEGER,
    label TEXT NOT NULL,
    started_us INTEGER NOT NULL
);

CREATE TABLE steps(
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL,
    branch INTEGER NOT NULL,
    thread INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    status INTEGER NOT NULL,
    name INTEGER,
    call_id TEXT,
    parent INTEGER,
    started_us INTEGER NOT NULL,
    first_token_us INTEGER NOT NULL,
    ended_us INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cost_usd REAL,
    message_count INTEGER NOT NULL,
    request_bytes INTEGER NOT NULL,
    response_bytes INTEGER NOT NULL,
    messages INTEGER,
    params INTEGER,
    payload INTEGER
);
CREATE INDEX steps_by_thread ON steps(thread, seq);

CREATE TABLE wire(
    step INTEGER PRIMARY KEY,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    meta INTEGER NOT NULL,
    request_body INTEGER NOT NULL,
    response_body INTEGER NOT NULL
);

CREATE TABLE totals(
    run INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    costed_steps INTEGER NOT NULL,
    message_refs INTEGER NOT NULL,
    first_us INTEGER NOT NULL,
    last_us INTEGER NOT NULL,
    PRIMARY KEY(run, kind)
) WITHOUT ROWID;

CREATE TABLE blob_totals(
    role INTEGER PRIMARY KEY,
    blobs INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL,
    raw_bytes INTEGER NOT NULL
);

CREATE TABLE text_sources(
    blob INTEGER PRIMARY KEY,
    step INTEGER NOT NULL,
    field INTEGER NOT NULL
);
CREATE VIRTUAL TABLE text_index USING fts5(text, content='', detail=none, tokenize='unicode61');
)sql";

Status createSchema(Database &db)
{
    if (auto s = db.exec(kSchema); !s)
        return s;
    std::string pragmas = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                          "; PRAGMA user_version = " + std::to_string(kFormatVersion) + ";";
    if (auto s = db.exec(pragmas); !s)
        return s;
    return db.exec("INSERT INTO meta(key, value) VALUES ('created_by', 'tapedeck " +
                   std::string(TAPEDECK_VERSION) + "');");
}

static Result<int64_t> pragmaValue(Database &db, const char *name)
{
    auto stmt = db.prepare(std::string("PRAGMA ") + name);
    if (!stmt)
        return stmt.error();
    auto row = stmt->step();
    if (!row)
        return row.error();
    return *row ? stmt->int64(0) : 0;
}

Result<int> checkSchema(Database &db)
{
    auto appId = pragmaValue(db, "application_id");
    if (!appId) {
        if (appId.error().code == ErrorCode::NotATape || appId.error().code == ErrorCode::Corrupt)
            return Error{ErrorCode::NotATape,
                         db.path() + ": not a tape (not an SQLite database: " +
                             appId.error().message + ")"};
        return appId.error();
    }
    if (*appId != kApplicationId) {
        return Error{ErrorCode::NotATape,
                     db.path() + ": not a tape (an SQLite database, but its application_id is " +
                         std::to_string(*appId) + ", not " + std::to_string(kApplicationId) +
                         " 'TAPE')"};
    }
    auto version = pragmaValue(db, "user_version");
    if (!version)
        return version.error();
    if (*version > kFormatVersion) {
        return Error{ErrorCode::FutureVersion,
                     db.path() + ": written in tape format version " + std::to_string(*version) +
                         ", newer than this build of Tapedeck reads (up to version " +
                         std::to_string(kFormatVersion) + "); upgrade Tapedeck to open it"};
    }
    if (*version < 1)
        return Error{ErrorCode::Corrupt, db.path() + ": tape has no format version (user_version 0)"};
    return int(*version);
}

Result<int64_t> readMetaInteger(Database &db, const char *key)
{
    auto q = db.prepare("SELECT value FROM meta WHERE key = ?");
    if (!q)
        return q.error();
    q->bindText(1, key);
    auto row = q->step();
    if (!row)
        return row.error();
    if (!*row)
        return int64_t(0);
    std::string v = q->text(0);
    char *end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end)
        return Error{ErrorCode::Corrupt, db.path() + ": meta " + key + " is not a number"};
    return int64_t(n);
}

Status configureConnection(Database &db, bool writer)
{
    // WAL lets readers (the GUI, `tapedeck info`) look while the recorder appends.
    // synchronous=NORMAL: a crashed process loses nothing committed; only a power loss can
    // drop the last commits, and the file stays consistent either way.
    // A commit per step rewrites the same few pages again and again; a longer WAL between
    // checkpoints copies each of them back to the database once instead of many times.
    if (writer)
        return db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                       "PRAGMA wal_autocheckpoint = 8192;");
    return db.exec("PRAGMA query_only = 1;");
}

} // namespace tapedeck::formats
