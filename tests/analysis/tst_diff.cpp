// The diff as functions: side specs, the alignment on sides built in memory and on tapes
// the real writer wrote (two branches of a run, two runs of a tape, runs in two files),
// what compareSteps names, the report's totals, and the kernel session against itself and
// against another seed.
#include "difftapes.h"

#include <tapedeck/analysis/diff.h>
#include <tapedeck/samples/kernelsession.h>

#include <QTemporaryDir>
#include <QTest>

#include <sstream>

using namespace tapedeck;
using namespace tapedeck::analysis;
using formats::StepKind;
using formats::StepStatus;

Q_DECLARE_METATYPE(std::string)

namespace {

// A side from a line of tokens, one per step: KIND[:NAME[:CONTENT]][@THREAD][!]
//   M[:model[:response]]   a model call;  C:tool:args  a tool call;  R:tool:output  its result;
//   F  a fork's marker;
//   @thread puts the step on that thread (default "main"); a trailing ! marks it failed.
Side sideOf(const std::string &tokens, const std::string &tape = {})
{
    Side side;
    side.tape = tape;
    std::istringstream in(tokens);
    std::string token;
    int64_t index = 0;
    while (in >> token) {
        formats::StepSummary s;
        s.index = formats::StepIndex(++index);
        if (token.back() == '!') {
            s.status = StepStatus::Error;
            token.pop_back();
        }
        std::string thread = "main";
        if (const size_t at = token.find('@'); at != std::string::npos) {
            thread = token.substr(at + 1);
            token.resize(at);
        }
        std::vector<std::string> parts;
        std::istringstream fields(token);
        for (std::string part; std::getline(fields, part, ':');)
            parts.push_back(part);
        parts.resize(3);
        s.kind = parts[0] == "M"   ? StepKind::ModelCall
                 : parts[0] == "C" ? StepKind::ToolCall
                 : parts[0] == "F" ? StepKind::ForkPoint
                                   : StepKind::ToolResult;
        s.name = parts[1];
        formats::StepFingerprint fp{s.index, std::hash<std::string>()(parts[2]) | 1, 0, 0};
        side.steps.push_back(s);
        side.fingerprints.push_back(fp);
        StepSignature sig{s.kind, thread, s.kind == StepKind::ModelCall ? "" : s.name,
                          s.kind == StepKind::ToolCall ? fp.payload : 0};
        side.signatures.push_back(sig);
    }
    return side;
}

// "=~-+" for same, changed, removed (only in A), inserted (only in B).
std::string kinds(const Alignment &alignment)
{
    std::string out;
    for (const AlignedRow &row : alignment.rows)
        out += "=~-+"[int(row.kind)];
    return out;
}

// What must hold of any alignment: each step of each side in exactly one row, in order;
// pairs of equal signature; the counts and the first divergence as the rows say.
QString invariantsBroken(const Side &a, const Side &b, const Alignment &al)
{
    size_t nextA = 0, nextB = 0;
    int64_t counts[4] = {};
    std::optional<size_t> first, firstMarker;
    for (size_t i = 0; i < al.rows.size(); ++i) {
        const AlignedRow &row = al.rows[i];
        ++counts[int(row.kind)];
        const formats::StepSummary &step = row.a ? a.steps[*row.a] : b.steps[*row.b];
        if (row.kind != RowKind::Same && step.kind == StepKind::ForkPoint && !firstMarker)
            firstMarker = i;
        if (row.kind != RowKind::Same && step.kind != StepKind::ForkPoint && !first)
            first = i;
        if (row.a.has_value() != (row.kind != RowKind::Inserted) || row.b.has_value() != (row.kind != RowKind::Removed))
            return QStringLiteral("row %1 has the wrong sides for its kind").arg(i);
        if (row.a && *row.a != nextA++)
            return QStringLiteral("row %1: A out of order").arg(i);
        if (row.b && *row.b != nextB++)
            return QStringLiteral("row %1: B out of order").arg(i);
        if (row.a && row.b && !(a.signatures[*row.a] == b.signatures[*row.b]))
            return QStringLiteral("row %1 pairs steps of different signatures").arg(i);
    }
    if (nextA != a.steps.size() || nextB != b.steps.size())
        return QStringLiteral("not every step is in a row");
    if (counts[0] != al.same || counts[1] != al.changed || counts[2] != al.removed || counts[3] != al.inserted)
        return QStringLiteral("counts do not match the rows");
    if (!first)
        first = firstMarker;
    if (first != al.firstDivergence)
        return QStringLiteral("first divergence does not match the rows");
    return {};
}

std::vector<std::string> fieldsOf(const std::vector<FieldDifference> &list)
{
    std::vector<std::string> out;
    for (const FieldDifference &d : list)
        out.push_back(d.field);
    return out;
}

QByteArray joined(const std::vector<std::string> &list)
{
    std::string out;
    for (const std::string &s : list)
        out += (out.empty() ? "" : " | ") + s;
    return QByteArray::fromStdString(out);
}

} // namespace

