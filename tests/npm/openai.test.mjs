// The official `openai` client against tapedeck-model: Chat Completions and Responses,
// streaming and not, through a tool call to an answer quoting the tool's output; the model
// list; a scripted 429 that the client retries after its retry-after.
import test from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startModelServer, bashTool } from './lib/modelserver.mjs';

const ask = 'Please run `echo from-openai` and report what it printed.';
const chatTools = [{ type: 'function', function: bashTool }];
const responseTools = [{ type: 'function', ...bashTool }];

function client(server, options = {}) {
  return new OpenAI({ apiKey: 'sk-test-openai-key', baseURL: `${server.baseUrl}/v1`, maxRetries: 0, ...options });
}

function header(headers, name) {
  return typeof headers?.get === 'function' ? headers.get(name) : headers?.[name];
}

test('chat completions, not streamed: a tool call, then an answer quoting its output', async (t) => {
  const server = await startModelServer();
  t.after(() => server.stop());
  const openai = client(server);
  const messages = [{ role: 'user', content: ask }];
  const first = await openai.chat.completions.create({ model: 'gpt-4o', messages, tools: chatTools });
  assert.equal(first.object, 'chat.completion');
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  const call = first.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'bash');
  assert.deepEqual(JSON.parse(call.function.arguments), { command: 'echo from-openai' });
  assert.ok(first.usage.prompt_tokens > 0);

  messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'from-openai\n' });
  const second = await openai.chat.completions.create({ model: 'gpt-4o', messages, tools: chatTools });
  assert.equal(second.choices[0].finish_reason, 'stop');
  assert.equal(second.choices[0].message.content, 'The bash tool returned: from-openai');

  const logged = server.log().filter((l) => l.path === '/v1/chat/completions');
  assert.equal(logged.length, 2);
  assert.equal(logged[0].headers.Authorization ?? logged[0].headers.authorization, 'Bearer sk-t***(len=18)');
  assert.equal(logged[1].body.messages.at(-1).role, 'tool');
});

test('chat completions, streamed: the stream helper assembles the tool call and the answer', async (t) => {
  const server = await startModelServer({ extraArgs: ['--chars-per-delta', '4'] });
  t.after(() => server.stop());
  const openai = client(server);
  const messages = [{ role: 'user', content: ask }];
  const stream = openai.chat.completions.stream({ model: 'gpt-4o', messages, tools: chatTools,
                                                  stream_options: { include_usage: true } });
  let chunks = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    chunks += 1;
  }
  const first = await stream.finalChatCompletion();
  assert.ok(chunks >= 4, `only ${chunks} chunks`);
  const call = first.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'bash');
  assert.deepEqual(JSON.parse(call.function.arguments), { command: 'echo from-openai' });
  assert.equal(first.choices[0].finish_reason, 'tool_calls');

  messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'from-openai' });
  let text = '';
  for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4o', messages, tools: chatTools, stream: true })) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, 'The bash tool returned: from-openai');
  assert.equal(server.log()[0].response.sse_events.at(-1), '[DONE]');
});

test('responses, not streamed: function_call, then output_text', async (t) => {
  const server = await startModelServer();
  t.after(() => server.stop());
  const openai = client(server);
  const first = await openai.responses.create({ model: 'gpt-5', input: ask, tools: responseTools });
  assert.equal(first.object, 'response');
  assert.equal(first.status, 'completed');
  const call = first.output.find((item) => item.type === 'function_call');
  assert.ok(call, JSON.stringify(first.output));
  assert.equal(call.name, 'bash');
  assert.deepEqual(JSON.parse(call.arguments), { command: 'echo from-openai' });

  const second = await openai.responses.create({
    model: 'gpt-5',
    tools: responseTools,
    input: [{ role: 'user', content: ask }, call, { type: 'function_call_output', call_id: call.call_id, output: 'from-openai' }],
  });
  assert.equal(second.output_text, 'The bash tool returned: from-openai');
  assert.ok(second.usage.input_tokens > 0);
});

test('responses, streamed: events in order and the final response', async (t) => {
  const server = await startModelServer({ extraArgs: ['--chars-per-delta', '4'] });
  t.after(() => server.stop());
  const openai = client(server);
  const stream = openai.responses.stream({ model: 'gpt-5', input: ask, tools: responseTools });
  const types = [];
  for await (const event of stream) types.push(event.type);
  const first = await stream.finalResponse();
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.ok(types.includes('response.function_call_arguments.delta'), types.join(' '));
  const call = first.output.find((item) => item.type === 'function_call');
  assert.deepEqual(JSON.parse(call.arguments), { command: 'echo from-openai' });

  let text = '';
  const events = await openai.responses.create({
    model: 'gpt-5', tools: responseTools, stream: true,
    input: [{ role: 'user', content: ask }, call, { type: 'function_call_output', call_id: call.call_id, output: 'from-openai' }],
  });
  for await (const event of events) {
    if (event.type === 'response.output_text.delta') text += event.delta;
  }
  assert.equal(text, 'The bash tool returned: from-openai');
});

test('models.list pages through the served models', async (t) => {
  const server = await startModelServer({ extraArgs: ['--models', 'gpt-4o,gpt-5'] });
  t.after(() => server.stop());
  const ids = [];
  for await (const model of client(server).models.list()) ids.push(model.id);
  assert.deepEqual(ids, ['gpt-4o', 'gpt-5']);
});

test('a scripted 429 is an APIError with retry-after, and the client retries after it', async (t) => {
  const server = await startModelServer({
    policy: 'script',
    script: [
      { fault: { kind: 'http', status: 429, message: 'slow down', retry_after: 1 } },
      { fault: { kind: 'http', status: 429, message: 'slow down', retry_after: 1 } },
      { text: 'after the retry' },
    ],
  });
  t.after(() => server.stop());
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
  await assert.rejects(client(server).chat.completions.create(body), (err) => {
    assert.equal(err.status, 429);
    assert.equal(header(err.headers, 'retry-after'), '1');
    assert.match(err.message, /slow down/);
    return true;
  });
  const started = Date.now();
  const answer = await client(server, { maxRetries: 1 }).chat.completions.create(body);
  assert.equal(answer.choices[0].message.content, 'after the retry');
  assert.ok(Date.now() - started >= 900, 'the client waited for retry-after');
  const retries = server.log().map((l) => l.headers['X-Stainless-Retry-Count'] ?? l.headers['x-stainless-retry-count']);
  assert.deepEqual(retries, ['0', '0', '1']);
});
