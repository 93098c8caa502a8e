// The official `@anthropic-ai/sdk` client run through `tapedeck record` against
// tapedeck-model: the client sees what it sees going direct, and the tape holds every
// exchange the model server logged, byte for byte (count_tokens as a plain exchange);
// scripted faults reach the client unchanged and are error steps; the API key is nowhere in
// the tape's files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { compareTapeWithLog, describeRecording, findSecret, recordClient, runDirect, snapshotFiles, stepsOf } from './lib/recording.mjs';
import { anthropicFaults } from './lib/faultscripts.mjs';

const script = 'anthropic-client.mjs';

function byStart(steps) {
  return [...steps].sort((a, b) => a.started_us - b.started_us || a.index - b.index);
}

test('messages streamed and not, with tool_use, and count_tokens, recorded byte for byte', async () => {
  const server = { extraArgs: ['--chars-per-delta', '4'] };
  const direct = await runDirect({ script, args: ['tools'], server });
  const recorded = await recordClient({ script, args: ['tools'], server });
  assert.equal(recorded.run.code, 0, describeRecording(recorded));
  assert.deepEqual(recorded.report, direct.report, 'the client saw something else through the recorder');
  assert.deepEqual(recorded.report.stream.answer, [{ type: 'text', text: 'The bash tool returned: from-anthropic' }]);

  assert.equal(recorded.log.length, 6, JSON.stringify(recorded.log.map((l) => l.path)));
  assert.deepEqual(compareTapeWithLog(recorded.lines, recorded.log), []);

  const steps = stepsOf(recorded.lines);
  const calls = byStart(steps.filter((s) => s.kind === 'model_call'));
  assert.deepEqual(calls.map((s) => [s.wire.url, s.status, s.wire.chunks.length > 0]),
                   [['/v1/messages', 'ok', false], ['/v1/messages', 'ok', false],
                    ['/v1/messages', 'ok', true], ['/v1/messages', 'ok', true]]);
  const toolCalls = steps.filter((s) => s.kind === 'tool_call');
  assert.deepEqual(toolCalls.map((s) => [s.name, s.payload]), Array(2).fill(['bash', { command: 'echo from-anthropic' }]));
  const results = steps.filter((s) => s.kind === 'tool_result');
  assert.deepEqual(results.map((s) => s.call_id).sort(), toolCalls.map((s) => s.call_id).sort());
  const counted = byStart(steps.filter((s) => s.kind === 'http_exchange'));
  assert.deepEqual(counted.map((s) => [s.name, s.status]),
                   Array(2).fill(['POST /v1/messages/count_tokens', 'ok']));

  assert.ok(snapshotFiles(recorded).includes('run.tape-wal'), `no -wal while recording: ${snapshotFiles(recorded)}`);
  assert.deepEqual(findSecret(recorded), []);
  const sentKey = recorded.log[0].headers['x-api-key'] ?? recorded.log[0].headers['X-Api-Key'] ??
                  recorded.log[0].headers.Authorization ?? recorded.log[0].headers.authorization;
  assert.match(sentKey, /^(Bearer )?sk-t\*\*\*\(len=25\)$/, 'the key reached the model server');
});

test('529 and 429 with retry-after, 500 and a dropped stream reach the client unchanged and are error steps', async () => {
  const server = { policy: 'script', script: anthropicFaults };
  const direct = await runDirect({ script, args: ['faults'], server });
  const recorded = await recordClient({ script, args: ['faults'], server });
  assert.equal(recorded.run.code, 0, describeRecording(recorded));
  assert.deepEqual(recorded.report, direct.report, 'the client saw something else through the recorder');
  const seen = recorded.report;
  assert.deepEqual(seen.retried.ok, [{ type: 'text', text: 'after the retry' }], JSON.stringify(seen));
  assert.ok(seen.waitedForRetryAfter);
  assert.equal(seen.rateLimited.error?.status, 429, JSON.stringify(seen));
  assert.equal(seen.rateLimited.error.retryAfter, '1');
  assert.equal(seen.rateLimited.error.body.error.type, 'rate_limit_error');
  assert.equal(seen.serverError.error?.status, 500, JSON.stringify(seen));
  assert.ok(seen.dropped.error, `the dropped stream did not fail: ${JSON.stringify(seen.dropped)}`);
  assert.deepEqual(seen.afterwards.ok, [{ type: 'text', text: 'still serving' }]);

  assert.equal(recorded.log.length, 6);
  assert.deepEqual(compareTapeWithLog(recorded.lines, recorded.log), []);
  const calls = byStart(stepsOf(recorded.lines).filter((s) => s.kind === 'model_call'));
  assert.deepEqual(calls.map((s) => [s.wire.status, s.status]),
                   [[529, 'error'], [200, 'ok'], [429, 'error'], [500, 'error'], [200, 'cancelled'], [200, 'ok']]);
  assert.equal(calls[0].payload.error.type, 'overloaded_error');
  assert.equal(calls[2].wire.response_headers['retry-after'], '1');
  assert.ok(calls[4].payload.tapedeck_problem, JSON.stringify(calls[4].payload));
  assert.deepEqual(findSecret(recorded), []);
});
