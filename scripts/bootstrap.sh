#!/usr/bin/env bash
# Installs the Debian packages Tapedeck builds with (only those missing), then configures
# and builds one CMake preset. Safe to run again: quiet when everything is in place.
#   scripts/bootstrap.sh [dev|release|asan]     (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"

packages=(
  build-essential cmake ninja-build pkg-config git
  libsqlite3-dev nlohmann-json3-dev libzstd-dev libcli11-dev libxxhash-dev libdtl-dev
  libcpp-httplib-dev libcurl4-openssl-dev zlib1g-dev libbrotli-dev libzip-dev
  qt6-base-dev
  # the desktop app renders text with fontconfig's fonts, also offscreen (screenshots, tests)
  fonts-dejavu-core
  # used by the tests and benchmarks: the compressors the tape is compared against, clang
  # with libFuzzer for the fuzz targets, and curl as the simplest agent a fork test runs
  zstd gzip clang libclang-rt-14-dev sqlite3 jq curl
  # validates the OTLP export against its JSON schema (tests/formats/otlp-trace.schema.json)
  python3-jsonschema
)
# The tests drive the model server with the official npm clients and Claude Code; they need
# Node.js and npm. A machine that has its own Node.js keeps it.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: need root to install packages (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Configure once; later runs only build what changed.
[ -f "build/$preset/CMakeCache.txt" ] || cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
