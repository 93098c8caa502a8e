// Starts the real tapedeck-model (TAPEDECK_MODEL_BIN) on an ephemeral loopback port for a
// test, and reads back its --log.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export function tempDir(prefix = 'tapedeck-npm-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// options: { policy: 'generic' | 'script', script: [turn objects] }
export async function startModelServer({ policy = 'generic', script = null, extraArgs = [] } = {}) {
  const dir = tempDir();
  const logPath = join(dir, 'requests.log');
  const args = ['--listen', '127.0.0.1:0', '--policy', policy, '--log', logPath, '--quiet', ...extraArgs];
  if (script) {
    const scriptPath = join(dir, 'script.jsonl');
    writeFileSync(scriptPath, script.map((turn) => JSON.stringify(turn)).join('\n') + '\n');
    args.push('--script', scriptPath);
  }
  const child = spawn(process.env.TAPEDECK_MODEL_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`no "listening on" line in 15 s; stderr: ${stderr}`)), 15000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`unexpected first line: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`tapedeck-model exited with ${code}: ${stderr}`)));
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    port,
    baseUrl,
    dir,
    // The --log lines so far, parsed.
    log() {
      if (!existsSync(logPath)) return [];
      return readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export const bashTool = {
  name: 'bash',
  description: 'Run a shell command and return its output',
  parameters: {
    type: 'object',
    properties: { command: { type: 'string', description: 'the command' } },
    required: ['command'],
  },
};
