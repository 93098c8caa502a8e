#!/usr/bin/env bash
# Sets up Tapedeck on this machine and runs the demo: writes the 35-hour sample session to
# a tape and prints its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh release
exec build/release/cli/tapedeck demo "$@"
