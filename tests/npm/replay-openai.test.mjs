// The official `openai` client recorded through `tapedeck record` (as record-openai.test.mjs
// does), then run again under `tapedeck replay --check` with no model server anywhere: the
// client sees what it saw when recorded, every recorded exchange is asked for and served,
// and the recorded faults (429 with retry-after, 500, a dropped stream) happen again. One
// word of the prompt changed on replay is a divergence at the first call, in its message.
import test from 'node:test';
import assert from 'node:assert/strict';
import { describeRecording, recordClient } from './lib/recording.mjs';
import { openaiFaults } from './lib/faultscripts.mjs';
import { assertCleanReplay, assertPromptDivergence, clientsWithChangedWord, recordedExchangeCount,
         replayClient } from './lib/replaying.mjs';

const script = 'openai-client.mjs';

// The tools scenario recorded once, for the replay and the divergence below. The model
// server is stopped before recordClient returns.
let toolsRecording;
async function recordedTools() {
  toolsRecording ??= recordClient({ script, args: ['tools'],
                                    server: { extraArgs: ['--chars-per-delta', '4', '--models', 'gpt-4o,gpt-5'] } });
  const recorded = await toolsRecording;
  assert.equal(recorded.run.code, 0, describeRecording(recorded));
  return recorded;
}

test('chat completions and responses, streamed and not, with tool calls, replayed offline', async () => {
  const recorded = await recordedTools();
  const replayed = await replayClient({ tape: recorded.tape, script, args: ['tools'] });
  assertCleanReplay(replayed, recorded);
  assert.equal(recordedExchangeCount(recorded.lines), 9);
  assert.deepEqual(replayed.outcome, recorded.report, 'the client saw something else on replay');
  // The streams came as streams, in as many chunks as recorded (compared above).
  assert.ok(replayed.outcome.chatStream.chunks > 1, JSON.stringify(replayed.outcome.chatStream));
  assert.equal(replayed.outcome.chatStream.answer, 'The bash tool returned: from-openai');
  assert.deepEqual(replayed.outcome.models, ['gpt-4o', 'gpt-5']);
});

test('the recorded 429 with retry-after, 500 and dropped stream happen again on replay', async () => {
  const recorded = await recordClient({ script, args: ['faults'], server: { policy: 'script', script: openaiFaults } });
  assert.equal(recorded.run.code, 0, describeRecording(recorded));
  const replayed = await replayClient({ tape: recorded.tape, script, args: ['faults'] });
  assertCleanReplay(replayed, recorded);
  assert.equal(recordedExchangeCount(recorded.lines), 6);
  assert.deepEqual(replayed.outcome, recorded.report, 'the client saw something else on replay');
  const seen = replayed.outcome;
  assert.equal(seen.rateLimited.error?.status, 429, JSON.stringify(seen));
  assert.equal(seen.rateLimited.error.retryAfter, '1');
  assert.equal(seen.retried.ok, 'after the retry');
  assert.ok(seen.waitedForRetryAfter, 'the client did not wait for the replayed retry-after');
  assert.equal(seen.serverError.error?.status, 500, JSON.stringify(seen));
  assert.match(seen.serverError.error.message, /scripted failure/);
  assert.ok(seen.dropped.error, `the dropped stream did not fail on replay: ${JSON.stringify(seen.dropped)}`);
  assert.equal(seen.afterwards.ok, 'still serving');
});

test('one word of the prompt changed on replay: a divergence at the first call, in its user message', async () => {
  const recorded = await recordedTools();
  const clientsDir = clientsWithChangedWord(script, 'and report what it printed', 'and repeat what it printed');
  const replayed = await replayClient({ tape: recorded.tape, script, args: ['tools'], clientsDir });
  assertPromptDivergence(replayed, recorded, { path: '/v1/chat/completions', before: 'and report what it printed', after: 'and repeat what it printed' });
});
