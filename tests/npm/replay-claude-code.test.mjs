// The real Claude Code (`claude -p`) recorded through `tapedeck record` with one Bash call
// (as record-claude-code.test.mjs does), then run again under `tapedeck replay --check`
// with no model server anywhere. Its requests differ from the recorded ones in what changes
// every run (a new session id in metadata.user_id, the billing header's suffix; in a fresh
// home also the temporary directory it works in; replayer/MATCHING.md), and still every one
// must match, and it must print the same answer: replayed in the recording's home, and in a
// fresh one as a CI job would. One word of the prompt changed on replay is a divergence at
// its first model call, in the user message. Forked at the Bash result with another output,
// Claude Code reports that output, and the fork's branch replays in turn.
import test from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claudeCodeEnvironment, clientEnv, describeRecording, npmDir, runProgram, runRecorded, stepsOf,
         tapedeckBin } from './lib/recording.mjs';
import { tempDir } from './lib/modelserver.mjs';
import { assertCleanReplay, describeReplay, exitDiverged, firstDivergenceDifferences,
         runReplayed } from './lib/replaying.mjs';

const claude = join(npmDir, 'node_modules', '.bin', 'claude');
const marker = 'tapedeck-replay-marker';
const prompt = `Please run \`echo ${marker}\` and tell me what it printed.`;

// Claude Code started as claude-code.test.mjs starts it, with HOME (and the working
// directory) `home`.
function claudeRun(promptText, home) {
  return {
    command: claude,
    args: ['-p', promptText, '--allowedTools', 'Bash,Read', '--output-format', 'text'],
    cwd: home,
    timeoutMs: 50000,
    env: claudeCodeEnvironment(home),
  };
}

// Recorded once in a fresh home, for the tests below. The model server is stopped before
// runRecorded returns.
let recording;
async function recorded() {
  recording ??= (async () => {
    const home = tempDir('tapedeck-claude-home-');
    return { ...(await runRecorded(claudeRun(prompt, home))), home };
  })();
  const r = await recording;
  assert.equal(r.run.code, 0, `tapedeck record exit ${r.run.code} ${r.run.signal ?? ''}\n` +
                              `stdout: ${r.run.stdout}\nstderr: ${r.run.stderr}`);
  assert.ok(r.run.stdout.includes(`The Bash tool returned: ${marker}`), r.run.stdout);
  return r;
}

// The session ids Claude Code has kept a transcript of in `home`
// (.claude/projects/CWD/SESSION.jsonl).
function sessionsIn(home) {
  const projects = join(home, '.claude', 'projects');
  if (!existsSync(projects)) return [];
  return readdirSync(projects).flatMap((cwd) => readdirSync(join(projects, cwd)))
    .filter((f) => f.endsWith('.jsonl')).map((f) => f.slice(0, -'.jsonl'.length));
}

function assertSameAsRecorded(replayed, r) {
  assertCleanReplay(replayed, r);
  assert.equal(replayed.run.stdout, r.run.stdout, 'Claude Code printed something else on replay');
}

function firstModelCall(r) {
  return stepsOf(r.lines).filter((s) => s.kind === 'model_call')
    .sort((a, b) => a.started_us - b.started_us || a.index - b.index)[0];
}

test('claude -p with one Bash call, replayed offline in the home it was recorded in', { timeout: 60000 }, async () => {
  const r = await recorded();
  const before = sessionsIn(r.home);
  const replayed = await runReplayed({ tape: r.tape, ...claudeRun(prompt, r.home) });
  assertSameAsRecorded(replayed, r);
  // It was a new session, with a new id in every request's metadata.user_id: the requests
  // were not the recorded bytes, and matched all the same.
  const recordedSession = JSON.parse(JSON.parse(firstModelCall(r).wire.request_body).metadata.user_id).session_id;
  assert.ok(before.includes(recordedSession), `${recordedSession} is not among ${before}`);
  const fresh = sessionsIn(r.home).filter((s) => !before.includes(s));
  assert.equal(fresh.length, 1, `sessions before ${before}, after ${sessionsIn(r.home)}`);
  assert.notEqual(fresh[0], recordedSession);
});

