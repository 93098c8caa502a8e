#!/usr/bin/env bash
# Builds the libFuzzer targets with the `fuzz` preset (clang, build/fuzz) and runs each for
# FUZZ_SECONDS seconds (default 30) from a small seed corpus written here. Exits non-zero
# when a target crashes, leaks, trips a sanitizer, times out or runs out of memory; the
# input that did it is left in build/fuzz/artifacts/.
#
#   tests/fuzz/run.sh                 # 30 s per target
#   FUZZ_SECONDS=600 tests/fuzz/run.sh
#   tests/fuzz/run.sh fuzz_blob_decode   # only the named targets
#
# Replay a crash: build/fuzz/tests/fuzz/<target> build/fuzz/artifacts/<target>-crash-...
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-30}"
build="$root/build/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(fuzz_jsonl_import fuzz_blob_decode fuzz_wire fuzz_replay_matching
             fuzz_import_claude_code fuzz_import_codex fuzz_import_swe_agent
             fuzz_import_mini_swe_agent fuzz_import_openhands fuzz_import_inspect
             fuzz_import_openai_messages)
fi

# The top-level CMakeLists enters tests/ only when TAPEDECK_BUILD_TESTS is on; in a fuzz
# build tests/CMakeLists.txt then adds the fuzz targets and nothing else.
cmake --preset fuzz -DTAPEDECK_BUILD_TESTS=ON >/dev/null
cmake --build --preset fuzz --target "${targets[@]}"

work="$build/fuzzing"
artifacts="$build/artifacts"
mkdir -p "$artifacts"

# Seeds for fuzz_jsonl_import: a complete small export (header, run, branches, threads,
# steps with wire bytes, base64 and chunks, a fork), and pieces of one.
seeds_jsonl="$work/seeds/fuzz_jsonl_import"
rm -rf "$seeds_jsonl" && mkdir -p "$seeds_jsonl"
header='{"format":"tapedeck-jsonl","tape_format_version":1,"type":"tape","version":1}'
run='{"agent":"claude-code","command":["claude","-p","fix it"],"cwd":"/w","ended_us":0,"id":1,"labels":{"k":"v"},"name":"r","outcome":"","started_us":1,"type":"run"}'
branch='{"created_us":1,"description":"recorded","fork_step":null,"id":1,"parent":null,"run":1,"type":"branch"}'
thread='{"branch":1,"id":1,"label":"main","parent":null,"started_us":1,"type":"thread"}'
sub='{"branch":1,"id":2,"label":"subagent","parent":1,"started_us":2,"type":"thread"}'
step1='{"branch":1,"call_id":"","cost_usd":0.01,"ended_us":9,"first_token_us":5,"index":1,"kind":"model_call","name":"claude","parent":null,"payload":{"content":"hi","role":"assistant"},"request_messages":[{"content":"hello","role":"user"}],"request_params":{"max_tokens":5},"run":1,"seq":0,"started_us":3,"status":"ok","thread":1,"type":"step","usage":{"cache_read_tokens":0,"cache_write_tokens":0,"input_tokens":10,"output_tokens":2},"wire":{"chunks":[[3,6],[2,7]],"method":"POST","request_body":"{\"m\":1}","request_headers":{"a":"b"},"response_body_base64":"/+7dzLs=","response_headers":{},"status":200,"url":"/v1/messages"}}'
step2='{"branch":1,"call_id":"t1","cost_usd":null,"ended_us":0,"first_token_us":0,"index":2,"kind":"tool_call","name":"bash","parent":1,"payload":{"cmd":"make"},"request_messages":[],"request_params":null,"run":1,"seq":1,"started_us":10,"status":"ok","thread":1,"type":"step","usage":{"cache_read_tokens":0,"cache_write_tokens":0,"input_tokens":0,"output_tokens":0},"wire":null}'
step3='{"branch":1,"call_id":"t1","cost_usd":null,"ended_us":12,"first_token_us":0,"index":3,"kind":"tool_result","name":"bash","parent":2,"payload":{"is_error":true,"output":"error: x"},"request_messages":[],"request_params":null,"run":1,"seq":0,"started_us":11,"status":"error","thread":2,"type":"step","usage":{"cache_read_tokens":0,"cache_write_tokens":0,"input_tokens":0,"output_tokens":0},"wire":null}'
fork='{"created_us":20,"description":"edit","fork_step":2,"id":2,"parent":1,"run":1,"type":"branch"}'
fthread='{"branch":2,"id":3,"label":"main","parent":null,"started_us":20,"type":"thread"}'
step4='{"branch":2,"call_id":"","cost_usd":null,"ended_us":0,"first_token_us":0,"index":4,"kind":"fork_point","name":"","parent":2,"payload":{"edit":"x"},"request_messages":[],"request_params":null,"run":1,"seq":0,"started_us":21,"status":"ok","thread":3,"type":"step","usage":{"cache_read_tokens":0,"cache_write_tokens":0,"input_tokens":0,"output_tokens":0},"wire":null}'
printf '%s\n' "$header" "$run" "$branch" "$thread" "$sub" "$step1" "$step2" "$step3" "$fork" "$fthread" "$step4" \
    > "$seeds_jsonl/full.jsonl"
