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
shot gui-findings --view findings --size 1500x950

# A real fork: the reference agent's kernel-tuning run recorded against the scripted model,
# forked at its first benchmark's output (edited to a failure) and continued live.
model="$build/agent/model/tapedeck-model"
agent="$build/agent/harness/tapedeck-agent"
forked="$(dirname "$tape")/forked.tape"
task="Make kernel_matmul in kernel.c faster while it stays correct; see TASK.md. You have a budget of 4 benchmark evaluations."
cp -r samples/kernel-tuning "$(dirname "$tape")/recorded-work"
cp -r samples/kernel-tuning "$(dirname "$tape")/forked-work"
"$model" --policy kernel-tuner --seed 3 --quiet > "$(dirname "$tape")/model.out" &
model_pid=$!
trap 'kill $model_pid 2>/dev/null; rm -rf "$(dirname "$tape")"' EXIT
until grep -q "listening on" "$(dirname "$tape")/model.out"; do sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$(dirname "$tape")/model.out")"
"$tapedeck" record -q -o "$forked" --upstream "$url" -- \
  "$agent" --api openai --model kernel-tuner --workdir "$(dirname "$tape")/recorded-work" --max-steps 200 "$task" >/dev/null
"$tapedeck" fork "$forked" --at 24 --edit-tool-result "make: *** [bench] Error 1: wrong result at C[3][7]" \
  --scripted kernel-tuner --seed 3 --tool-drift allow -q -- \
  "$agent" --api openai --model kernel-tuner --workdir "$(dirname "$tape")/forked-work" --max-steps 200 "$task" >/dev/null
"$gui" --screenshot docs/gui-branches.png --view branches "$forked"
"$gui" --screenshot docs/gui-diff.png --view diff "$forked"
# A real trajectory another agent wrote, opened as it is (imported on the way in).
real="../shared/data/real"
if [ -d "$real" ]; then
  "$gui" --screenshot docs/gui-imported-claude-code.png --select 8 \
    "$real/claude-code/python-to-rust-port.transcript.jsonl"
  "$gui" --screenshot docs/gui-imported-mini-swe-agent.png --select 5 \
    "$real/mini-swe-agent/django__django-13265.deepseek-chat.traj.json"
fi
