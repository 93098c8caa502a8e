#!/usr/bin/env bash
# Sets up Tapedeck on this machine and runs every test: the ctest suites, then each fuzz
# target for a short while (FUZZ_SECONDS each, default 20; 0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
ctest --preset dev -j2
if [ "${FUZZ_SECONDS:-20}" != 0 ] && [ -x tests/fuzz/run.sh ]; then
  FUZZ_SECONDS="${FUZZ_SECONDS:-20}" tests/fuzz/run.sh
fi