printf '%s\n' "$header" "$run" "$branch" "$thread" "$step1" > "$seeds_jsonl/one-step.jsonl"
printf '%s\n' "$header" > "$seeds_jsonl/header.jsonl"
printf '%s\r\n' "$header" "$run" "$branch" "$thread" "$step2" > "$seeds_jsonl/crlf.jsonl"

dict_jsonl="$work/jsonl.dict"
{
    for token in type tape format tapedeck-jsonl version run branch thread step id name agent \
                 command cwd labels started_us ended_us outcome parent fork_step description \
                 created_us label index seq kind status call_id first_token_us usage input_tokens \
                 output_tokens cache_read_tokens cache_write_tokens cost_usd request_messages \
                 request_params payload wire method url request_headers response_headers \
                 request_body response_body request_body_base64 response_body_base64 chunks \
                 model_call tool_call tool_result mcp_call http_exchange compaction error \
                 annotation fork_point ok cancelled null true false; do
        printf '"\\"%s\\""\n' "$token"
    done
} > "$dict_jsonl"

# Seeds for fuzz_blob_decode (see the layout in fuzz_blob_decode.cpp): damage each kind of
# blob in each way once.
seeds_blob="$work/seeds/fuzz_blob_decode"
rm -rf "$seeds_blob" && mkdir -p "$seeds_blob"
i=0
for pick in '\x00' '\x06' '\x0e' '\x15' '\x20' '\x2b' '\x41' '\x03' '\x09'; do
    printf "${pick}"'\x00zstd?\x28\xb5\x2f\xfd\x20\x05\x29\x00\x00hello' > "$seeds_blob/replace-$i"
    printf "${pick}"'\x01\x10\x01\x80\x40' > "$seeds_blob/xor-$i"
    printf "${pick}"'\x02\x08\x00' > "$seeds_blob/cut-$i"
    printf "${pick}"'\x07\x03\x10\x00\x00\x00' > "$seeds_blob/delta-codec-$i"
    printf "${pick}"'\x0b\x40\x00\x00\x01' > "$seeds_blob/size-$i"
    printf "${pick}"'\x13\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x01\x00' > "$seeds_blob/base-$i"
    printf "${pick}"'\x27\x02\x05' > "$seeds_blob/dict-$i"
    i=$((i + 1))
done

# Seeds for fuzz_wire (see the layout in fuzz_wire.cpp): a short stream of each API, the
# request and response bodies the real clients exchanged (../shared/data/wire), and paths.
seeds_wire="$work/seeds/fuzz_wire"
rm -rf "$seeds_wire" && mkdir -p "$seeds_wire"
printf '\x00\x07%s\n\n' \
    'data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}' \
    'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"bash","arguments":"{\"c\":1}"}}]}}]}' \
    'data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}' \
    'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}' 'data: [DONE]' \
    > "$seeds_wire/chat"
printf '\x01\x07%s\n\n' \
    'event: response.created
data: {"type":"response.created","response":{"id":"resp_1","model":"m","output":[]}}' \
    'event: response.output_item.added
data: {"type":"response.output_item.added","output_index":0,"item":{"type":"message","id":"msg_1"}}' \
    'event: response.output_text.delta
data: {"type":"response.output_text.delta","output_index":0,"delta":"Hi"}' \
    'event: response.output_item.added
data: {"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","call_id":"c1","name":"f"}}' \
    'event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","output_index":1,"delta":"{}"}' \
    'event: response.completed
data: {"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":3,"output_tokens":1}}}' \
    > "$seeds_wire/responses"
printf '\x02\x07%s\n\n' \
    'event: message_start
data: {"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":3,"output_tokens":1}}}' \
    'event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}' \
    'event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}' \
    'event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}}' \
    'event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}' \
    'event: content_block_stop
data: {"type":"content_block_stop","index":1}' \
    'event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}' \
    'event: message_stop
data: {"type":"message_stop"}' \
    > "$seeds_wire/anthropic"
printf '\x03\x07%s\n\n' \
    'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi","thought":true}]}}],"responseId":"r"}' \
    'data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2}}' \
    > "$seeds_wire/gemini"
