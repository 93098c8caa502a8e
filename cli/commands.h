// Each subcommand of `tapedeck` registers itself on the CLI11 app; its callback sets the
// process exit code. One file per command.
#pragma once

#include <CLI/CLI.hpp>

namespace tapedeck::cli {

// The exit code of the command that ran; commands store theirs here.
int &commandExitCode();

void addInfoCommand(CLI::App &app);
void addDumpCommand(CLI::App &app);
void addSearchCommand(CLI::App &app);
void addVerifyCommand(CLI::App &app);
void addExportCommand(CLI::App &app);
void addImportCommand(CLI::App &app);
void addSampleCommand(CLI::App &app);
void addDemoCommand(CLI::App &app);
void addRecordCommand(CLI::App &app);
void addProxyCommand(CLI::App &app);
void addMcpCommand(CLI::App &app);
void addReplayCommand(CLI::App &app);
void addForkCommand(CLI::App &app);
void addViewCommand(CLI::App &app);
void addDiffCommand(CLI::App &app);
void addAnalyzeCommand(CLI::App &app);

} // namespace tapedeck::cli