test('claude -p with one Bash call, replayed offline in a fresh home', { timeout: 60000 }, async () => {
  const r = await recorded();
  const replayed = await runReplayed({ tape: r.tape, ...claudeRun(prompt, tempDir('tapedeck-claude-home-')) });
  assertSameAsRecorded(replayed, r);
});

test('one word of the prompt changed on replay: a divergence at the first model call, in the user message',
     { timeout: 60000 }, async () => {
  const r = await recorded();
  // In the recording's home, so that the changed word is the only difference.
  const replayed = await runReplayed({ tape: r.tape, ...claudeRun(prompt.replace('and tell me', 'and show me'), r.home) });
  assert.equal(replayed.run.code, exitDiverged, describeReplay(replayed));
  assert.ok(!replayed.run.stdout.includes(`The Bash tool returned: ${marker}`), describeReplay(replayed));

  const first = replayed.report.divergences[0];
  assert.ok(first, describeReplay(replayed));
  assert.equal(first.method, 'POST');
  assert.equal(first.path, '/v1/messages?beta=true');
  assert.equal(first.environment_drift, false);
  assert.equal(first.expected_step, firstModelCall(r).index, describeReplay(replayed));
  const differences = firstDivergenceDifferences(replayed.report);
  assert.deepEqual(differences.map((d) => [d.kind, d.where]), [['message', 'message 0 (user)']], describeReplay(replayed));
  const lines = differences[0].diff.split('\n');
  assert.ok(lines.some((l) => l.startsWith('+') && l.includes('and show me what it printed')), differences[0].diff);
  assert.ok(lines.some((l) => l.startsWith('-') && l.includes('and tell me what it printed')), differences[0].diff);
});

test('forked at the Bash result with an edited output: Claude Code reports the new output, and the branch replays',
     { timeout: 120000 }, async () => {
  const r = await recorded();
  const result = stepsOf(r.lines).find((s) => s.kind === 'tool_result' && s.payload?.output?.includes(marker));
  assert.ok(result, `no tool_result carrying ${marker}: ${describeRecording(r)}`);
  const dir = tempDir('tapedeck-claude-fork-');
  const tape = join(dir, 'forked.tape');
  copyFileSync(r.tape, tape);
  const edited = join(dir, 'edited-output.txt');
  writeFileSync(edited, 'tapedeck-fork-edited-output\n');

  // Live after the fork: the scripted model's generic policy, which answers by quoting the
  // tool output it was sent.
  const run = claudeRun(prompt, r.home);
  const forked = await runProgram(tapedeckBin(), [
    'fork', tape, '--at', String(result.index), '--edit-tool-result', `@${edited}`, '--scripted', 'generic',
    '--', run.command, ...run.args,
  ], { env: clientEnv(run.env), cwd: run.cwd, timeoutMs: 50000 });
  const told = `tapedeck fork exit ${forked.code}\nstdout: ${forked.stdout}\nstderr: ${forked.stderr}`;
  assert.equal(forked.code, 0, told);
  assert.ok(forked.stdout.includes('The Bash tool returned: tapedeck-fork-edited-output'), told);
  assert.ok(forked.stderr.includes(`tool output of ${result.call_id} replaced`), told);

  const replayed = await runReplayed({ tape, ...run, replayArgs: ['--branch', '2'] });
  assert.equal(replayed.run.code, 0, describeReplay(replayed));
  assert.equal(replayed.report.divergences.length, 0, describeReplay(replayed));
  assert.equal(replayed.report.unused_model_calls, 0, describeReplay(replayed));
  assert.equal(replayed.run.stdout, forked.stdout, 'Claude Code printed something else replaying the fork');
});
