#include "database.h"

namespace tapedeck::formats {

static ErrorCode codeForSqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
        return ErrorCode::Corrupt;
    case SQLITE_NOTADB:
        return ErrorCode::NotATape;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return ErrorCode::Io;
    default:
        return ErrorCode::Io;
    }
}

Result<std::unique_ptr<Database>> Database::open(const std::string &path, Mode mode)
{
    int flags = SQLITE_OPEN_NOMUTEX;
    switch (mode) {
    case Mode::ReadOnly:
        flags |= SQLITE_OPEN_READONLY;
        break;
    case Mode::ReadWrite:
        flags |= SQLITE_OPEN_READWRITE;
        break;
    case Mode::Create:
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        break;
    }
    sqlite3 *db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        return Error{codeForSqlite(rc), path + ": cannot open: " + msg};
    }
    sqlite3_extended_result_codes(db, 1);
    // A reader that meets a writer's lock waits instead of failing at once.
    sqlite3_busy_timeout(db, 5000);
    return std::unique_ptr<Database>(new Database(db, path));
}

Database::~Database()
{
    sqlite3_finalize(m_begin);
    sqlite3_finalize(m_beginRead);
    sqlite3_finalize(m_commit);
    sqlite3_finalize(m_savepoint);
    sqlite3_finalize(m_release);
    sqlite3_finalize(m_rollbackTo);
    sqlite3_close_v2(m_db);
}

Error Database::errorFor(int rc, std::string_view context) const
{
    std::string msg = m_path + ": " + std::string(context) + ": " + sqlite3_errmsg(m_db);
    return Error{codeForSqlite(rc), std::move(msg)};
}

Error Database::lastError(std::string_view context) const
{
    return errorFor(sqlite3_extended_errcode(m_db), context);
}

Status Database::exec(std::string_view sql)
{
    std::string s(sql);
    char *err = nullptr;
    int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = m_path + ": " + (err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        return Error{codeForSqlite(rc), std::move(msg)};
    }
    return {};
}

Result<Statement> Database::prepare(std::string_view sql)
{
    sqlite3_stmt *stmt = nullptr;
    int rc = sqlite3_prepare_v3(m_db, sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                &stmt, nullptr);
    if (rc != SQLITE_OK)
        return errorFor(rc, "cannot prepare \"" + std::string(sql.substr(0, 60)) + "\"");
    return Statement(this, stmt);
}

Status Database::runCached(sqlite3_stmt *&stmt, const char *sql)
{
    if (!stmt) {
        int rc = sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK)
            return errorFor(rc, sql);
    }
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return errorFor(rc, sql);
    return {};
}

Status Database::begin()
{
    return runCached(m_begin, "BEGIN IMMEDIATE");
}

Status Database::beginRead()
{
    return runCached(m_beginRead, "BEGIN");
}

ReadTransaction::ReadTransaction(Database &db)
{
    if (sqlite3_get_autocommit(db.handle()) && db.beginRead())
        m_db = &db;
}

ReadTransaction::~ReadTransaction()
{
    // Ending a transaction that wrote nothing cannot lose anything; should it fail, the
    // rollback still releases the locks.
    if (m_db && !m_db->commit())
        m_db->rollback();
}

Status Database::commit()
{
    return runCached(m_commit, "COMMIT");
}

void Database::rollback()
{
    if (!sqlite3_get_autocommit(m_db))
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

bool Database::inTransaction() const
{
    return !sqlite3_get_autocommit(m_db);
}

Status Database::savepoint()
{
    return runCached(m_savepoint, "SAVEPOINT part");
}

Status Database::releaseSavepoint()
{
    return runCached(m_release, "RELEASE part");
}

Status Database::rollbackToSavepoint()
{
    if (auto s = runCached(m_rollbackTo, "ROLLBACK TO part"); !s)
        return s;
    return releaseSavepoint();
}

Statement::~Statement()
{
    sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement &&other) noexcept
    : m_db(other.m_db), m_stmt(std::exchange(other.m_stmt, nullptr))
{
}

Statement &Statement::operator=(Statement &&other) noexcept
{
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_db = other.m_db;
        m_stmt = std::exchange(other.m_stmt, nullptr);
    }
    return *this;
}

Statement &Statement::bind(int i, int64_t v)
{
    sqlite3_bind_int64(m_stmt, i, v);
    return *this;
}

Statement &Statement::bind(int i, double v)
{
    sqlite3_bind_double(m_stmt, i, v);
    return *this;
}

Statement &Statement::bindText(int i, std::string_view v)
{
    sqlite3_bind_text64(m_stmt, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
}

Statement &Statement::bindBlob(int i, std::string_view v)
{
    // A zero-length blob must still be a blob, not NULL.
    static const char empty = 0;
    sqlite3_bind_blob64(m_stmt, i, v.empty() ? &empty : v.data(), v.size(), SQLITE_TRANSIENT);
    return *this;
}

Statement &Statement::bindNull(int i)
{
    sqlite3_bind_null(m_stmt, i);
    return *this;
}

Statement &Statement::bindIdOrNull(int i, int64_t v)
{
    return v ? bind(i, v) : bindNull(i);
}

Result<bool> Statement::step()
{
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    Error e = m_db->errorFor(rc, std::string("query \"") +
                                     std::string(sqlite3_sql(m_stmt)).substr(0, 60) + "\"");
    sqlite3_reset(m_stmt);
    return e;
}

Status Statement::run()
{
    auto r = step();
    reset();
    if (!r)
        return r.error();
    return {};
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

std::string Statement::text(int col) const
{
    auto p = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, col));
    return p ? std::string(p, size_t(sqlite3_column_bytes(m_stmt, col))) : std::string();
}

std::string_view Statement::blob(int col) const
{
    auto p = static_cast<const char *>(sqlite3_column_blob(m_stmt, col));
    return p ? std::string_view(p, size_t(sqlite3_column_bytes(m_stmt, col))) : std::string_view();
}

} // namespace tapedeck::formats
