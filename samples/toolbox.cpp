#include "toolbox.h"

#include "labtools.h"
#include "textutil.h"

#include <algorithm>

namespace tapedeck::samples {

namespace {

constexpr std::string_view kKernelFile = "csrc/extend_attention.cu";
constexpr std::string_view kEdgeTests = "tests/test_extend_edge_cases.py";

// Edits the agent makes after a failed correctness check: plausible boundary fixes in the
// parts where such bugs live.
constexpr std::pair<std::string_view, std::string_view> kWrongResultFixes[] = {
    {"        const int tok = min(start + row, end - 1);",
     "        const int tok = max(min(start + row, end - 1), start);"},
    {"            if (start_n + j > q_row + (threadIdx.x & 15) || start_n + j >= extend_len)",
     "            if (start_n + j > q_row + ((threadIdx.x & 31) >> 1) || start_n + j >= extend_len)"},
    {"    const float inv_l = row.l > 0.f ? 1.f / row.l : 0.f;",
     "    const float inv_l = 1.f / fmaxf(row.l, 1e-20f);"},
    {"    const int chunk = (col >> 3) ^ (row & 7);", "    const int chunk = (col >> 3) ^ ((row >> 1) & 7);"},
    {"        const float a = exp2f(m - m_new), b = exp2f(part.m - m_new);",
     "        const float a = m == -INFINITY ? 0.f : exp2f(m - m_new);\n        const float b = exp2f(part.m - m_new);"},
    {"    if (tile_max > s.m + RESCALE_SLACK || s.m == -INFINITY) {",
     "    if (tile_max > s.m + 0.5f * RESCALE_SLACK || s.m == -INFINITY) {"},
};

constexpr std::pair<std::string_view, std::string_view> kTestEdits[] = {
    {"@pytest.mark.parametrize(\"extend\", [1, 7, 63, 65, 127, 129, 1000])",
     "@pytest.mark.parametrize(\"extend\", [1, 2, 7, 63, 65, 127, 129, 1000])"},
    {"def test_ragged_extend(extend):\n    out, ref = run_both(",
     "def test_ragged_extend(extend):\n    # rows of the final partial BLOCK_M block are where masking bugs show\n    out, ref = run_both("},
    {"        perm = torch.randperm(idx.numel(), generator=g)",
     "        perm = torch.randperm(idx.numel(), generator=g).to(idx.device)"},
};

constexpr std::string_view kGrepPatterns[] = {
    "BLOCK_N", "__syncthreads", "smem_offset", "kv_indices", "exp2f", "RowState", "NUM_STAGES",
    "load_kv_tile", "m_block", "sm_scale",
};

bool hasAction(const ToolRun *run, Action action)
{
    return run && run->action == action;
}

} // namespace

Toolbox::Toolbox(Random rng, Workspace &workspace)
    : m_rng(rng)
    , m_workspace(workspace)
{
}

ToolRun Toolbox::run(const PlannedTool &tool, const ToolContext &context)
{
    ToolRun run;
    run.action = tool.action;
    switch (tool.action) {
    case Action::ListDir: listDirectory(run); break;
    case Action::ReadTask: readFile(run, "TASK.md", corpus::taskFile()); break;
    case Action::ReadEvalScript: readFile(run, "eval/run_eval.py", corpus::evalScript()); break;
    case Action::ReadReference:
        readFile(run, "ref/extend_attention_triton.py", corpus::tritonReference());
        break;
    case Action::ReadKernel: readKernel(run); break;
    case Action::Grep: grep(run); break;
    case Action::Edit: edit(run, context); break;
    case Action::FixEdit: fixEdit(run, context); break;
    case Action::Compile: compile(run, tool.outcome, context); break;
    case Action::Eval: evaluate(run, tool.outcome, context, false); break;
    case Action::SweepEval: evaluate(run, tool.outcome, context, true); break;
    case Action::GitStatus:
    case Action::GitDiff:
    case Action::GitLog:
    case Action::GitCommit:
    case Action::GitRevert: git(run, tool.action); break;
    case Action::Todo: todo(run, context.progress); break;
    case Action::Spawn: spawn(run); break;
    case Action::Profile: profile(run, false); break;
    case Action::ProfileMetrics: profile(run, true); break;
    case Action::ReadTests: readFile(run, "tests/test_correctness.py", corpus::correctnessTests()); break;
    case Action::WriteTest: writeTests(run); break;
    case Action::EditTest: editTests(run); break;
    case Action::RunTests: runTests(run, tool.outcome); break;
    }
    run.idea = run.idea ? run.idea : m_idea;
    return run;
}

void Toolbox::shellResult(ToolRun &run, std::string command, std::string_view description,
                          std::string_view stdoutText, int exitCode)
{
    run.name = "run_shell_command";
    run.arguments = {{"command", command}, {"description", description}};
    run.failed = exitCode != 0;
    std::string &out = run.output;
    out.reserve(stdoutText.size() + 200);
    out.append("Command: ");
    out.append(command);
    out.append("\nDirectory: (root)\nStdout: ");
    out.append(stdoutText.empty() ? std::string_view("(empty)") : stdoutText);
    out.append("\nStderr: (empty)\nError: (none)\nExit Code: ");
    out.append(std::to_string(exitCode));
    out.append("\nSignal: (none)\nBackground PIDs: (none)\nProcess Group PGID: ");
    out.append(std::to_string(m_rng.between(3000, 99000)));
}

void Toolbox::replaceResult(ToolRun &run, std::string_view relative, std::string_view oldText,
                            std::string_view newText, int replacements)
{
    run.name = "replace";
    const std::string path = Workspace::path(relative);
    run.arguments = {{"file_path", path}, {"old_string", oldText}, {"new_string", newText}};
    if (replacements > 1)
        run.arguments["expected_replacements"] = replacements;
    run.output = "Successfully modified file: " + path + " (" + std::to_string(replacements) +
                 " replacements).";
    run.durationUs = seconds(0.01, 0.06);
}

void Toolbox::listDirectory(ToolRun &run)
{
    run.name = "list_directory";
    run.arguments = {{"path", corpus::workspaceRoot()}};
    run.output = corpus::directoryListing();
    run.durationUs = seconds(0.02, 0.08);
}

void Toolbox::readFile(ToolRun &run, std::string_view relative, std::string_view content)
{
    run.name = "read_file";
    run.arguments = {{"absolute_path", Workspace::path(relative)}};
    run.output = content;
    run.durationUs = seconds(0.004, 0.03);
}

void Toolbox::readKernel(ToolRun &run)
{
    std::string file;
    m_workspace.kernel().render(file);
    run.name = "read_file";
    run.arguments = {{"absolute_path", Workspace::path(kKernelFile)}};
    run.durationUs = seconds(0.004, 0.03);
    if (m_rng.chance(0.6)) {
        run.output = std::move(file);
        return;
    }
    // A window around one part, with the truncation notice read_file adds.
    const int part = int(m_rng.between(1, int64_t(corpus::kernelParts().size()) - 2));
    const int first = m_workspace.kernel().firstLineOf(part);
    const int total = m_workspace.kernel().lineCount();
    const int limit = std::min(80, total - first + 1);
    run.arguments["offset"] = first - 1;
    run.arguments["limit"] = limit;
    size_t begin = 0;
    for (int line = 1; line < first; ++line)
        begin = file.find('\n', begin) + 1;
    size_t end = begin;
    for (int i = 0; i < limit && end < file.size(); ++i)
        end = file.find('\n', end) + 1;
    run.output = "[File content truncated: showing lines " + std::to_string(first) + "-" +
                 std::to_string(first + limit - 1) + " of " + std::to_string(total) +
                 " total lines. Use offset/limit parameters to view more.]\n";
    run.output.append(file, begin, end - begin);
}

void Toolbox::grep(ToolRun &run)
{
    const std::string_view pattern = m_rng.pick(kGrepPatterns);
    run.name = "search_file_content";
    run.arguments = {{"pattern", pattern}, {"path", Workspace::path("csrc")}};
    run.durationUs = seconds(0.03, 0.3);
    std::string file;
    m_workspace.kernel().render(file);
    std::string lines;
    int matches = 0;
    int lineNo = 1;
    size_t from = 0;
    while (from < file.size()) {
        const size_t end = file.find('\n', from);
        const std::string_view line(file.data() + from, end - from);
        if (line.find(pattern) != std::string_view::npos) {
            lines += "L" + std::to_string(lineNo) + ": " + std::string(line) + "\n";
            ++matches;
        }
        from = end + 1;
        ++lineNo;
    }
    run.output = "Found " + std::to_string(matches) + (matches == 1 ? " match" : " matches") +
                 " for pattern \"" + std::string(pattern) + "\" in path \"" + Workspace::path("csrc") +
                 "\":\n---\nFile: extend_attention.cu\n" + lines + "---";
}

void Toolbox::knobEdit(ToolRun &run, size_t knob, int value)
{
    KernelSource &kernel = m_workspace.kernel();
    const int before = kernel.knob(knob);
    const KernelSource::Edit e = kernel.setKnob(knob, value);
    replaceResult(run, kKernelFile, e.oldText, e.newText, e.occurrences);
    const corpus::Knob &k = corpus::knobs()[knob];
    run.change = std::string(k.label) + " " + std::to_string(before) + " -> " + std::to_string(value);
    m_lastChange = run.change;
    m_workspace.touchKernel();
}

void Toolbox::edit(ToolRun &run, const ToolContext &context)
{
    KernelSource &kernel = m_workspace.kernel();
    const std::vector<size_t> visible = kernel.visibleKnobs();
    const auto tweak = [&] {
        const size_t knob = m_rng.pick(visible);
        const auto values = corpus::knobs()[knob].values;
        int value = kernel.knob(knob);
        while (value == kernel.knob(knob))
            value = m_rng.pick(values);
        knobEdit(run, knob, value);
    };
    if (hasAction(context.previous, Action::SweepEval)) {
        // Make the sweep's best point the default, one knob per edit.
        static constexpr std::string_view kSwept[] = {"block_m", "block_n", "num_warps", "num_stages"};
        for (size_t i = 0; i < std::size(kSwept); ++i) {
            const size_t knob = KernelSource::knobIndex(kSwept[i]);
            if (kernel.knob(knob) != m_sweepConfig[i]) {
                knobEdit(run, knob, m_sweepConfig[i]);
                run.fromSweep = true;
                return;
            }
        }
        tweak();
        return;
    }
    // Ideas come one after another over the run (the next only once the run is far enough
    // along), so that the last hours still bring new ones rather than only retuning.
    std::vector<const corpus::Idea *> open;
    const auto all = corpus::ideas();
    for (const corpus::Idea *idea : kernel.applicableIdeas())
        if (double(idea - all.data()) < 1 + context.progress * 1.15 * double(all.size()))
            open.push_back(idea);
    const bool newIdea = context.loopAttempt < 2 && !hasAction(context.previous, Action::Edit) &&
                         !open.empty() && m_rng.chance(0.45);
    if (!newIdea) {
        tweak();
        return;
    }
    m_idea = m_rng.pick(open);
    const KernelSource::Edit e = kernel.apply(*m_idea);
    replaceResult(run, kKernelFile, e.oldText, e.newText, 1);
    run.idea = m_idea;
    run.change = std::string(m_idea->name);
    m_lastChange = run.change;
    m_workspace.touchKernel();
}

void Toolbox::fixEdit(ToolRun &run, const ToolContext &context)
{
    if (context.previous && context.previous->compileError && context.previous->error) {
        const corpus::CompileError &error = *context.previous->error;
        replaceResult(run, error.fixFile, error.fixOld, error.fixNew, 1);
        run.error = &error;
        if (error.fixFile == kKernelFile)
            m_workspace.touchKernel();
        else
            m_workspace.touchHeader();
        return;
    }
    const auto &fix = m_rng.pick(kWrongResultFixes);
    replaceResult(run, kKernelFile, fix.first, fix.second, 1);
    m_workspace.touchKernel();
}

const corpus::CompileError &Toolbox::chooseError()
{
    // Prefer an error in the part the current idea touched; the build breaks where one edits.
    std::vector<const corpus::CompileError *> candidates;
    for (const corpus::CompileError &e : corpus::compileErrors())
        if (m_idea && e.part == m_idea->part)
            candidates.push_back(&e);
    if (candidates.empty() || m_rng.chance(0.3))
        return m_rng.pick(corpus::compileErrors());
    return *m_rng.pick(candidates);
}

void Toolbox::appendBuildLines(std::string &out)
{
    const std::string root(corpus::workspaceRoot());
    out.append("running build_ext\nbuilding 'extend_attn_ppu' extension\n");
    out.append("[1/2] /usr/local/ppu/bin/nvcc --generate-dependencies-with-compile --dependency-output " + root +
               "/build/temp.linux-x86_64-cpython-310/csrc/extend_attention.o.d -I/opt/conda/lib/python3.10/"
               "site-packages/torch/include -I/usr/local/ppu/include -c -c " + root +
               "/csrc/extend_attention.cu -o " + root +
               "/build/temp.linux-x86_64-cpython-310/csrc/extend_attention.o -D__CUDA_NO_HALF_OPERATORS__ "
               "-D__CUDA_NO_HALF_CONVERSIONS__ -D__CUDA_NO_HALF2_OPERATORS__ --expt-relaxed-constexpr "
               "-O3 -std=c++17 --use_fast_math -arch=ppu_zw890 -lineinfo -DTORCH_EXTENSION_NAME=extend_attn_ppu\n");
}

void Toolbox::compile(ToolRun &run, Outcome outcome, const ToolContext &context)
{
    std::string out;
    appendBuildLines(out);
    int exitCode = 0;
    if (outcome == Outcome::CompileError) {
        const bool same = context.loopAttempt >= 2 && m_lastError;
        const corpus::CompileError &error = same ? *m_lastError : chooseError();
        m_lastError = &error;
        out.append("FAILED: " + std::string(corpus::workspaceRoot()) +
                   "/build/temp.linux-x86_64-cpython-310/csrc/extend_attention.o\n");
        const int line = m_workspace.kernel().firstLineOf(KernelSource::partIndex(error.part)) +
                         int(m_rng.between(4, 14));
        const std::string lineText = std::to_string(line);
        const std::string col = std::to_string(m_rng.between(5, 24));
        appendFilled(out, error.message, {{"line", lineText}, {"col", col}});
        out.append(corpus::buildTraceback());
        run.compileError = true;
        run.error = &error;
        exitCode = 1;
        run.durationUs = seconds(4, 30);
    } else {
        out.append("[2/2] c++ -MMD -MF " + std::string(corpus::workspaceRoot()) +
                   "/build/temp.linux-x86_64-cpython-310/csrc/binding.o.d -pthread -B /opt/conda/compiler_compat "
                   "-fPIC -O3 -std=c++17 -c csrc/binding.cpp -o build/temp.linux-x86_64-cpython-310/csrc/binding.o\n");
        out.append("g++ -pthread -B /opt/conda/compiler_compat -shared build/temp.linux-x86_64-cpython-310/csrc/"
                   "binding.o build/temp.linux-x86_64-cpython-310/csrc/extend_attention.o -L/usr/local/ppu/lib64 "
                   "-lcudart -o build/lib.linux-x86_64-cpython-310/extend_attn_ppu.cpython-310-x86_64-linux-gnu.so\n"
                   "copying build/lib.linux-x86_64-cpython-310/extend_attn_ppu.cpython-310-x86_64-linux-gnu.so -> \n");
        m_workspace.built();
        run.durationUs = m_rng.chance(0.3) ? seconds(25, 60) : seconds(5, 24);
    }
    shellResult(run,
                "cd " + std::string(corpus::workspaceRoot()) +
                    " && python setup.py build_ext --inplace 2>&1 | tail -n 60; exit ${PIPESTATUS[0]}",
                "Build the extension", out, exitCode);
}

void Toolbox::evaluate(ToolRun &run, Outcome outcome, const ToolContext &context, bool sweep)
{
    run.evaluation = true;
    std::string command = "python eval/run_eval.py";
    if (sweep) {
        static constexpr int kBlockM[] = {64, 128, 128, 256};
        static constexpr int kBlockN[] = {32, 64, 64, 128};
        static constexpr int kWarps[] = {4, 4, 8, 8};
        static constexpr int kStages[] = {2, 3, 3, 4};
        int config[4];
        do {
            config[0] = m_rng.pick(kBlockM);
            config[1] = m_rng.pick(kBlockN);
            config[2] = m_rng.pick(kWarps);
            config[3] = m_rng.pick(kStages);
        } while (config[0] % (16 * config[2]) != 0);
        run.config = "BLOCK_M=" + std::to_string(config[0]) + " BLOCK_N=" + std::to_string(config[1]) +
                     " NUM_WARPS=" + std::to_string(config[2]) + " NUM_STAGES=" + std::to_string(config[3]);
        command += " --block-m " + std::to_string(config[0]) + " --block-n " + std::to_string(config[1]) +
                   " --num-warps " + std::to_string(config[2]) + " --num-stages " + std::to_string(config[3]);
        if (outcome == Outcome::NewBest)
            std::copy(std::begin(config), std::end(config), std::begin(m_sweepConfig));
    }
    std::string out;
    int64_t duration = 0;
    if (m_workspace.needsBuild() || outcome == Outcome::CompileError) {
        const double buildSeconds = m_rng.real(9, 45);
        duration += int64_t(buildSeconds * 1e6);
        if (outcome == Outcome::CompileError) {
            // A sweep point whose tiles do not fit in shared memory.
            appendBuildLines(out);
            appendFilled(out, corpus::sharedMemoryError(),
                         {{"bytes", "0x" + std::to_string(m_rng.between(31, 48)) + "000"}, {"limit", "0x30000"}});
            out.append("[build] FAILED after " + fixed(buildSeconds, 1) + " s\n");
            run.compileError = true;
            run.durationUs = duration;
            shellResult(run, command, sweep ? "Evaluate a tile configuration" : "Build, check and benchmark",
                        out, 2);
            return;
        }
        out.append("[build] extend_attn_ppu: rebuilt (" + fixed(buildSeconds, 1) + " s)\n");
        m_workspace.built();
    } else {
        out.append("[build] extend_attn_ppu: up to date (" + fixed(m_rng.real(0.7, 1.4), 1) + " s)\n");
        duration += seconds(0.7, 1.4);
    }
    out.append("[check] 16 workloads vs reference (fp16, atol 0.02, rtol 0.01)\n");
    duration += seconds(6, 20);
    if (outcome == Outcome::WrongResult) {
        const int bad = int(m_rng.between(1, 7));
        out.append("[check] MISMATCH on " + std::to_string(bad) + "/16 workloads:\n");
        size_t workload = size_t(m_rng.between(0, 15));
        for (int i = 0; i < bad; ++i) {
            workload = (workload + size_t(m_rng.between(1, 5))) % 16;
            const Workload &w = Benchmark::workloads()[workload];
            out.append("  wl ");
            appendPadded(out, std::to_string(workload), 2);
            out.append(" (" + Benchmark::describe(workload).substr(Benchmark::describe(workload).find('(') + 1));
            const std::string error = fixed(m_rng.real(0.05, 4.0), 2);
            const std::string token = std::to_string(m_rng.between(0, w.batch * w.extend - 1));
            const std::string head = std::to_string(m_rng.between(0, w.qHeads - 1));
            const std::string column = std::to_string(m_rng.between(0, 127));
            const std::string share = fixed(m_rng.real(0.1, 40), 1);
            out.append(": max abs err " + error + " at [" + token + ", " + head + ", " + column + "], " + share +
                       "% elements off\n");
            if (i == 0)
                run.change = Benchmark::describe(workload);
        }
        out.append("[check] FAILED: refusing to benchmark an incorrect kernel\n");
        run.durationUs = duration;
        shellResult(run, command, "Build, check and benchmark", out, 1);
        return;
    }
    Benchmark &bench = m_workspace.benchmark();
    run.previousBest = bench.best();
    const Benchmark::Kind kind = !m_measuredOnce                ? Benchmark::Kind::Baseline
                                 : outcome == Outcome::NewBest    ? Benchmark::Kind::NewBest
                                 : outcome == Outcome::Regression ? Benchmark::Kind::Regression
                                                                  : Benchmark::Kind::Plateau;
    m_measuredOnce = true;
    run.measurement = bench.measure(kind, context.progress);
    run.measured = true;
    out.append("[check] all 16 workloads match (max abs err " + fixed(m_rng.real(1.5, 9.8), 1) + "e-03)\n");
    out.append("[bench] warmup 10, iters 50, device ZW-M890 #0\n\n");
    Benchmark::appendTable(out, run.measurement);
    duration += seconds(16 * 1.6, 16 * 15.0);
    run.durationUs = duration;
    shellResult(run, command, sweep ? "Evaluate a tile configuration" : "Build, check and benchmark", out, 0);
}

void Toolbox::git(ToolRun &run, Action action)
{
    std::string out;
    run.durationUs = seconds(0.01, 0.2);
    switch (action) {
    case Action::GitStatus:
        m_workspace.appendStatus(out);
        shellResult(run, "git status", "Show the working tree status", out, 0);
        break;
    case Action::GitDiff:
        m_workspace.appendDiff(out);
        shellResult(run, "git diff", "Show uncommitted changes", out, 0);
        break;
    case Action::GitLog:
        m_workspace.appendLog(out, 15);
        shellResult(run, "git log --oneline -n 15", "Show recent commits", out, 0);
        break;
    case Action::GitCommit: {
        const std::string message = "extend-attn: " + (m_lastChange.empty() ? std::string("tuning") : m_lastChange) +
                                    ", " + fixed(m_workspace.benchmark().best(), 2) + "x geomean";
        out = m_workspace.commit(message);
        shellResult(run, "git add -A && git commit -q -m \"" + message + "\" && git log --stat --oneline -1 | tail -n 2",
                    "Commit the new best", out, 0);
        break;
    }
    case Action::GitRevert:
        m_workspace.revert();
        shellResult(run, "git checkout -- csrc/ && git status --short", "Revert the kernel to the last commit",
                    "", 0);
        break;
    default:
        break;
    }
}

void Toolbox::todo(ToolRun &run, double progress)
{
    run.name = "todo_write";
    nlohmann::json todos = nlohmann::json::array();
    int id = 1;
    const auto add = [&](std::string_view content, std::string_view status) {
        todos.push_back({{"id", std::to_string(id++)}, {"content", content}, {"status", status}});
    };
    add("Read task, kernel, reference and evaluation script", "completed");
    add("Measure the baseline with eval/run_eval.py", progress > 0 ? "completed" : "in_progress");
    const KernelSource &committed = m_workspace.committed();
    for (const corpus::Idea &idea : corpus::ideas()) {
        const bool done = committed.variant(KernelSource::partIndex(idea.part)) >= idea.variant;
        add("Try " + std::string(idea.name), done ? "completed" : &idea == m_idea ? "in_progress" : "pending");
    }
    add("Sweep tile configuration (BLOCK_M/BLOCK_N/warps/stages)", progress > 0.5 ? "in_progress" : "pending");
    add("Keep NOTES.md current with measurements", "in_progress");
    run.arguments = {{"todos", std::move(todos)}};
    run.output = "Todos have been modified successfully. Ensure that you continue to use the todo list to track "
                 "your progress. Please proceed with the current tasks if applicable";
    run.durationUs = seconds(0.002, 0.01);
}

void Toolbox::spawn(ToolRun &run)
{
    const bool profiler = m_subagentsSpawned++ % 2 == 0;
    run.name = "task";
    run.arguments = {
        {"description", profiler ? "Profile extend attention kernel" : "Write edge-case correctness tests"},
        {"prompt", profiler ? corpus::profilerTaskPrompt() : corpus::testWriterTaskPrompt()},
        {"subagent_type", profiler ? "profiler" : "test-writer"},
    };
    // The output is the sub-agent's report and the duration its run; both come later.
}

void Toolbox::profile(ToolRun &run, bool sourceLevel)
{
    static constexpr size_t kWorkloads[] = {2, 9, 13, 8, 5};
    const size_t workload = m_rng.pick(kWorkloads);
    std::string out;
    if (sourceLevel)
        appendSourceCounters(out, m_workspace, m_rng);
    else
        appendProfile(out, m_workspace, workload, m_rng);
    const std::string sections = sourceLevel ? "--section SourceCounters --import-source yes"
                                             : "--section SpeedOfLight --section Occupancy --section WarpStateStats";
    shellResult(run,
                "ppu-prof --kernel-name regex:extend_attention_fwd --launch-count 1 " + sections +
                    " python eval/run_eval.py --workload " + std::to_string(workload) + " --iters 3",
                sourceLevel ? "Source-level stall attribution" : "Profile one workload", out, 0);
    run.durationUs = seconds(40, 180);
}

void Toolbox::writeTests(ToolRun &run)
{
    run.name = "write_file";
    std::string content(corpus::edgeCaseTests());
    if (m_testWrites > 0)
        content += corpus::edgeCaseTestsAddition();
    run.arguments = {{"file_path", Workspace::path(kEdgeTests)}, {"content", std::move(content)}};
    run.output = (m_testWrites++ == 0 ? "Successfully created and wrote to new file: "
                                      : "Successfully overwrote file: ") +
                 Workspace::path(kEdgeTests) + ".";
    m_workspace.writeTests();
    run.durationUs = seconds(0.005, 0.02);
}

void Toolbox::editTests(ToolRun &run)
{
    const auto &e = m_rng.pick(kTestEdits);
    replaceResult(run, kEdgeTests, e.first, e.second, 1);
}

void Toolbox::runTests(ToolRun &run, Outcome outcome)
{
    const int total = m_testWrites > 1 ? 29 : 18;
    run.failingTests = outcome == Outcome::TestsFail ? int(m_rng.between(2, 4)) : 0;
    std::string out;
    appendPytest(out, run.failingTests, total, m_rng);
    shellResult(run, "python -m pytest " + std::string(kEdgeTests) + " -q", "Run the edge-case tests", out,
                run.failingTests > 0 ? 1 : 0);
    run.durationUs = seconds(20, 120);
}

} // namespace tapedeck::samples
