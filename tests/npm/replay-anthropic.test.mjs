// The official `@anthropic-ai/sdk` client recorded through `tapedeck record` (as
// record-anthropic.test.mjs does), then run again under `tapedeck replay --check` with no
// model server anywhere: the client sees what it saw when recorded (count_tokens answered
// from its recorded exchanges), every recorded exchange is asked for and served, and the
// recorded faults (529 and 429 with retry-after, 500, a dropped stream) happen again. One
// word of the prompt changed on replay is a divergence at the first call, in its message.
import test from 'node:test';
import assert from 'node:assert/strict';
import { describeRecording, recordClient } from './lib/recording.mjs';
import { anthropicFaults } from './lib/faultscripts.mjs';
import { assertCleanReplay, assertPromptDivergence, clientsWithChangedWord, recordedExchangeCount,
         replayClient } from './lib/replaying.mjs';

const script = 'anthropic-client.mjs';

// The tools scenario recorded once, for the replay and the divergence below. The model
// server is stopped before recordClient returns.
let toolsRecording;
async function recordedTools() {
  toolsRecording ??= recordClient({ script, args: ['tools'], server: { extraArgs: ['--chars-per-delta', '4'] } });
  const recorded = await toolsRecording;
  assert.equal(recorded.run.code, 0, describeRecording(recorded));
  return recorded;
}

test('messages streamed and not, with tool_use, and count_tokens, replayed offline', async () => {
  const recorded = await recordedTools();
  const replayed = await replayClient({ tape: recorded.tape, script, args: ['tools'] });
  assertCleanReplay(replayed, recorded);
  assert.equal(recordedExchangeCount(recorded.lines), 6);
  assert.deepEqual(replayed.outcome, recorded.report, 'the client saw something else on replay');
  assert.deepEqual(replayed.outcome.stream.answer, [{ type: 'text', text: 'The bash tool returned: from-anthropic' }]);
  // The stream came as a stream: its events and text deltas one by one (compared above).
  assert.ok(replayed.outcome.stream.deltas.length > 1, JSON.stringify(replayed.outcome.stream));
  // Each count_tokens call got its own recorded answer, not one of them twice.
  const [small, large] = replayed.outcome.countTokens;
  assert.ok(large > small, JSON.stringify(replayed.outcome.countTokens));
});

test('the recorded 529 and 429 with retry-after, 500 and dropped stream happen again on replay', async () => {
  const recorded = await recordClient({ script, args: ['faults'], server: { policy: 'script', script: anthropicFaults } });
  assert.equal(recorded.run.code, 0, describeRecording(recorded));
  const replayed = await replayClient({ tape: recorded.tape, script, args: ['faults'] });
  assertCleanReplay(replayed, recorded);
  assert.equal(recordedExchangeCount(recorded.lines), 6);
  assert.deepEqual(replayed.outcome, recorded.report, 'the client saw something else on replay');
  const seen = replayed.outcome;
  assert.deepEqual(seen.retried.ok, [{ type: 'text', text: 'after the retry' }], JSON.stringify(seen));
  assert.ok(seen.waitedForRetryAfter, 'the client did not wait for the replayed retry-after');
  assert.equal(seen.rateLimited.error?.status, 429, JSON.stringify(seen));
  assert.equal(seen.rateLimited.error.retryAfter, '1');
  assert.equal(seen.rateLimited.error.body.error.type, 'rate_limit_error');
  assert.equal(seen.serverError.error?.status, 500, JSON.stringify(seen));
  assert.ok(seen.dropped.error, `the dropped stream did not fail on replay: ${JSON.stringify(seen.dropped)}`);
  assert.deepEqual(seen.afterwards.ok, [{ type: 'text', text: 'still serving' }]);
});

test('one word of the prompt changed on replay: a divergence at the first call, in its user message', async () => {
  const recorded = await recordedTools();
  const clientsDir = clientsWithChangedWord(script, 'and tell me its output', 'and show me its output');
  const replayed = await replayClient({ tape: recorded.tape, script, args: ['tools'], clientsDir });
  assertPromptDivergence(replayed, recorded, { path: '/v1/messages', before: 'and tell me its output', after: 'and show me its output' });
});
