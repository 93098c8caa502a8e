// Bookmarks and notes on steps: the table `step_notes`, created by the first note saved.
// It is the one table a tape may lack (older tapes, tapes nobody annotated), so readers
// look for it before they read it; an older reader ignores it (FORMAT.md).
#include "tapedeck/formats/tape.h"

#include "database.h"
#include "schema.h"
#include "stepnotes.h"

#include <chrono>
#include <filesystem>

namespace tapedeck::formats {

namespace {

constexpr const char *kCreateTable = "CREATE TABLE IF NOT EXISTS step_notes("
                                     "step INTEGER PRIMARY KEY, "
                                     "bookmarked INTEGER NOT NULL, "
                                     "note TEXT NOT NULL, "
                                     "updated_us INTEGER NOT NULL)";

int64_t nowUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

Result<std::vector<StepNote>> readStepNotes(Database &db)
{
    auto exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'step_notes'");
    if (!exists)
        return exists.error();
    auto found = exists->step();
    if (!found)
        return found.error();
    std::vector<StepNote> notes;
    if (!*found)
        return notes;
    auto q = db.prepare("SELECT step, bookmarked, note, updated_us FROM step_notes ORDER BY step");
    if (!q)
        return q.error();
    for (;;) {
        auto row = q->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        notes.push_back(StepNote{StepIndex{q->int64(0)}, q->int64(1) != 0, q->text(2), q->int64(3)});
    }
    return notes;
}

Status saveStepNote(const std::string &path, const StepNote &note)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return Error{ErrorCode::Io, path + ": no such file"};
    auto db = Database::open(path, Database::Mode::ReadWrite);
    if (!db)
        return db.error();
    auto version = checkSchema(**db);
    if (!version)
        return version.error();
    if (auto s = configureConnection(**db, true); !s)
        return s.error();
    auto steps = (*db)->prepare("SELECT 1 FROM steps WHERE id = ?");
    if (!steps)
        return steps.error();
    steps->bind(1, note.step.value);
    auto known = steps->step();
    if (!known)
        return known.error();
    if (!*known)
        return Error{ErrorCode::NotFound, path + ": no step " + std::to_string(note.step.value)};
    if (auto s = (*db)->exec(kCreateTable); !s)
        return s.error();
    if (!note.bookmarked && note.text.empty()) {
        auto del = (*db)->prepare("DELETE FROM step_notes WHERE step = ?");
        if (!del)
            return del.error();
        return del->bind(1, note.step.value).run();
    }
    auto put = (*db)->prepare("INSERT OR REPLACE INTO step_notes(step, bookmarked, note, updated_us) "
                              "VALUES (?,?,?,?)");
    if (!put)
        return put.error();
    return put->bind(1, note.step.value)
        .bind(2, note.bookmarked ? 1 : 0)
        .bindText(3, note.text)
        .bind(4, note.updatedUs ? note.updatedUs : nowUs())
        .run();
}

} // namespace tapedeck::formats
