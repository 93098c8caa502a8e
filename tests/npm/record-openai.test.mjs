// The official `openai` client run through `tapedeck record` against tapedeck-model: the
// client sees what it sees going direct, and the tape holds every exchange the model server
// logged, byte for byte; scripted faults reach the client unchanged and are error steps;
// the API key is nowhere in the tape's files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { compareTapeWithLog, describeRecording, findSecret, recordClient, runDirect, snapshotFiles, stepsOf } from './lib/recording.mjs';
import { openaiFaults } from './lib/faultscripts.mjs';

const script = 'openai-client.mjs';

function byStart(steps) {
  return [...steps].sort((a, b) => a.started_us - b.started_us || a.index - b.index);
}

test('chat completions and responses, streamed and not, with tool calls, recorded byte for byte', async () => {
  const server = { extraArgs: ['--chars-per-delta', '4', '--models', 'gpt-4o,gpt-5'] };
  const direct = await runDirect({ script, args: ['tools'], server });
  const recorded = await recordClient({ script, args: ['tools'], server });
  assert.equal(recorded.run.code, 0, describeRecording(recorded));
  assert.deepEqual(recorded.report, direct.report, 'the client saw something else through the recorder');
  assert.equal(recorded.report.chat.answer, 'The bash tool returned: from-openai');

  // 4 conversations of 2 model calls each, and the model list.
  assert.equal(recorded.log.length, 9, JSON.stringify(recorded.log.map((l) => l.path)));
  assert.deepEqual(compareTapeWithLog(recorded.lines, recorded.log), []);

  const steps = stepsOf(recorded.lines);
  const calls = byStart(steps.filter((s) => s.kind === 'model_call'));
  assert.deepEqual(calls.map((s) => s.wire.url), [
    '/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions',
    '/v1/responses', '/v1/responses', '/v1/responses', '/v1/responses']);
  assert.deepEqual(calls.map((s) => s.status), Array(8).fill('ok'));
  // The streamed calls kept their chunks; the others have none.
  assert.deepEqual(calls.map((s) => s.wire.chunks.length > 0), [false, false, true, true, false, false, true, true]);
  const toolCalls = steps.filter((s) => s.kind === 'tool_call');
  assert.deepEqual(toolCalls.map((s) => s.name), ['bash', 'bash', 'bash', 'bash']);
  assert.deepEqual(toolCalls.map((s) => s.payload), Array(4).fill({ command: 'echo from-openai' }));
  const results = steps.filter((s) => s.kind === 'tool_result');
  assert.deepEqual(results.map((s) => s.call_id).sort(), toolCalls.map((s) => s.call_id).sort());
  const models = steps.filter((s) => s.kind === 'http_exchange');
  assert.deepEqual(models.map((s) => s.name), ['GET /v1/models']);

  assert.ok(snapshotFiles(recorded).includes('run.tape-wal'), `no -wal while recording: ${snapshotFiles(recorded)}`);
  assert.deepEqual(findSecret(recorded), []);
  // The key did reach the model server: the recorder kept it off the tape only.
  assert.equal(recorded.log[0].headers.Authorization ?? recorded.log[0].headers.authorization, 'Bearer sk-t***(len=25)');
});

test('429 with retry-after, 500 and a dropped stream reach the client unchanged and are error steps', async () => {
  const server = { policy: 'script', script: openaiFaults };
  const direct = await runDirect({ script, args: ['faults'], server });
  const recorded = await recordClient({ script, args: ['faults'], server });
  assert.equal(recorded.run.code, 0, describeRecording(recorded));
  assert.deepEqual(recorded.report, direct.report, 'the client saw something else through the recorder');
  const seen = recorded.report;
  assert.equal(seen.rateLimited.error?.status, 429, JSON.stringify(seen));
  assert.equal(seen.rateLimited.error.retryAfter, '1');
  assert.equal(seen.retried.ok, 'after the retry');
  assert.ok(seen.waitedForRetryAfter);
  assert.equal(seen.serverError.error?.status, 500, JSON.stringify(seen));
  assert.match(seen.serverError.error.message, /scripted failure/);
  assert.ok(seen.dropped.error, `the dropped stream did not fail: ${JSON.stringify(seen.dropped)}`);
  assert.equal(seen.afterwards.ok, 'still serving');

  assert.equal(recorded.log.length, 6);
  assert.deepEqual(compareTapeWithLog(recorded.lines, recorded.log), []);
  const calls = byStart(stepsOf(recorded.lines).filter((s) => s.kind === 'model_call'));
  assert.deepEqual(calls.map((s) => [s.wire.status, s.status]),
                   [[429, 'error'], [429, 'error'], [200, 'ok'], [500, 'error'], [200, 'cancelled'], [200, 'ok']]);
  assert.equal(calls[0].wire.response_headers['retry-after'], '1');
  assert.match(calls[3].payload.error.message, /scripted failure/);
  assert.ok(calls[4].payload.tapedeck_problem, JSON.stringify(calls[4].payload));
  assert.deepEqual(findSecret(recorded), []);
});
