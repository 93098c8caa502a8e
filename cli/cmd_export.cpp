// `tapedeck export`: a tape in the formats other tools read: Tapedeck's JSONL interchange
// (lossless), OpenTelemetry traces (OTLP/HTTP JSON, to a file or POSTed to a collector),
// Chrome trace events (Perfetto).
#include "commands.h"
#include "exitcodes.h"
#include "format.h"

#include "tapedeck/formats/exporters.h"

#include <curl/curl.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

namespace tapedeck::cli {

using namespace tapedeck::formats;

namespace {

// POSTs OTLP/JSON bodies to a collector's /v1/traces. Retries what the OTLP/HTTP spec calls
// retryable (429, 502, 503, 504) twice, after 1 s and 2 s; any other answer but 2xx, or a
// partial success that rejected spans, is an error naming the URL.
class OtlpHttpSender {
public:
    OtlpHttpSender(std::string url, const std::vector<std::string> &headers) : m_url(std::move(url))
    {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        m_curl = curl_easy_init();
        m_headers = curl_slist_append(m_headers, "Content-Type: application/json");
        m_headers = curl_slist_append(m_headers, "Expect:"); // no 100-continue round trip
        for (const std::string &h : headers)
            m_headers = curl_slist_append(m_headers, h.c_str());
    }
    ~OtlpHttpSender()
    {
        curl_slist_free_all(m_headers);
        curl_easy_cleanup(m_curl);
    }
    OtlpHttpSender(const OtlpHttpSender &) = delete;
    OtlpHttpSender &operator=(const OtlpHttpSender &) = delete;

