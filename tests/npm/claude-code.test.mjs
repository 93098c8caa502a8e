// The real Claude Code (`claude -p` from @anthropic-ai/claude-code) driven by
// tapedeck-model's generic policy through one Bash tool call to a final answer, run the way
// /work/shared/data/README.md records it: a fresh HOME, non-essential traffic off,
// --allowedTools (running as root refuses --dangerously-skip-permissions), stdin closed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startModelServer, tempDir } from './lib/modelserver.mjs';

const claude = join(dirname(fileURLToPath(import.meta.url)), 'node_modules', '.bin', 'claude');
const marker = 'tapedeck-claude-marker';

function runClaude(prompt, env, cwd) {
  return new Promise((resolve) => {
    const child = spawn(claude, ['-p', prompt, '--allowedTools', 'Bash,Read', '--output-format', 'text'],
                        { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 150000);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

function lastMessageBlocks(body) {
  const content = body?.messages?.at(-1)?.content;
  return Array.isArray(content) ? content : [];
}

test('claude -p runs one Bash call from the generic policy and prints the answer', { timeout: 180000 }, async (t) => {
  const server = await startModelServer();
  t.after(() => server.stop());
  const home = tempDir('tapedeck-claude-home-');
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: server.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-dummy-key',
    ANTHROPIC_MODEL: 'claude-sonnet-4-6',
    ANTHROPIC_SMALL_FAST_MODEL: 'claude-haiku-4-5',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
  };
  const run = await runClaude(`Please run \`echo ${marker}\` and tell me what it printed.`, env, home);
  const log = server.log();
  const describe = `claude exit ${run.code} ${run.signal ?? ''}\nstdout: ${run.stdout}\nstderr: ${run.stderr}\n` +
    `requests: ${log.map((l) => `${l.method} ${l.path} ${l.response.status} ${l.response.decision}`).join('; ')}`;
  assert.equal(run.code, 0, describe);

  const calls = log.filter((l) => l.method === 'POST' && l.path.startsWith('/v1/messages'));
  const toolTurn = calls.findIndex((l) => l.response.decision === 'tool:Bash');
  assert.ok(toolTurn >= 0, describe);
  assert.equal(calls[toolTurn].body.stream, true, 'Claude Code streams');
  const answered = calls.slice(toolTurn + 1).find((l) =>
    lastMessageBlocks(l.body).some((b) => b.type === 'tool_result'));
  assert.ok(answered, `no request carried a tool_result\n${describe}`);
  const result = lastMessageBlocks(answered.body).find((b) => b.type === 'tool_result');
  const output = typeof result.content === 'string' ? result.content : JSON.stringify(result.content);
  assert.ok(output.includes(marker), `the tool_result was ${output}`);
  assert.equal(answered.response.decision, 'text');

  assert.ok(run.stdout.includes(`The Bash tool returned: ${marker}`), describe);
});
