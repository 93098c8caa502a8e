// Runs a client again under `tapedeck replay --check --report R TAPE -- COMMAND` against a
// tape lib/recording.mjs recorded, with no model server anywhere: the client's base URLs
// point at the replay server and nowhere else. Returns what the client did and the replay's
// JSON report ({requests, served, unused_model_calls, divergences: [...]}).
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientEnv, clientReport, npmDir, runProgram, stepsOf, tapedeckBin } from './recording.mjs';
import { tempDir } from './modelserver.mjs';

// Exit status of `tapedeck replay` when a divergence stopped the replay or --check failed
// (cli/exitcodes.h: kExitDiverged).
export const exitDiverged = 6;

// Runs COMMAND ARGS under `tapedeck replay --check --report R TAPE`. `env` is added to
// clientEnv() as for the recording; `replayArgs` go before the tape (say --on-miss).
export async function runReplayed({ tape, command, args = [], env = {}, cwd, replayArgs = [], timeoutMs = 50000 }) {
  const dir = tempDir('tapedeck-npm-replay-');
  const reportPath = join(dir, 'report.json');
  const run = await runProgram(tapedeckBin(), [
    'replay', '--check', '--report', reportPath, ...replayArgs, tape, '--', command, ...args,
  ], { env: clientEnv(env), cwd, timeoutMs });
  if (!existsSync(reportPath)) {
    throw new Error(`tapedeck replay wrote no report (exit ${run.code} ${run.signal ?? ''})\n` +
                    `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
  return { run, report: JSON.parse(readFileSync(reportPath, 'utf8')), reportPath, dir };
}

// runReplayed for a client script: clients/SCRIPT, or SCRIPT in `clientsDir` (a copy made by
// clientsWithChangedWord). `outcome` is the client's JSON report, null when it printed none
// (it was refused and stopped at a divergence, say).
export async function replayClient({ script, args = [], clientsDir = join(npmDir, 'clients'), ...rest }) {
  const replayed = await runReplayed({ command: process.execPath, args: [join(clientsDir, script), ...args], ...rest });
  try {
    replayed.outcome = clientReport(replayed.run, `${script} under tapedeck replay`);
  } catch {
    replayed.outcome = null;
  }
  return replayed;
}

// A copy of clients/ in which SCRIPT has `from` replaced by `to` (once, and it must be
// there), runnable as the original is: lib/modelserver.mjs beside it as in tests/npm, and
// node_modules linked to tests/npm's. Returns the copy's clients directory.
export function clientsWithChangedWord(script, from, to) {
  const root = tempDir('tapedeck-npm-changed-');
  const clients = join(root, 'clients');
  cpSync(join(npmDir, 'clients'), clients, { recursive: true });
  cpSync(join(npmDir, 'lib', 'modelserver.mjs'), join(root, 'lib', 'modelserver.mjs'));
  symlinkSync(join(npmDir, 'node_modules'), join(root, 'node_modules'), 'dir');
  const source = readFileSync(join(clients, script), 'utf8');
  if (!source.includes(from)) throw new Error(`clients/${script} does not contain ${JSON.stringify(from)}`);
  writeFileSync(join(clients, script), source.replace(from, to));
  return clients;
}

// The exchanges a tape holds (model calls and other recorded HTTP traffic): what a replay
// must be asked for and serve, each once.
export function recordedExchangeCount(lines) {
  return stepsOf(lines).filter((s) => s.wire).length;
}

// Everything about a replay, for an assertion's message.
export function describeReplay(replayed) {
  return `tapedeck replay exit ${replayed.run.code} ${replayed.run.signal ?? ''}\n` +
         `stdout: ${replayed.run.stdout}\nstderr: ${replayed.run.stderr}\n` +
         `report: ${JSON.stringify(replayed.report, null, 1)}`;
}

// The differences the first divergence found against the recorded call it should have been
// (its first candidate, the nearest); [] when there is none.
export function firstDivergenceDifferences(report) {
  return report.divergences[0]?.candidates?.[0]?.differences ?? [];
}


// A replay that went as recorded: exit 0, no divergence, every recorded exchange asked for
// and served.
export function assertCleanReplay(replayed, recorded) {
  assert.equal(replayed.run.code, 0, describeReplay(replayed));
  assert.deepEqual(replayed.report.divergences, [], describeReplay(replayed));
  assert.equal(replayed.report.unused_model_calls, 0, describeReplay(replayed));
  const exchanges = recordedExchangeCount(recorded.lines);
  assert.equal(replayed.report.requests, exchanges, describeReplay(replayed));
  assert.equal(replayed.report.served, exchanges, describeReplay(replayed));
}

// A replay of `recorded` with one word of the prompt changed (`before` became `after`):
// stopped at the first request, a divergence at the tape's first model call that is not
// drift and names exactly the user message, with a diff whose - and + lines show the word.
export function assertPromptDivergence(replayed, recorded, { path, before, after }) {
  assert.equal(replayed.run.code, exitDiverged, describeReplay(replayed));
  assert.equal(replayed.outcome, null, 'the client ran to its end past a refused request');
  const first = replayed.report.divergences[0];
  assert.ok(first, describeReplay(replayed));
  assert.equal(first.request, 1, describeReplay(replayed));
  assert.equal(first.method, 'POST');
  assert.equal(first.path, path);
  assert.equal(first.environment_drift, false);
  const firstCall = stepsOf(recorded.lines).filter((s) => s.kind === 'model_call')
    .sort((a, b) => a.started_us - b.started_us || a.index - b.index)[0];
  assert.equal(first.expected_step, firstCall.index, describeReplay(replayed));
  const differences = firstDivergenceDifferences(replayed.report);
  assert.deepEqual(differences.map((d) => [d.kind, d.where]), [['message', 'message 0 (user)']], describeReplay(replayed));
  const lines = differences[0].diff.split('\n');
  assert.ok(lines.some((l) => l.startsWith('+') && l.includes(after)), differences[0].diff);
  assert.ok(lines.some((l) => l.startsWith('-') && l.includes(before)), differences[0].diff);
}
