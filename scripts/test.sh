#!/usr/bin/env bash
# Sets up Tapedeck on this machine and runs every test: the ctest suites, then each fuzz
# target for a short while (FUZZ_SECONDS each, default 10; 0 skips fuzzing). The npm
# packages of tests/npm/ are installed first, at the versions its lock file names.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
# The npm clients the tests run against the scripted model server, at the locked versions.
npm ci --prefix tests/npm --no-audit --no-fund --loglevel=error >/dev/null
ctest --preset dev -j2
if [ "${FUZZ_SECONDS:-10}" != 0 ] && [ -x tests/fuzz/run.sh ]; then
  FUZZ_SECONDS="${FUZZ_SECONDS:-10}" tests/fuzz/run.sh
fi