class TestDiff : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::string path(const char *name) const { return m_dir.filePath(QString::fromUtf8(name)).toStdString(); }

    std::unique_ptr<formats::TapeReader> open(const std::string &file)
    {
        auto reader = formats::TapeReader::open(file);
        if (!reader)
            qFatal("%s", reader.error().message.c_str());
        return std::move(*reader);
    }

    Alignment alignTapes(const std::string &fileA, const std::string &specA, const std::string &fileB,
                         const std::string &specB, Side *outA = nullptr, Side *outB = nullptr)
    {
        auto readerA = open(fileA);
        auto readerB = open(fileB);
        auto a = loadSide(*readerA, *parseSideSpec(specA));
        auto b = loadSide(*readerB, *parseSideSpec(specB));
        if (!a || !b)
            qFatal("%s", (!a ? a.error() : b.error()).message.c_str());
        Alignment al = align(*a, *b);
        const QString broken = invariantsBroken(*a, *b, al);
        if (!broken.isEmpty())
            qFatal("%s", qPrintable(broken));
        if (outA)
            *outA = *a;
        if (outB)
            *outB = *b;
        return al;
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void sideSpecs_data()
    {
        QTest::addColumn<std::string>("text");
        QTest::addColumn<std::string>("path");
        QTest::addColumn<int>("run");    // 0: none
        QTest::addColumn<int>("branch"); // 0: none
        QTest::addColumn<std::string>("error"); // a part of the message when it must fail

        QTest::newRow("file") << std::string("a.tape") << std::string("a.tape") << 0 << 0 << std::string();
        QTest::newRow("branch") << std::string("dir/a.tape#3") << std::string("dir/a.tape") << 0 << 3 << std::string();
        QTest::newRow("run") << std::string("a.tape#run:2") << std::string("a.tape") << 2 << 0 << std::string();
        QTest::newRow("run and branch")
            << std::string("a.tape#run:2,branch:5") << std::string("a.tape") << 2 << 5 << std::string();
        QTest::newRow("branch first")
            << std::string("a.tape#branch:5,run:2") << std::string("a.tape") << 2 << 5 << std::string();
        QTest::newRow("empty after #") << std::string("a.tape#") << std::string() << 0 << 0
                                       << std::string("neither run:R nor branch:N");
        QTest::newRow("word") << std::string("a.tape#main") << std::string() << 0 << 0
                              << std::string("\"main\" is neither run:R nor branch:N");
        QTest::newRow("zero") << std::string("a.tape#run:0") << std::string() << 0 << 0
                              << std::string("needs a positive number");
        QTest::newRow("twice") << std::string("a.tape#run:1,run:2") << std::string() << 0 << 0
                               << std::string("the run is named twice");
        QTest::newRow("no file") << std::string("#2") << std::string() << 0 << 0 << std::string("no file named");
    }
    void sideSpecs()
    {
        QFETCH(std::string, text);
        QFETCH(std::string, path);
        QFETCH(int, run);
        QFETCH(int, branch);
        QFETCH(std::string, error);
        auto spec = parseSideSpec(text);
        if (!error.empty()) {
            QVERIFY(!spec);
            QVERIFY2(spec.error().message.find(error) != std::string::npos, spec.error().message.c_str());
            QVERIFY2(spec.error().message.find(text) != std::string::npos, "the message names the text");
            QVERIFY2(spec.error().message.find("FILE#run:R,branch:N") != std::string::npos, "and the forms");
            return;
        }
        QVERIFY(spec);
        QCOMPARE(spec->path, path);
        QCOMPARE(spec->text, text);
        QCOMPARE(spec->run ? int(spec->run->value) : 0, run);
        QCOMPARE(spec->branch ? int(spec->branch->value) : 0, branch);
    }

    void alignInMemory_data()
    {
        QTest::addColumn<std::string>("a");
        QTest::addColumn<std::string>("b");
        QTest::addColumn<std::string>("rows");
        QTest::addColumn<int>("first"); // -1: none

        const std::string run = "M C:bash:ls R:bash:files M C:make:all R:make:ok M";
        QTest::newRow("identical") << run << run << std::string("=======") << -1;
        QTest::newRow("both empty") << std::string() << std::string() << std::string() << -1;
        QTest::newRow("A empty") << std::string() << std::string("M C:bash:ls") << std::string("++") << 0;
        QTest::newRow("B empty") << std::string("M C:bash:ls") << std::string() << std::string("--") << 0;
        QTest::newRow("insertion") << std::string("M C:bash:ls R:bash:files M")
                                   << std::string("M C:bash:ls R:bash:files C:bash:pwd R:bash:dir M")
                                   << std::string("===++=") << 3;
        QTest::newRow("deletion") << std::string("M C:bash:ls R:bash:files C:bash:pwd R:bash:dir M")
                                  << std::string("M C:bash:ls R:bash:files M") << std::string("===--=") << 3;
        // Other arguments are another move; the results that follow pair up, their output differing.
        QTest::newRow("replacement") << std::string("M C:bash:ls R:bash:files M")
                                     << std::string("M C:bash:pwd R:bash:dir M") << std::string("=-+~=") << 1;
        QTest::newRow("changed response") << std::string("M:m:plan C:bash:ls") << std::string("M:m:other C:bash:ls")
                                          << std::string("~=") << 0;
        QTest::newRow("changed output") << std::string("C:bash:ls R:bash:files M")
                                        << std::string("C:bash:ls R:bash:nothing M") << std::string("=~=") << 1;
        QTest::newRow("failed instead") << std::string("C:bash:ls R:bash:files")
                                        << std::string("C:bash:ls R:bash:files!") << std::string("=~") << 1;
        QTest::newRow("other model, same move")
            << std::string("M:small:plan") << std::string("M:large:plan") << std::string("~") << 0;
        QTest::newRow("other thread")
            << std::string("M C:bash:ls") << std::string("M C:bash:ls@sub") << std::string("=-+") << 1;
        QTest::newRow("identical runs around a change")
            << std::string("M C:a:1 R:a:x M C:b:2 R:b:y M C:c:3 R:c:z M")
            << std::string("M C:a:1 R:a:x M C:b:9 R:b:y M C:c:3 R:c:z M") << std::string("====-+=====") << 4;
        QTest::newRow("fork marker passed over")
            << std::string("M R:a:x") << std::string("M F R:a:y") << std::string("=+~") << 2;
        QTest::newRow("fork marker the only difference")
            << std::string("M C:a:1") << std::string("M F C:a:1") << std::string("=+=") << 1;
        QTest::newRow("everything different") << std::string("C:a:1 C:b:2") << std::string("C:c:3")
                                              << std::string("--+") << 0;
    }
    void alignInMemory()
    {
        QFETCH(std::string, a);
        QFETCH(std::string, b);
        QFETCH(std::string, rows);
        QFETCH(int, first);
        const Side sa = sideOf(a), sb = sideOf(b);
        const Alignment al = align(sa, sb);
        QCOMPARE(kinds(al), rows);
        QCOMPARE(al.firstDivergence ? int(*al.firstDivergence) : -1, first);
        const QString broken = invariantsBroken(sa, sb, al);
        QVERIFY2(broken.isEmpty(), qPrintable(broken));
    }

    // Message lists compare by fingerprint within one tape, by count across two.
    void messagesOneTapeAndTwo()
    {
        Side a = sideOf("M"), b = sideOf("M");
        a.fingerprints[0].messages = 11;
        b.fingerprints[0].messages = 12;
        a.steps[0].messageCount = b.steps[0].messageCount = 4;
        QCOMPARE(kinds(align(a, b)), std::string("="));
        a.tape = b.tape = "/t/one.tape";
        QCOMPARE(kinds(align(a, b)), std::string("~"));
        b.fingerprints[0].messages = 11;
        QCOMPARE(kinds(align(a, b)), std::string("="));
        a.tape = "/t/two.tape";
        b.steps[0].messageCount = 5;
        QCOMPARE(kinds(align(a, b)), std::string("~"));
    }

    void rowKindNames()
    {
        QCOMPARE(std::string(rowKindName(RowKind::Same)), std::string("same"));
        QCOMPARE(std::string(rowKindName(RowKind::Changed)), std::string("changed"));
        QCOMPARE(std::string(rowKindName(RowKind::Removed)), std::string("removed"));
        QCOMPARE(std::string(rowKindName(RowKind::Inserted)), std::string("inserted"));
    }

    void forkAgainstParent()
    {
        const std::string file = path("fork.tape");
        auto tape = testutil::writeForkTape(file);
        QVERIFY2(tape, tape ? "" : tape.error().message.c_str());
        Side a, b;
        const Alignment al = alignTapes(file, file + "#1", file, file + "#" + std::to_string(tape->fork.value), &a, &b);
        // 1-5 shared; the fork's marker (11) only in B; 6/12 the make output (failed vs built),
        // 7/13 the model call that saw it, the edit (8, 9) only in A, the benchmark (14, 15)
        // only in B, 10/16 "done" on another history.
        QCOMPARE(kinds(al), std::string("=====+~~--++~"));
        // The marker is passed over: the first divergence is what the fork changed.
        QCOMPARE(al.firstDivergence, std::optional<size_t>(6));
        QCOMPARE(b.steps.size(), size_t(11));
        QCOMPARE(b.steps[5].kind, formats::StepKind::ForkPoint);
        QCOMPARE(b.steps[6].index.value, int64_t(12));
        QCOMPARE(al.rows[6].a, std::optional<size_t>(5));
        QCOMPARE(a.steps[*al.rows[6].a].index.value, int64_t(6));
        QCOMPARE(b.branch.forkStep->value, int64_t(5));
        QCOMPARE(b.signatures[8].name, std::string("bench"));
        QCOMPARE(b.signatures[8].thread, std::string("main"));

        // FILE#N alone: the branch against the one it was forked from.
        auto reader = open(file);
        auto forkSpec = parseSideSpec(file + "#" + std::to_string(tape->fork.value));
        QVERIFY(forkSpec);
        auto parent = parentSideSpec(*reader, *forkSpec);
        QVERIFY(parent);
        QCOMPARE(parent->branch->value, tape->original.branch.value);
        QCOMPARE(parent->run->value, tape->original.run.value);
        auto original = parentSideSpec(*reader, *parseSideSpec(file + "#1"));
        QVERIFY(!original);
        QVERIFY2(original.error().message.find("original") != std::string::npos, original.error().message.c_str());
    }

    void twoRunsOfOneTape()
    {
        const std::string file = path("tworuns.tape");
        {
            auto writer = formats::TapeWriter::create(file, formats::WriterOptions{.overwrite = true});
            QVERIFY(writer);
            QVERIFY(testutil::writeAgentRun(**writer, "first"));
            QVERIFY(testutil::writeAgentRun(**writer, "second", "b.cu"));
        }
        Side a, b;
        const Alignment al = alignTapes(file, file + "#run:1", file, file + "#run:2", &a, &b);
        QCOMPARE(a.run.name, std::string("first"));
        QCOMPARE(b.run.name, std::string("second"));
        QCOMPARE(b.steps.front().index.value, int64_t(11));
        // The edit of another file is another move; everything else is the same, the history
        // of the last model call included (its messages hold outputs, not arguments).
        QCOMPARE(kinds(al), std::string("=======-+=="));
        // Without a run: the tape's last.
        const Alignment last = alignTapes(file, file + "#run:2", file, file);
        QCOMPARE(kinds(last), std::string("=========="));
    }

    void runsInTwoFiles()
    {
        const std::string one = path("one.tape"), same = path("same.tape"), other = path("other.tape");
        for (const auto &[file, edited] : {std::pair{one, "a.cu"}, {same, "a.cu"}, {other, "b.cu"}}) {
            auto writer = formats::TapeWriter::create(file, formats::WriterOptions{.overwrite = true});
            QVERIFY(writer);
            QVERIFY(testutil::writeAgentRun(**writer, "run", edited));
        }
        Side a, b;
        QCOMPARE(kinds(alignTapes(one, one, same, same, &a, &b)), std::string("=========="));
        QVERIFY(a.tape != b.tape);
        QCOMPARE(kinds(alignTapes(one, one, other, other)), std::string("=======-+=="));
    }

    void compareStepsNamesFields()
    {
        const std::string file = path("fork-fields.tape");
        auto tape = testutil::writeForkTape(file);
        QVERIFY(tape);
        auto reader = open(file);
        auto fields = [&](int64_t a, int64_t b) {
            auto list = compareSteps(*reader, formats::StepIndex(a), *reader, formats::StepIndex(b));
            if (!list)
                qFatal("%s", list.error().message.c_str());
            return fieldsOf(*list);
        };
        // The make output: failed and its text, against built.
        QCOMPARE(joined(fields(6, 12)), QByteArray("status | tool output | tool result: is_error"));
        // The model call after it: the tool message it saw, and its answer.
        QCOMPARE(joined(fields(7, 13)), QByteArray("response | message 5 (tool)"));
        // "done" twice, after other histories: messages 5 to 7 differ, the answer does not.
        QCOMPARE(joined(fields(10, 16)), QByteArray("message 5 (tool) | message 6 (assistant) | message 7 (tool)"));
        QCOMPARE(joined(fields(2, 2)), QByteArray());
        QCOMPARE(joined(fields(8, 14)), QByteArray("name | tool arguments"));

        auto list = compareSteps(*reader, formats::StepIndex(6), *reader, formats::StepIndex(12));
        QVERIFY(list);
        const FieldDifference &output = (*list)[1];
        QCOMPARE(output.a, std::string("error: x undeclared"));
        QCOMPARE(output.b, std::string("built ok"));
        QVERIFY2(output.diff.find("-error: x undeclared") != std::string::npos, output.diff.c_str());
        QVERIFY2(output.diff.find("+built ok") != std::string::npos, output.diff.c_str());

        auto missing = compareSteps(*reader, formats::StepIndex(6), *reader, formats::StepIndex(999));
        QVERIFY(!missing);
    }

    void compareModelAndParameters()
    {
        const std::string file = path("models.tape");
        {
            auto writer = formats::TapeWriter::create(file, formats::WriterOptions{.overwrite = true});
            QVERIFY(writer);
            formats::RunInfo info;
            info.name = "models";
            auto run = (*writer)->beginRun(info);
            QVERIFY(run);
            auto branch = (*writer)->mainBranch(*run);
            auto thread = (*writer)->addThread({formats::ThreadId(), *branch, std::nullopt, "main", testutil::kDiffT0});
            QVERIFY(thread);
            testutil::Conversation one(*thread, testutil::kDiffT0), two(*thread, testutil::kDiffT0);
            QCOMPARE(testutil::appendAll(**writer, {one.model("plan", "m-small", 0.2), two.model("plan", "m-large", 0.7),
                                                    one.call("bash", {{"cmd", "ls"}, {"all", true}}),
                                                    two.call("bash", {{"all", true}, {"cmd", "ls -l"}})}),
                     std::string());
        }
        auto reader = open(file);
        auto list = compareSteps(*reader, formats::StepIndex(1), *reader, formats::StepIndex(2));
        QVERIFY(list);
        QCOMPARE(joined(fieldsOf(*list)), QByteArray("model | request: temperature"));
        list = compareSteps(*reader, formats::StepIndex(3), *reader, formats::StepIndex(4));
        QVERIFY(list);
        QCOMPARE(joined(fieldsOf(*list)), QByteArray("tool arguments"));
        QVERIFY2((*list)[0].diff.find("\"cmd\": \"ls -l\"") != std::string::npos, (*list)[0].diff.c_str());
    }

    // Arguments given in another key order are the same arguments: the writer stores
    // objects with sorted keys, so their fingerprints are equal.
    void argumentsNormalised()
    {
        const std::string file = path("keyorder.tape");
        {
            auto writer = formats::TapeWriter::create(file, formats::WriterOptions{.overwrite = true});
            QVERIFY(writer);
            auto run = (*writer)->beginRun(formats::RunInfo{});
            QVERIFY(run);
            auto thread = (*writer)->addThread(
                {formats::ThreadId(), *(*writer)->mainBranch(*run), std::nullopt, "main", testutil::kDiffT0});
            QVERIFY(thread);
            testutil::Conversation c(*thread, testutil::kDiffT0);
            nlohmann::json first = nlohmann::json::parse("{\"b\": 1, \"a\": [1, 2]}");
            nlohmann::json second = nlohmann::json::parse("{\"a\":[1,2],\"b\":1}");
            QCOMPARE(testutil::appendAll(**writer, {c.call("t", first), c.call("t", second)}), std::string());
        }
        auto reader = open(file);
        auto fps = reader->stepFingerprints(formats::StepIndex(1), 2);
        QVERIFY(fps);
        QCOMPARE(fps->size(), size_t(2));
        QVERIFY((*fps)[0].payload != 0);
        QCOMPARE((*fps)[0].payload, (*fps)[1].payload);
    }

    void loadErrors()
    {
        const std::string file = path("errors.tape");
        QVERIFY(testutil::writeForkTape(file));
        auto reader = open(file);
        auto noBranch = loadSide(*reader, *parseSideSpec(file + "#9"));
        QVERIFY(!noBranch);
        QCOMPARE(noBranch.error().code, formats::ErrorCode::NotFound);
        QVERIFY2(noBranch.error().message.find("no branch 9 (its branches: 1, 2)") != std::string::npos,
                 noBranch.error().message.c_str());
        auto noRun = loadSide(*reader, *parseSideSpec(file + "#run:4"));
        QVERIFY(!noRun);
        QVERIFY2(noRun.error().message.find("no run 4 (its runs: 1)") != std::string::npos,
                 noRun.error().message.c_str());
        auto wrongRun = loadSide(*reader, *parseSideSpec(file + "#run:1,branch:7"));
        QVERIFY(!wrongRun);
        QVERIFY2(wrongRun.error().message.find("has no branch 7") != std::string::npos,
                 wrongRun.error().message.c_str());
    }

    void reportTotalsAndJson()
    {
        const std::string file = path("report.tape");
        auto tape = testutil::writeForkTape(file);
        QVERIFY(tape);
        auto reader = open(file);
        auto report = diffSides(*reader, *parseSideSpec(file + "#1"), *reader, *parseSideSpec(file + "#2"));
        QVERIFY2(report, report ? "" : report.error().message.c_str());
        QCOMPARE(report->totalsA.steps, int64_t(10));
        QCOMPARE(report->totalsB.steps, int64_t(11));
        QCOMPARE(report->totalsA.modelCalls, int64_t(4));
        QCOMPARE(report->totalsA.toolCalls, int64_t(3));
        QCOMPARE(report->totalsA.errors, int64_t(1));
        QCOMPARE(report->totalsB.errors, int64_t(0));
        // The bench ran 9 s where the edit took 0.5 s.
        QCOMPARE(report->totalsB.durationUs - report->totalsA.durationUs, int64_t(8500000));
        int64_t inputA = 0;
        for (const formats::StepSummary &s : report->a.steps)
            inputA += s.usage.inputTokens;
        QCOMPARE(report->totalsA.usage.inputTokens, inputA);
        // Every changed pair's differences were read (3 < maxPairsCompared).
        QCOMPARE(report->pairDifferences.size(), size_t(3));
        QCOMPARE(report->pairDifferences.front().first, size_t(6));

        const nlohmann::json j = diffToJson(*report);
        QVERIFY(j["identical"] == false);
        QVERIFY(j["counts"]["changed"] == 3);
        QVERIFY(j["counts"]["removed"] == 2);
        QVERIFY(j["counts"]["inserted"] == 3);
        QVERIFY(j["counts"]["same"] == 5);
        QVERIFY(j["first_divergence"]["a"]["step"] == 6);
        QVERIFY(j["first_divergence"]["b"]["step"] == 12);
        QVERIFY(j["first_divergence"]["fields"] == nlohmann::json({"status", "tool output", "tool result: is_error"}));
        QCOMPARE(j["rows"].size(), size_t(8)); // the 8 that differ
        QVERIFY(j["rows"][0]["kind"] == "inserted");
        QVERIFY(j["rows"][0]["b"]["kind"] == "fork_point");
        QVERIFY(j["rows"][3]["kind"] == "removed");
        QVERIFY(j["rows"][3]["b"].is_null());
        QVERIFY(j["totals"]["delta"]["errors"] == -1);
        DiffOptions all;
        all.onlyDifferences = false;
        QCOMPARE(diffToJson(*report, all)["rows"].size(), size_t(13));

        std::ostringstream text;
        printDiff(*report, text);
        const std::string out = text.str();
        QVERIFY2(out.find("First divergence, row 7: A step 6 and B step 12, tool_result bash on main") !=
                     std::string::npos,
                 out.c_str());
        QVERIFY2(out.find("... 3 same steps ...") != std::string::npos, out.c_str()); // rows 1-3; 4-5 are context
        QVERIFY2(out.find("-error: x undeclared") != std::string::npos, out.c_str());
        QVERIFY2(out.find("time in steps") != std::string::npos, out.c_str());
    }

    // The long sample session: against itself, against the same seed in another file (equal
    // content across tapes) and against another seed (same shape, other texts).
    void kernelSession()
    {
        const std::string one = path("k1.tape"), again = path("k1-again.tape"), seed2 = path("k2.tape");
        for (const auto &[file, seed] : {std::pair{one, uint64_t(1)}, {again, uint64_t(1)}, {seed2, uint64_t(2)}}) {
            auto writer = formats::TapeWriter::create(file, formats::WriterOptions{.overwrite = true});
            QVERIFY(writer);
            samples::KernelSessionOptions options;
            options.seed = seed;
            options.scale = 0.2;
            auto stats = samples::writeKernelSession(**writer, options);
            QVERIFY2(stats, stats ? "" : stats.error().message.c_str());
        }
        auto r1 = open(one), r1again = open(again), r2 = open(seed2);

        auto self = diffSides(*r1, *parseSideSpec(one), *r1, *parseSideSpec(one));
        QVERIFY(self);
        QVERIFY(!self->alignment.firstDivergence);
        QCOMPARE(self->alignment.same, int64_t(self->a.steps.size()));
        QVERIFY(self->a.steps.size() > 100);

        auto twin = diffSides(*r1, *parseSideSpec(one), *r1again, *parseSideSpec(again));
        QVERIFY(twin);
        QVERIFY2(!twin->alignment.firstDivergence, "the same seed in another file holds the same content");

        auto other = diffSides(*r1, *parseSideSpec(one), *r2, *parseSideSpec(seed2));
        QVERIFY(other);
        const Alignment &al = other->alignment;
        QVERIFY(al.firstDivergence);
        QCOMPARE(al.same + al.changed + al.removed, int64_t(other->a.steps.size()));
        QCOMPARE(al.same + al.changed + al.inserted, int64_t(other->b.steps.size()));
        const QString broken = invariantsBroken(other->a, other->b, al);
        QVERIFY2(broken.isEmpty(), qPrintable(broken));
        // The shape depends on the scale only: many moves pair up though their texts differ.
        QVERIFY(al.changed > 0);
        QVERIFY(!other->pairDifferences.empty());
        for (const auto &[row, list] : other->pairDifferences)
            QVERIFY2(!list.empty(), "a changed pair has a difference to show");
    }
};

QTEST_GUILESS_MAIN(TestDiff)
#include "tst_diff.moc"
