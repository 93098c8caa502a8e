// A thin RAII layer over SQLite: one Database per connection, Statements prepared once and
// reused. Every failure becomes an Error that names the file and what SQLite said.
#pragma once

#include "tapedeck/formats/tape.h"

#include <sqlite3.h>

#include <string>
#include <string_view>

namespace tapedeck::formats {

class Statement;

// Owns one sqlite3 connection. Not thread-safe (the connection is opened with
// SQLITE_OPEN_NOMUTEX); one Database per thread.
class Database {
public:
    enum class Mode { ReadOnly, ReadWrite, Create };

    static Result<std::unique_ptr<Database>> open(const std::string &path, Mode mode);
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    sqlite3 *handle() const { return m_db; }
    const std::string &path() const { return m_path; }

    // Runs one or more statements that return no rows.
    Status exec(std::string_view sql);
    Result<Statement> prepare(std::string_view sql);

    // Turns the connection's last error into an Error ("<file>: <context>: <sqlite msg>").
    Error lastError(std::string_view context) const;
    Error errorFor(int rc, std::string_view context) const;

    Status begin();
    // A deferred transaction: it takes the read lock at its first read and keeps it.
    Status beginRead();
    Status commit();
    void rollback();
    bool inTransaction() const;

    // A point inside the open transaction that one part of it can be undone to.
    Status savepoint();
    Status releaseSavepoint();
    // Undoes what came after savepoint() and releases it.
    Status rollbackToSavepoint();

private:
    Database(sqlite3 *db, std::string path) : m_db(db), m_path(std::move(path)) {}
    Status runCached(sqlite3_stmt *&stmt, const char *sql);
    sqlite3 *m_db;
    std::string m_path;
    // BEGIN, COMMIT and the savepoints run once per step: prepared once, not parsed each time.
    sqlite3_stmt *m_begin = nullptr;
    sqlite3_stmt *m_beginRead = nullptr;
    sqlite3_stmt *m_commit = nullptr;
    sqlite3_stmt *m_savepoint = nullptr;
    sqlite3_stmt *m_release = nullptr;
    sqlite3_stmt *m_rollbackTo = nullptr;
};

// Reads of several statements under one read transaction: the file's locks (and the WAL's
// read mark) are taken once for all of them, not once per statement, which is most of the
// cost of reading a step of many small blobs. Does nothing when a transaction is open.
class ReadTransaction {
public:
    explicit ReadTransaction(Database &db);
    ~ReadTransaction();
    ReadTransaction(const ReadTransaction &) = delete;
    ReadTransaction &operator=(const ReadTransaction &) = delete;

private:
    Database *m_db = nullptr; // the database whose transaction this opened, if it did
};

// A prepared statement. Binding is 1-based as in SQLite. step() returns true while rows
// come; reset() makes it reusable with new bindings.
class Statement {
public:
    Statement() = default;
    Statement(Database *db, sqlite3_stmt *stmt) : m_db(db), m_stmt(stmt) {}
    ~Statement();
    Statement(Statement &&other) noexcept;
    Statement &operator=(Statement &&other) noexcept;
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;

    Statement &bind(int i, int64_t v);
    Statement &bind(int i, int v) { return bind(i, int64_t(v)); }
    Statement &bind(int i, double v);
    Statement &bindText(int i, std::string_view v);
    Statement &bindBlob(int i, std::string_view v);
    Statement &bindNull(int i);
    // Binds NULL for 0, the value otherwise: optional references are stored as NULL.
    Statement &bindIdOrNull(int i, int64_t v);

    // Steps once. Ok(true): a row is ready; Ok(false): done.
    Result<bool> step();
    // Steps a statement that returns no rows, then resets it.
    Status run();
    void reset();

    int64_t int64(int col) const { return sqlite3_column_int64(m_stmt, col); }
    double real(int col) const { return sqlite3_column_double(m_stmt, col); }
    bool isNull(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
    std::string text(int col) const;
    std::string_view blob(int col) const;

private:
    Database *m_db = nullptr;
    sqlite3_stmt *m_stmt = nullptr;
};

} // namespace tapedeck::formats
