#!/usr/bin/env bash
# Sets up Tapedeck on this machine and runs the demo: the reference agent tunes a real C
# kernel for about a minute against the scripted model server, and the run is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh release
exec build/release/cli/tapedeck demo "$@"
