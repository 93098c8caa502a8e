// The real Claude Code (`claude -p`) run through `tapedeck record` against tapedeck-model's
// generic policy, through one Bash tool call to its answer, started the way
// claude-code.test.mjs starts it (see there). The tape holds every exchange the model
// server logged, byte for byte, the Bash call and its result; the API key is nowhere in the
// tape's files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { claudeCodeEnvironment, compareTapeWithLog, findSecret, npmDir, runRecorded, snapshotFiles, stepsOf } from './lib/recording.mjs';
import { tempDir } from './lib/modelserver.mjs';

const claude = join(npmDir, 'node_modules', '.bin', 'claude');
const marker = 'tapedeck-record-marker';

test('claude -p with one Bash call, recorded byte for byte', { timeout: 90000 }, async () => {
  const home = tempDir('tapedeck-claude-home-');
  const recorded = await runRecorded({
    command: claude,
    args: ['-p', `Please run \`echo ${marker}\` and tell me what it printed.`, '--allowedTools', 'Bash,Read',
           '--output-format', 'text'],
    cwd: home,
    timeoutMs: 80000,
    env: claudeCodeEnvironment(home),
  });
  const describe = `tapedeck record exit ${recorded.run.code} ${recorded.run.signal ?? ''}\n` +
    `stdout: ${recorded.run.stdout}\nstderr: ${recorded.run.stderr}\nrequests: ` +
    recorded.log.map((l) => `${l.method} ${l.path} ${l.response.status} ${l.response.decision}`).join('; ');
  assert.equal(recorded.run.code, 0, describe);
  assert.ok(recorded.run.stdout.includes(`The Bash tool returned: ${marker}`), describe);
  assert.ok(recorded.log.some((l) => l.response.decision === 'tool:Bash'), describe);

  assert.deepEqual(compareTapeWithLog(recorded.lines, recorded.log), []);
  const steps = stepsOf(recorded.lines);
  const calls = steps.filter((s) => s.kind === 'model_call');
  assert.ok(calls.every((s) => s.status === 'ok'), calls.map((s) => `${s.index} ${s.status}`).join(', '));
  assert.ok(calls.some((s) => s.wire.url === '/v1/messages?beta=true' && s.wire.chunks.length > 0),
            `no streamed /v1/messages?beta=true call: ${calls.map((s) => s.wire.url).join(', ')}`);
  const bash = steps.filter((s) => s.kind === 'tool_call' && s.name === 'Bash');
  assert.equal(bash.length, 1, describe);
  assert.equal(bash[0].payload.command, `echo ${marker}`);
  const result = steps.find((s) => s.kind === 'tool_result' && s.call_id === bash[0].call_id);
  assert.ok(result, `no tool_result for ${bash[0].call_id}`);
  assert.equal(result.parent, bash[0].index);
  assert.ok(JSON.stringify(result.payload.output).includes(marker), JSON.stringify(result.payload));

  assert.ok(snapshotFiles(recorded).includes('run.tape-wal'), `no -wal while recording: ${snapshotFiles(recorded)}`);
  assert.deepEqual(findSecret(recorded), []);
});
