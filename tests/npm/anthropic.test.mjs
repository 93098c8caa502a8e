// The official `@anthropic-ai/sdk` client against tapedeck-model: Messages streaming
// (messages.stream + finalMessage) and not, through tool_use to an answer quoting the
// tool_result; countTokens; the model list; a scripted 529 retried by the client.
import test from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startModelServer, bashTool } from './lib/modelserver.mjs';

const ask = 'Please run `echo from-anthropic` and tell me its output.';
const tools = [{ name: bashTool.name, description: bashTool.description, input_schema: bashTool.parameters }];

function client(server, options = {}) {
  return new Anthropic({ apiKey: 'sk-ant-test-key', baseURL: server.baseUrl, maxRetries: 0, ...options });
}

function followUp(first) {
  const use = first.content.find((block) => block.type === 'tool_use');
  return [
    { role: 'user', content: ask },
    { role: 'assistant', content: first.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'from-anthropic\n' }] },
  ];
}

test('messages, not streamed: tool_use, then text quoting the tool_result', async (t) => {
  const server = await startModelServer();
  t.after(() => server.stop());
  const anthropic = client(server);
  const first = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 512, tools,
                                                  messages: [{ role: 'user', content: ask }] });
  assert.equal(first.type, 'message');
  assert.equal(first.role, 'assistant');
  assert.equal(first.stop_reason, 'tool_use');
  const use = first.content.find((block) => block.type === 'tool_use');
  assert.equal(use.name, 'bash');
  assert.deepEqual(use.input, { command: 'echo from-anthropic' });
  assert.ok(use.id.startsWith('toolu_'), use.id);
  assert.ok(first.usage.input_tokens > 0 && first.usage.output_tokens > 0);

  const second = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 512, tools,
                                                   messages: followUp(first) });
  assert.equal(second.stop_reason, 'end_turn');
  assert.deepEqual(second.content, [{ type: 'text', text: 'The bash tool returned: from-anthropic' }]);
  const logged = server.log();
  // This SDK version sends the key as a bearer token; the log masks it either way.
  const key = logged[0].headers['x-api-key'] ?? logged[0].headers.Authorization ?? logged[0].headers.authorization;
  assert.match(key, /^(Bearer )?sk-a\*\*\*\(len=15\)$/);
  assert.ok(!JSON.stringify(logged).includes('sk-ant-test-key'));
  assert.equal(logged[1].body.messages.at(-1).content[0].type, 'tool_result');
});

test('messages.stream: events and finalMessage, tool_use then text', async (t) => {
  const server = await startModelServer({ extraArgs: ['--chars-per-delta', '4', '--chunk-ms', '5'] });
  t.after(() => server.stop());
  const anthropic = client(server);
  const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 512, tools,
                                             messages: [{ role: 'user', content: ask }] });
  const types = [];
  stream.on('streamEvent', (event) => types.push(event.type));
  const first = await stream.finalMessage();
  assert.equal(types[0], 'message_start');
  assert.equal(types.at(-1), 'message_stop');
  assert.ok(types.filter((type) => type === 'content_block_delta').length >= 2, types.join(' '));
  assert.equal(first.stop_reason, 'tool_use');
  const use = first.content.find((block) => block.type === 'tool_use');
  assert.deepEqual(use.input, { command: 'echo from-anthropic' });

  const text = [];
  const second = anthropic.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 512, tools,
                                              messages: followUp(first) });
  second.on('text', (delta) => text.push(delta));
  const answer = await second.finalMessage();
  assert.equal(text.join(''), 'The bash tool returned: from-anthropic');
  assert.ok(text.length > 1, 'the text came in several deltas');
  assert.equal(answer.content[0].text, 'The bash tool returned: from-anthropic');
  assert.equal(answer.stop_reason, 'end_turn');
});

test('countTokens grows with the conversation', async (t) => {
  const server = await startModelServer();
  t.after(() => server.stop());
  const anthropic = client(server);
  const small = await anthropic.messages.countTokens({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] });
  const large = await anthropic.messages.countTokens({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'word '.repeat(800) }] });
  assert.ok(small.input_tokens > 0);
  assert.ok(large.input_tokens >= 1000, String(large.input_tokens));
  assert.equal(server.log()[0].path, '/v1/messages/count_tokens');
});

test('models.list pages through the served models', async (t) => {
  const server = await startModelServer({ extraArgs: ['--models', 'claude-sonnet-4-6,claude-haiku-4-5'] });
  t.after(() => server.stop());
  const models = [];
  for await (const model of client(server).models.list()) models.push(model);
  assert.deepEqual(models.map((m) => m.id), ['claude-sonnet-4-6', 'claude-haiku-4-5']);
  assert.equal(models[0].type, 'model');
  assert.equal(models[0].display_name, 'claude-sonnet-4-6');
});

test('a scripted 529 is an APIError the client retries; a dropped stream rejects', async (t) => {
  const server = await startModelServer({
    policy: 'script',
    script: [
      { fault: { kind: 'http', status: 529, message: 'overloaded', retry_after: 1 } },
      { text: 'after the retry' },
      { text: 'never finished, cut after two events', fault: { kind: 'drop', after_events: 2 } },
    ],
  });
  t.after(() => server.stop());
  const body = { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
  const answer = await client(server, { maxRetries: 1 }).messages.create(body);
  assert.equal(answer.content[0].text, 'after the retry');
  const first = server.log()[0];
  assert.equal(first.response.status, 529);
  assert.equal(first.response.body.error.type, 'overloaded_error');

  await assert.rejects(client(server).messages.stream(body).finalMessage());
  assert.equal(server.log().at(-1).response.decision, 'fault:drop');
});