wire_data="$root/../shared/data/wire"
if [ -d "$wire_data" ]; then
    i=0
    for file in "$wire_data"/*.jsonl; do
        while IFS= read -r body; do
            printf '\x04%s' "$body" > "$seeds_wire/request-$i"
            i=$((i + 1))
        done < <(jq -c 'select(.body != null) | .body' "$file")
        while IFS= read -r body; do
            printf '\x05%s' "$body" > "$seeds_wire/response-$i"
            i=$((i + 1))
        done < <(jq -c 'select(.response.body != null) | .response.body' "$file")
    done
fi
printf '\x04%s' '{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"output":"x"}}}]}],"systemInstruction":{"parts":[{"text":"s"}]},"generationConfig":{"maxOutputTokens":5}}' \
    > "$seeds_wire/gemini-request"
printf '\x05%s' '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' \
    > "$seeds_wire/error"
printf '\x06%s' '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse' > "$seeds_wire/path"

# Seeds for fuzz_replay_matching: the rules file of replayer/MATCHING.md's example, a 0
# byte, and each real request body; and the bodies with the built-in rules alone.
seeds_matching="$work/seeds/fuzz_replay_matching"
rm -rf "$seeds_matching" && mkdir -p "$seeds_matching"
rules_example='{"name": "pids", "part": "tool_outputs", "pattern": "pid [0-9]+", "replace": "pid <pid>"}
{"part": "tool_outputs", "pattern": "(took|in) [0-9.]+ ?ms", "replace": "$1 N ms"}
{"api": "anthropic-messages", "ignore": "metadata.run_tag"}
{"api": "openai-responses", "ignore": "input.*.status"}'
if [ -d "$wire_data" ]; then
    i=0
    for file in "$wire_data"/*.jsonl; do
        while IFS= read -r body; do
            { printf '%s' "$rules_example"; printf '\x00'; printf '%s' "$body"; } > "$seeds_matching/rules-$i"
            printf '%s' "$body" > "$seeds_matching/body-$i"
            i=$((i + 1))
        done < <(jq -c 'select(.body != null and (.body | type) == "object") | .body' "$file" | head -n 6)
    done
fi

dict_wire="$work/wire.dict"
{
    for token in data: event: '[DONE]' choices delta content tool_calls function arguments index \
                 finish_reason usage role system user assistant tool tool_call_id messages input \
                 output type text thinking signature tool_use tool_result tool_use_id is_error \
                 message_start content_block_start content_block_delta content_block_stop \
                 message_delta message_stop text_delta input_json_delta partial_json \
                 response.created response.output_item.added response.output_text.delta \
                 response.function_call_arguments.delta response.output_item.done \
                 response.completed function_call function_call_output call_id reasoning \
                 summary candidates parts functionCall functionResponse args response \
                 finishReason usageMetadata contents systemInstruction generationConfig; do
        printf '"%s"\n' "$token"
    done
} > "$dict_wire"

# Seeds for the importers: the real trajectories (../shared/data/real) of each format, whole
# and cut to their first 4 KiB, which libFuzzer then mutates.
real_data="$root/../shared/data/real"
seed_import() { # target, files...
    local dir="$work/seeds/$1" i=0
    shift
    rm -rf "$dir" && mkdir -p "$dir"
    for file in "$@"; do
        [ -f "$file" ] || continue
        cp "$file" "$dir/whole-$i"
        head -c 4096 "$file" > "$dir/head-$i"
        i=$((i + 1))
    done
}
seed_import fuzz_import_claude_code "$real_data"/claude-code/*.jsonl
seed_import fuzz_import_codex "$real_data"/codex/*.jsonl
seed_import fuzz_import_swe_agent "$real_data"/swe-agent/*
seed_import fuzz_import_mini_swe_agent "$real_data"/mini-swe-agent/*
seed_import fuzz_import_openhands "$real_data"/openhands/*
seed_import fuzz_import_inspect "$real_data"/inspect/*
seed_import fuzz_import_openai_messages "$real_data"/tau-bench/*

status=0
for target in "${targets[@]}"; do
    binary="$build/tests/fuzz/$target"
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    extra=()
    if [ "$target" = fuzz_jsonl_import ]; then
        extra=(-dict="$dict_jsonl")
    elif [ "$target" = fuzz_wire ] || [ "$target" = fuzz_replay_matching ] ||
         [[ "$target" == fuzz_import_* ]]; then
        extra=(-dict="$dict_wire")
    fi
    echo "== $target: ${seconds}s"
    if ! "$binary" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$artifacts/$target-" "${extra[@]}" "$corpus" "$work/seeds/$target"; then
        echo "== $target: FAILED (inputs in $artifacts)" >&2
        status=1
    else
        echo "== $target: ok"
    fi
done
exit $status
