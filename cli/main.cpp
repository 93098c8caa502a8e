// tapedeck: the command-line face of the libraries. Each subcommand lives in its own file.
#include "commands.h"
#include "exitcodes.h"

#include <iostream>

using namespace tapedeck::cli;

int main(int argc, char **argv)
{
    CLI::App app{"Tapedeck: a flight recorder and time-travel debugger for LLM agents.\n"
                 "A .tape file holds every model call, stream and tool result of an agent run.",
                 "tapedeck"};
    app.set_version_flag("--version", std::string("tapedeck ") + TAPEDECK_VERSION);
    app.require_subcommand(1);
    app.footer("Exit codes: 0 ok; 1 check failed (verify found problems, search found nothing);\n"
               "2 bad command line; 3 input missing, unreadable, not a tape or too new;\n"
               "4 tape or input damaged or malformed; 5 output could not be written.\n"
               "Run 'tapedeck COMMAND --help' for the options of one command.");
    addRecordCommand(app);
    addProxyCommand(app);
    addMcpCommand(app);
    addReplayCommand(app);
    addForkCommand(app);
    addViewCommand(app);
    addDiffCommand(app);
    addAnalyzeCommand(app);
    addInfoCommand(app);
    addDumpCommand(app);
    addSearchCommand(app);
    addVerifyCommand(app);
    addExportCommand(app);
    addImportCommand(app);
    addSampleCommand(app);
    addDemoCommand(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        app.exit(e);
        return kExitUsage;
    }
    return commandExitCode();
}
