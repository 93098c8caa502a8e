// Feeds arbitrary bytes to importJsonl() into a fresh tape. Whatever the input, the import
// returns (no crash, no exception, no sanitizer report), a failure says where, and a
// success leaves a tape that verifies and exports.
#include "fuzzworkdir.h"
#include "testutil.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

using namespace tapedeck::formats;

namespace {

[[noreturn]] void fail(const std::string &what)
{
    std::fprintf(stderr, "fuzz_jsonl_import: %s\n", what.c_str());
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = tapedeck::fuzz::workDir("jsonl") + "/import.tape";
    WriterOptions options;
    options.overwrite = true;
    auto writer = TapeWriter::create(path, options);
    if (!writer)
        fail("cannot create the tape: " + writer.error().message);

    std::istringstream in(std::string(reinterpret_cast<const char *>(data), size));
    auto stats = importJsonl(in, **writer, "fuzz.jsonl");
    writer->reset();
    if (!stats) {
        if (stats.error().message.rfind("fuzz.jsonl", 0) != 0 &&
            stats.error().code == ErrorCode::Parse)
            fail("a parse error that does not name the input: " + stats.error().message);
        return 0;
    }

    auto reader = TapeReader::open(path);
    if (!reader)
        fail("an imported tape does not open: " + reader.error().message);
    const VerifyReport report = (*reader)->verify();
    if (!report.ok)
        fail("an imported tape does not verify: " + report.problems.front());
    std::ostringstream out;
    if (auto s = exportJsonl(**reader, out); !s)
        fail("an imported tape does not export: " + s.error().message);
    return 0;
}
