// The official `openai` client as an agent would use it: the base URL and key from the
// environment (OPENAI_BASE_URL, as `tapedeck record` sets it, with /v1; OPENAI_API_KEY).
// Prints one JSON line: what the client saw, so that a run through the recorder can be
// compared with a run straight to the model server.
//   node openai-client.mjs tools    (generic policy: chat and responses, streamed and not)
//   node openai-client.mjs faults   (script policy: see faultScript in record-openai.test.mjs)
import OpenAI from 'openai';
import { bashTool } from '../lib/modelserver.mjs';
import { outcome } from './outcome.mjs';

const ask = 'Please run `echo from-openai` and report what it printed.';
const chatTools = [{ type: 'function', function: bashTool }];
const responseTools = [{ type: 'function', ...bashTool }];
const client = (options = {}) => new OpenAI({ maxRetries: 0, ...options });


async function tools() {
  const openai = client();
  const report = {};

  const messages = [{ role: 'user', content: ask }];
  const first = await openai.chat.completions.create({ model: 'gpt-4o', messages, tools: chatTools });
  const call = first.choices[0].message.tool_calls[0];
  messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'from-openai\n' });
  const second = await openai.chat.completions.create({ model: 'gpt-4o', messages, tools: chatTools });
  report.chat = { call: call.function, id: call.id, finish: first.choices[0].finish_reason,
                  answer: second.choices[0].message.content, usage: second.usage };

  const streamed = openai.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: ask }],
                                                     tools: chatTools, stream_options: { include_usage: true } });
  let chunks = 0;
  for await (const chunk of streamed) chunks += chunk.object === 'chat.completion.chunk' ? 1 : 0;
  const streamedFirst = await streamed.finalChatCompletion();
  const streamedCall = streamedFirst.choices[0].message.tool_calls[0];
  let text = '';
  const followUp = [{ role: 'user', content: ask }, streamedFirst.choices[0].message,
                    { role: 'tool', tool_call_id: streamedCall.id, content: 'from-openai' }];
  for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4o', messages: followUp, tools: chatTools, stream: true })) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  report.chatStream = { chunks, call: streamedCall.function, answer: text };

  const response = await openai.responses.create({ model: 'gpt-5', input: ask, tools: responseTools });
  const fc = response.output.find((item) => item.type === 'function_call');
  const answered = await openai.responses.create({
    model: 'gpt-5', tools: responseTools,
    input: [{ role: 'user', content: ask }, fc, { type: 'function_call_output', call_id: fc.call_id, output: 'from-openai' }],
  });
  report.responses = { call: { name: fc.name, arguments: fc.arguments, call_id: fc.call_id },
                       answer: answered.output_text, usage: answered.usage };

  const events = openai.responses.stream({ model: 'gpt-5', input: ask, tools: responseTools });
  const types = [];
  for await (const event of events) types.push(event.type);
  const final = await events.finalResponse();
  const streamedFc = final.output.find((item) => item.type === 'function_call');
  let streamedText = '';
  const more = await openai.responses.create({
    model: 'gpt-5', tools: responseTools, stream: true,
    input: [{ role: 'user', content: ask }, streamedFc, { type: 'function_call_output', call_id: streamedFc.call_id, output: 'from-openai' }],
  });
  for await (const event of more) {
    if (event.type === 'response.output_text.delta') streamedText += event.delta;
  }
  report.responsesStream = { types, call: { name: streamedFc.name, arguments: streamedFc.arguments }, answer: streamedText };

  const models = [];
  for await (const model of openai.models.list()) models.push(model.id);
  report.models = models;
  return report;
}

async function faults() {
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
  const report = {};
  report.rateLimited = await outcome(() => client().chat.completions.create(body));
  const started = Date.now();
  report.retried = await outcome(async () => (await client({ maxRetries: 1 }).chat.completions.create(body)).choices[0].message.content);
  report.waitedForRetryAfter = Date.now() - started >= 900;
  report.serverError = await outcome(() => client().chat.completions.create(body));
  report.dropped = await outcome(async () => {
    let text = '';
    for await (const chunk of await client().chat.completions.create({ ...body, stream: true })) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    return text;
  });
  report.afterwards = await outcome(async () => (await client().chat.completions.create(body)).choices[0].message.content);
  return report;
}

const scenarios = { tools, faults };
const scenario = scenarios[process.argv[2]];
if (!scenario) {
  console.error(`usage: node openai-client.mjs ${Object.keys(scenarios).join('|')}`);
  process.exit(2);
}
console.log(JSON.stringify(await scenario()));
