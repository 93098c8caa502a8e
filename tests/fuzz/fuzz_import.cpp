// Feeds arbitrary bytes to one importer (TAPEDECK_FUZZ_FORMAT, its name as importers.h
// spells it; one target per format is built from this file) into a fresh tape. Whatever the
// input, the import returns (no crash, no exception, no sanitizer report); a failure names
// the input; a success leaves a tape that verifies, and whose skipped records each name the
// input too.
#include "fuzzworkdir.h"

#include "tapedeck/formats/importers.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

using namespace tapedeck::formats;

namespace {

[[noreturn]] void fail(const std::string &what)
{
    std::fprintf(stderr, "fuzz_import (%s): %s\n", TAPEDECK_FUZZ_FORMAT, what.c_str());
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ImportFormat format = [] {
        auto f = importFormatFromName(TAPEDECK_FUZZ_FORMAT);
        if (!f)
            fail("no such format");
        return *f;
    }();
    const std::string path = tapedeck::fuzz::workDir(TAPEDECK_FUZZ_FORMAT) + "/import.tape";
    WriterOptions options;
    options.overwrite = true;
    auto writer = TapeWriter::create(path, options);
    if (!writer)
        fail("cannot create the tape: " + writer.error().message);

    std::istringstream in(std::string(reinterpret_cast<const char *>(data), size));
    auto report = importStream(in, "fuzz.in", int64_t(size), format, **writer);
    writer->reset();
    if (!report) {
        if (report.error().code == ErrorCode::Parse &&
            report.error().message.find("fuzz.in") == std::string::npos)
            fail("a parse error that does not name the input: " + report.error().message);
        return 0;
    }
    for (const std::string &skipped : report->skipped) {
        if (skipped.rfind("fuzz.in", 0) != 0)
            fail("a skipped record that does not name the input: " + skipped);
    }
    auto reader = TapeReader::open(path);
    if (!reader)
        fail("an imported tape does not open: " + reader.error().message);
    const VerifyReport verified = (*reader)->verify();
    if (!verified.ok)
        fail("an imported tape does not verify: " + verified.problems.front());
    return 0;
}
