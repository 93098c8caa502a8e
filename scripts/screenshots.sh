#!/usr/bin/env bash
# Regenerates the README's pictures of the desktop app (docs/*.png) from the 35-hour sample
# session, offscreen: no display needed.
#   scripts/screenshots.sh [BUILD_DIR]        (default: build/dev)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/dev}"
tapedeck="$build/cli/tapedeck"
gui="$build/gui/tapedeck-gui"
for program in "$tapedeck" "$gui"; do
  [ -x "$program" ] || { echo "screenshots: $program is not built (cmake --build --preset dev)" >&2; exit 3; }
done
tape="$(mktemp -d)/kernel-session.tape"
trap 'rm -rf "$(dirname "$tape")"' EXIT
"$tapedeck" sample kernel-session -o "$tape" >/dev/null
mkdir -p docs
shot() { local name="$1"; shift; "$gui" --screenshot "docs/$name.png" "$@" "$tape"; }
shot gui-overview --select 1820
shot gui-new-in-request --select 1820 --view new
shot gui-wire --select 1820 --view wire
shot gui-search --view search --search "geomean"
shot gui-runs --view navigator
# A real trajectory another agent wrote, opened as it is (imported on the way in).
real="../shared/data/real"
if [ -d "$real" ]; then
  "$gui" --screenshot docs/gui-imported-claude-code.png --select 8 \
    "$real/claude-code/python-to-rust-port.transcript.jsonl"
  "$gui" --screenshot docs/gui-imported-mini-swe-agent.png --select 5 \
    "$real/mini-swe-agent/django__django-13265.deepseek-chat.traj.json"
fi