    Status send(const std::string &body)
    {
        for (int attempt = 0;; ++attempt) {
            long status = 0;
            std::string answer;
            if (Status s = post(body, status, answer); !s)
                return s;
            const bool retryable = status == 429 || status == 502 || status == 503 || status == 504;
            if (retryable && attempt < 2) {
                std::this_thread::sleep_for(std::chrono::seconds(attempt + 1));
                continue;
            }
            if (status < 200 || status > 299)
                return fail("HTTP " + std::to_string(status) + answerText(answer));
            return checkPartialSuccess(answer);
        }
    }

private:
    Status post(const std::string &body, long &status, std::string &answer)
    {
        char error[CURL_ERROR_SIZE] = {};
        curl_easy_setopt(m_curl, CURLOPT_URL, m_url.c_str());
        curl_easy_setopt(m_curl, CURLOPT_POST, 1L);
        curl_easy_setopt(m_curl, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(m_curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
        curl_easy_setopt(m_curl, CURLOPT_HTTPHEADER, m_headers);
        curl_easy_setopt(m_curl, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(m_curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(m_curl, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(m_curl, CURLOPT_TIMEOUT, 120L);
        curl_easy_setopt(m_curl, CURLOPT_WRITEFUNCTION, &OtlpHttpSender::collect);
        curl_easy_setopt(m_curl, CURLOPT_WRITEDATA, &answer);
        const CURLcode code = curl_easy_perform(m_curl);
        if (code != CURLE_OK)
            return fail(error[0] ? error : curl_easy_strerror(code));
        curl_easy_getinfo(m_curl, CURLINFO_RESPONSE_CODE, &status);
        return {};
    }

    static size_t collect(char *data, size_t size, size_t count, void *answer)
    {
        static_cast<std::string *>(answer)->append(data, size * count);
        return size * count;
    }

    // A collector that took the request may still have dropped spans ("partialSuccess").
    Status checkPartialSuccess(const std::string &answer) const
    {
        const nlohmann::json reply = nlohmann::json::parse(answer, nullptr, false);
        if (!reply.is_object() || !reply.contains("partialSuccess") ||
            !reply["partialSuccess"].is_object())
            return {};
        const nlohmann::json &partial = reply["partialSuccess"];
        int64_t rejected = 0;
        if (partial.contains("rejectedSpans")) {
            const nlohmann::json &r = partial["rejectedSpans"];
            rejected = r.is_number()   ? r.get<int64_t>()
                       : r.is_string() ? std::atoll(r.get<std::string>().c_str())
                                       : 0;
        }
        if (rejected <= 0)
            return {};
        std::string message =
            partial.contains("errorMessage") && partial["errorMessage"].is_string()
                ? ": " + partial["errorMessage"].get<std::string>()
                : std::string();
        return fail("the collector rejected " + std::to_string(rejected) + " spans" + message);
    }

    static std::string answerText(const std::string &answer)
    {
        return answer.empty() ? std::string() : ": " + oneLine(answer, 200);
    }

    Status fail(const std::string &what) const { return Error{ErrorCode::Io, m_url + ": " + what}; }

    std::string m_url;
    CURL *m_curl = nullptr;
    curl_slist *m_headers = nullptr;
};

// "http://host:4318" -> "http://host:4318/v1/traces"; a URL with a path is taken as it is.
// Empty when the URL is not http(s).
std::string tracesUrl(const std::string &url)
{
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos ||
        (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0))
        return {};
    const size_t host = scheme + 3;
    const size_t path = url.find_first_of("/?#", host);
    if (path == host)
        return {};
    if (path == std::string::npos)
        return url + "/v1/traces";
    if (url.compare(path, std::string::npos, "/") == 0)
        return url + "v1/traces";
    return url;
}

// An output file, or stdout for "-".
class Output {
public:
    explicit Output(std::string path) : m_path(std::move(path))
    {
        if (!toStdout())
            m_file.open(m_path, std::ios::binary | std::ios::trunc);
    }
    bool toStdout() const { return m_path == "-" || m_path.empty(); }
    bool opened() const { return toStdout() || m_file.is_open(); }
    std::ostream &stream() { return toStdout() ? std::cout : m_file; }
    std::string name() const { return toStdout() ? "stdout" : m_path; }

    // The exit code for a finished export: a failed write names the output, a tape that
    // could not be read says so.
    int finish(const Status &status)
    {
        stream().flush();
        if (!stream()) {
            std::cerr << "tapedeck: " << name() << ": write failed\n";
            return kExitCannotWrite;
        }
        return status ? kExitOk : reportError(status.error());
    }

private:
    std::string m_path;
    std::ofstream m_file;
};

struct Options {
    std::string file;
    bool jsonl = false;
    std::string output;
    std::string otlp;
    std::string endpoint;
    std::vector<std::string> headers;
    bool content = false;
    int64_t batchSpans = 1000;
    std::string chromeTrace;
    int64_t run = 0;
    int64_t branch = 0;

    ExportSelection selection() const
    {
        ExportSelection s;
        if (run > 0)
            s.run = RunId(run);
        if (branch > 0)
            s.branch = BranchId(branch);
        return s;
    }
    OtlpOptions otlpOptions() const
    {
        OtlpOptions o;
        o.selection = selection();
        o.includeContent = content;
        o.maxBatchSpans = batchSpans;
        return o;
    }
};

void checkUsage(const Options &o)
{
    if (!o.jsonl && o.otlp.empty() && o.endpoint.empty() && o.chromeTrace.empty())
        throw CLI::ValidationError("export", "give at least one of --jsonl, --otlp FILE, "
                                             "--otlp-endpoint URL, --chrome-trace FILE");
    int toStdout = 0;
    if (o.jsonl && (o.output.empty() || o.output == "-"))
        ++toStdout;
    toStdout += o.otlp == "-";
    toStdout += o.chromeTrace == "-";
    if (toStdout > 1)
        throw CLI::ValidationError("export",
                                   "only one output can go to stdout; give the others a FILE");
    if (!o.endpoint.empty() && tracesUrl(o.endpoint).empty())
        throw CLI::ValidationError("--otlp-endpoint",
                                   o.endpoint + " is not an http:// or https:// URL");
    for (const std::string &h : o.headers) {
        if (h.find(':') == std::string::npos || h.front() == ':')
            throw CLI::ValidationError("--otlp-header", "\"" + h + "\" is not NAME: VALUE");
    }
    if (o.content && o.otlp.empty() && o.endpoint.empty())
        throw CLI::ValidationError("--otlp-content", "needs --otlp or --otlp-endpoint");
    if (o.batchSpans < 1)
        throw CLI::ValidationError("--otlp-batch", "needs at least 1 span per request");
}

int exportJsonlTo(const TapeReader &reader, const Options &o)
{
    Output out(o.output);
    if (!out.opened()) {
        std::cerr << "tapedeck: " << out.name() << ": cannot write\n";
        return kExitCannotWrite;
    }
    return out.finish(exportJsonl(reader, out.stream()));
}

void sayWritten(const Output &out, const std::string &what)
{
    if (!out.toStdout())
        std::cerr << "tapedeck: " << out.name() << ": " << what << "\n";
}

int exportOtlpTo(const TapeReader &reader, const Options &o)
{
    Output out(o.otlp);
    if (!out.opened()) {
        std::cerr << "tapedeck: " << out.name() << ": cannot write\n";
        return kExitCannotWrite;
    }
    auto stats = exportOtlp(reader, out.stream(), o.otlpOptions());
    if (int code = out.finish(stats ? Status{} : Status{stats.error()}); code != kExitOk)
        return code;
    sayWritten(out,
               withCommas(stats->spans) + " spans in " + withCommas(stats->traces) + " traces");
    return kExitOk;
}

int exportOtlpToEndpoint(const TapeReader &reader, const Options &o)
{
    const std::string url = tracesUrl(o.endpoint);
    OtlpHttpSender sender(url, o.headers);
    bool refused = false;
    auto stats = exportOtlpBatches(reader, o.otlpOptions(), [&](const std::string &body, int64_t) {
        Status sent = sender.send(body);
        refused = !sent;
        return sent;
    });
    if (!stats && refused) {
        std::cerr << "tapedeck: " << stats.error().message << "\n";
        return kExitCannotWrite;
    }
    if (!stats)
        return reportError(stats.error());
    std::cerr << "tapedeck: " << url << ": sent " << withCommas(stats->spans) << " spans in "
              << withCommas(stats->traces) << " traces (" << withCommas(stats->batches)
              << (stats->batches == 1 ? " request)\n" : " requests)\n");
    return kExitOk;
}

int exportChromeTraceTo(const TapeReader &reader, const Options &o)
{
    Output out(o.chromeTrace);
    if (!out.opened()) {
        std::cerr << "tapedeck: " << out.name() << ": cannot write\n";
        return kExitCannotWrite;
    }
    ChromeTraceOptions options;
    options.selection = o.selection();
    auto stats = exportChromeTrace(reader, out.stream(), options);
    if (int code = out.finish(stats ? Status{} : Status{stats.error()}); code != kExitOk)
        return code;
    sayWritten(out, withCommas(stats->events) + " trace events");
    return kExitOk;
}

} // namespace

void addExportCommand(CLI::App &app)
{
    auto opts = std::make_shared<Options>();
    CLI::App *cmd = app.add_subcommand(
        "export", "Write a tape in an interchange format: JSONL (every run, branch, thread and "
                  "step, without loss), OpenTelemetry traces, Chrome trace events");
    cmd->footer(
        std::string("OpenTelemetry: OTLP/HTTP JSON (ExportTraceServiceRequest), a trace per run, "
                    "spans named and attributed as the GenAI semantic conventions ") +
        kOtelSemconvVersion + " say (schemaUrl " + kOtelSchemaUrl +
        "): invoke_agent per run and sub-agent, chat per model call, execute_tool per tool "
        "call. Message content, tool arguments and outputs are left out unless "
        "--otlp-content is given.\n"
        "Chrome trace events: open the file in ui.perfetto.dev or chrome://tracing.\n"
        "An output FILE of - is stdout. An endpoint that refuses the spans ends the export "
        "with exit 5.");
    cmd->add_option("FILE", opts->file, "the .tape file")->required();
    CLI::Option *jsonl =
        cmd->add_flag("--jsonl", opts->jsonl, "Tapedeck JSONL interchange (formats/FORMAT.md)");
    cmd->add_option("-o,--output", opts->output, "write the JSONL here instead of stdout")
        ->type_name("FILE")
        ->needs(jsonl);
    cmd->add_option("--otlp", opts->otlp, "write OpenTelemetry OTLP/JSON traces to FILE")
        ->type_name("FILE");
    CLI::Option *endpoint =
        cmd->add_option("--otlp-endpoint", opts->endpoint,
                        "POST the traces to an OTLP/HTTP collector (a URL without a path, "
                        "http://host:4318, gets /v1/traces)")
            ->type_name("URL");
    cmd->add_option("--otlp-header", opts->headers,
                    "an HTTP header for the endpoint (authorization); repeatable")
        ->type_name("\"NAME: VALUE\"")
        ->needs(endpoint);
    cmd->add_flag(
        "--otlp-content", opts->content,
        "also export prompts, answers, tool arguments and outputs (gen_ai.input.messages, ...)");
    cmd->add_option("--otlp-batch", opts->batchSpans, "spans per request to the endpoint")
        ->type_name("N")
        ->capture_default_str()
        ->needs(endpoint);
    cmd->add_option("--chrome-trace", opts->chromeTrace,
                    "write Chrome trace-event JSON (Perfetto) to FILE")
        ->type_name("FILE");
    CLI::Option *run =
        cmd->add_option("--run", opts->run, "only this run (OpenTelemetry, trace events)")
            ->type_name("N");
    CLI::Option *branch =
        cmd->add_option("--branch", opts->branch,
                        "only this branch, with the steps before its fork (OpenTelemetry, "
                        "trace events)")
            ->type_name("N");
    run->excludes(jsonl);
    branch->excludes(jsonl);
    cmd->callback([opts] {
        checkUsage(*opts);
        auto reader = TapeReader::open(opts->file);
        if (!reader) {
            commandExitCode() = reportError(reader.error());
            return;
        }
        int code = kExitOk;
        if (opts->jsonl)
            code = exportJsonlTo(**reader, *opts);
        if (code == kExitOk && !opts->otlp.empty())
            code = exportOtlpTo(**reader, *opts);
        if (code == kExitOk && !opts->endpoint.empty())
            code = exportOtlpToEndpoint(**reader, *opts);
        if (code == kExitOk && !opts->chromeTrace.empty())
            code = exportChromeTraceTo(**reader, *opts);
        commandExitCode() = code;
    });
}

} // namespace tapedeck::cli
