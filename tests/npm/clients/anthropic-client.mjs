// The official `@anthropic-ai/sdk` client as an agent would use it: the base URL and key
// from the environment (ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY). Prints one JSON line: what
// the client saw, so that a run through the recorder can be compared with a run straight to
// the model server.
//   node anthropic-client.mjs tools    (generic policy: messages streamed and not, count_tokens)
//   node anthropic-client.mjs faults   (script policy: see faultScript in record-anthropic.test.mjs)
import Anthropic from '@anthropic-ai/sdk';
import { bashTool } from '../lib/modelserver.mjs';
import { outcome } from './outcome.mjs';

const ask = 'Please run `echo from-anthropic` and tell me its output.';
const tools = [{ name: bashTool.name, description: bashTool.description, input_schema: bashTool.parameters }];
const model = 'claude-sonnet-4-6';
const client = (options = {}) => new Anthropic({ maxRetries: 0, ...options });


function followUp(first) {
  const use = first.content.find((block) => block.type === 'tool_use');
  return [
    { role: 'user', content: ask },
    { role: 'assistant', content: first.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'from-anthropic\n' }] },
  ];
}

async function toolsScenario() {
  const anthropic = client();
  const report = {};

  const first = await anthropic.messages.create({ model, max_tokens: 512, tools, messages: [{ role: 'user', content: ask }] });
  const second = await anthropic.messages.create({ model, max_tokens: 512, tools, messages: followUp(first) });
  report.messages = { first: first.content, stop: first.stop_reason, answer: second.content, usage: second.usage };

  const stream = anthropic.messages.stream({ model, max_tokens: 512, tools, messages: [{ role: 'user', content: ask }] });
  const types = [];
  stream.on('streamEvent', (event) => types.push(event.type));
  const streamedFirst = await stream.finalMessage();
  const deltas = [];
  const more = anthropic.messages.stream({ model, max_tokens: 512, tools, messages: followUp(streamedFirst) });
  more.on('text', (delta) => deltas.push(delta));
  const answer = await more.finalMessage();
  report.stream = { types, first: streamedFirst.content, deltas, answer: answer.content, stop: answer.stop_reason };

  const small = await anthropic.messages.countTokens({ model, messages: [{ role: 'user', content: 'hi' }] });
  const large = await anthropic.messages.countTokens({ model, messages: [{ role: 'user', content: 'word '.repeat(800) }] });
  report.countTokens = [small.input_tokens, large.input_tokens];
  return report;
}

async function faults() {
  const body = { model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
  const report = {};
  const started = Date.now();
  report.retried = await outcome(async () => (await client({ maxRetries: 1 }).messages.create(body)).content);
  report.waitedForRetryAfter = Date.now() - started >= 900;
  report.rateLimited = await outcome(() => client().messages.create(body));
  report.serverError = await outcome(() => client().messages.create(body));
  report.dropped = await outcome(async () => (await client().messages.stream(body).finalMessage()).content);
  report.afterwards = await outcome(async () => (await client().messages.create(body)).content);
  return report;
}

const scenarios = { tools: toolsScenario, faults };
const scenario = scenarios[process.argv[2]];
if (!scenario) {
  console.error(`usage: node anthropic-client.mjs ${Object.keys(scenarios).join('|')}`);
  process.exit(2);
}
console.log(JSON.stringify(await scenario()));
