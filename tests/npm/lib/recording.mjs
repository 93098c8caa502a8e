// Runs a client through `tapedeck record` (TAPEDECK_BIN) against tapedeck-model, reads the
// tape back with `tapedeck export --jsonl`, and checks it against the model server's --log:
// every exchange the server saw is on the tape once, with the same request bytes, status and
// response bytes (the log holds an FNV-1a 64 digest and the size of both, see
// agent/model/requestlog.h).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { startModelServer, tempDir } from './modelserver.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const npmDir = dirname(here);
export const secretKey = 'sk-test-SECRET-1234567890';

function tapedeckBin() {
  const bin = process.env.TAPEDECK_BIN;
  if (!bin || !existsSync(bin)) throw new Error('TAPEDECK_BIN must name the tapedeck binary (ctest sets it)');
  return bin;
}

// FNV-1a 64 of a Buffer as 16 hex digits, the digest tapedeck-model's --log writes. Kept in
// two 32-bit halves: the prime is 2^40 + 0x1b3, so h * prime = h * 0x1b3 + (h << 40).
export function fnv1a64(bytes) {
  let lo = 0x84222325;
  let hi = 0xcbf29ce4;
  for (const byte of bytes) {
    lo = (lo ^ byte) >>> 0;
    const low = lo * 0x1b3; // below 2^53: exact
    hi = (Math.imul(hi, 0x1b3) + Math.floor(low / 0x100000000) + (lo << 8)) >>> 0;
    lo = low >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

// Runs a program to its end: { code, signal, stdout, stderr }; SIGKILLed after timeoutMs.
export function runProgram(command, args, { env = process.env, cwd, timeoutMs = 50000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

// The last stdout line of a client script: the JSON report of what the client saw.
function clientReport(run, what) {
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${what}: no JSON report on stdout (exit ${run.code} ${run.signal ?? ''})\n` +
                    `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
}

// The environment a client starts with: nothing of the test's own API settings, a secret as
// every provider's key.
export function clientEnv(extra = {}) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp' };
  return { ...env, OPENAI_API_KEY: secretKey, ANTHROPIC_API_KEY: secretKey, ...extra };
}

// Runs `node clients/SCRIPT ARGS` straight against a fresh model server, for the report to
// compare the recorded run with.
export async function runDirect({ script, args = [], server: serverOptions = {}, env = {} }) {
  const server = await startModelServer(serverOptions);
  try {
    const run = await runProgram(process.execPath, [join(npmDir, 'clients', script), ...args], {
      env: clientEnv({ OPENAI_BASE_URL: `${server.baseUrl}/v1`, ANTHROPIC_BASE_URL: server.baseUrl, ...env }),
    });
    return { run, report: clientReport(run, `${script} direct`), log: server.log() };
  } finally {
    await server.stop();
  }
}

// Runs COMMAND under `tapedeck record --upstream MODEL -- lib/thensnapshot.mjs DIR -- COMMAND`:
// the snapshot copies the tape and its -wal as they are after COMMAND ends, before the
// recorder closes the tape. Returns the run, the model's log, the tape's JSONL lines and the
// paths.
export async function runRecorded({ command, args = [], server: serverOptions = {}, env = {}, cwd,
                                    timeoutMs = 50000 }) {
  const server = await startModelServer(serverOptions);
  const dir = tempDir('tapedeck-npm-record-');
  const tape = join(dir, 'run.tape');
  const snapshot = join(dir, 'snapshot');
  let run;
  try {
    run = await runProgram(tapedeckBin(), [
      'record', '-o', tape, '--upstream', server.baseUrl, '--',
      process.execPath, join(here, 'thensnapshot.mjs'), snapshot, '--', command, ...args,
    ], { env: clientEnv(env), cwd, timeoutMs });
  } finally {
    await server.stop();
  }
  const exported = await runProgram(tapedeckBin(), ['export', '--jsonl', tape]);
  if (exported.code !== 0) throw new Error(`tapedeck export --jsonl ${tape} failed: ${exported.stderr}`);
  const lines = exported.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { run, log: server.log(), lines, exportText: exported.stdout, tape, snapshot, dir };
}

// runRecorded for a client script in clients/, with its report parsed.
export async function recordClient({ script, args = [], ...rest }) {
  const recorded = await runRecorded({ command: process.execPath, args: [join(npmDir, 'clients', script), ...args], ...rest });
  recorded.report = clientReport(recorded.run, `${script} through tapedeck record`);
  return recorded;
}

export function stepsOf(lines) {
  return lines.filter((l) => l.type === 'step');
}

function bodyBytes(wire, name) {
  if (typeof wire[name] === 'string') return Buffer.from(wire[name], 'utf8');
  if (typeof wire[`${name}_base64`] === 'string') return Buffer.from(wire[`${name}_base64`], 'base64');
  return Buffer.alloc(0);
}

// A recorded response body as the server wrote it, before HTTP content-encoding.
function decoded(bytes, encoding) {
  if (bytes.length === 0) return bytes; // an answer to HEAD, say: nothing was encoded
  switch ((encoding ?? '').trim().toLowerCase()) {
  case '':
  case 'identity': return bytes;
  case 'gzip': return zlib.gunzipSync(bytes);
  case 'deflate': return zlib.inflateSync(bytes);
  case 'br': return zlib.brotliDecompressSync(bytes);
  default: throw new Error(`unexpected content-encoding ${encoding}`);
  }
}

function describeStep(s) {
  return `step ${s.index} (${s.kind} ${s.status} ${s.wire.method} ${s.wire.url} -> ${s.wire.status})`;
}

function describeLog(l) {
  return `log seq ${l.seq} (${l.method} ${l.path} -> ${l.response.status} ${l.response.decision})`;
}

// Request headers that belong to one hop: the proxy sets its own on the way up (framing,
// the upstream's host). Every other header on the tape must have reached the model server
// as it is (secrets: as the log's mask of them).
const notForwardedAsIs = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'expect',
                                  'proxy-connection', 'upgrade', 'trailer']);

// The differences between the tape's exchanges and the model's log, one line each; empty
// when they agree. Each log line is paired with the first unpaired exchange of the same
// method, url and request bytes (in the order of their arrival), so that concurrent calls
// still pair; then status, request headers, response bytes and chunks are compared.
export function compareTapeWithLog(lines, log) {
  const problems = [];
  const exchanges = stepsOf(lines).filter((s) => s.wire).sort((a, b) => a.started_us - b.started_us || a.index - b.index);
  if (exchanges.length !== log.length) {
    problems.push(`the tape has ${exchanges.length} exchanges, the model's log ${log.length}:\n  tape: ` +
                  exchanges.map(describeStep).join('\n        ') + '\n  log:  ' + log.map(describeLog).join('\n        '));
  }
  const unpaired = [...exchanges];
  const headerProblems = new Map(); // header name -> its first problem and where: one line each
  for (const entry of [...log].sort((a, b) => a.seq - b.seq)) {
    const at = unpaired.findIndex((s) => {
      const request = bodyBytes(s.wire, 'request_body');
      return s.wire.method === entry.method && s.wire.url === entry.path &&
             request.length === (entry.body_size ?? 0) && (request.length === 0 || fnv1a64(request) === entry.body_fnv1a64);
    });
    if (at < 0) {
      problems.push(`${describeLog(entry)}: no exchange on the tape with the same method, url and request bytes ` +
                    `(${entry.body_size ?? 0} bytes, fnv1a64 ${entry.body_fnv1a64 ?? '-'})`);
      continue;
    }
    const [step] = unpaired.splice(at, 1);
    const where = `${describeLog(entry)} / ${describeStep(step)}`;
    const wire = step.wire;
    if (wire.status !== entry.response.status) problems.push(`${where}: status ${wire.status} on the tape, the model sent ${entry.response.status}`);
    for (const [name, value] of Object.entries(wire.request_headers)) {
      if (notForwardedAsIs.has(name)) continue;
      const sent = Object.entries(entry.headers).find(([n]) => n.toLowerCase() === name)?.[1];
      const secretArrived = value === '<redacted>' && sent !== undefined && /\*\*\*\(len=\d+\)$/.test(sent);
      if (!secretArrived && sent !== value) {
        const problem = `request header ${name} is ${JSON.stringify(value)} on the tape, the model server logged ` +
                        `${sent === undefined ? 'no such header' : JSON.stringify(sent)}`;
        const seen = headerProblems.get(name) ?? { problem, where: [] };
        seen.where.push(where);
        headerProblems.set(name, seen);
      }
    }
    let response;
    try {
      response = decoded(bodyBytes(wire, 'response_body'), wire.response_headers['content-encoding']);
    } catch (e) {
      problems.push(`${where}: the response body does not decode: ${e.message}`);
      continue;
    }
    if (response.length !== entry.response.sent_size || fnv1a64(response) !== entry.response.sent_fnv1a64) {
      problems.push(`${where}: response body of ${response.length} bytes (fnv1a64 ${fnv1a64(response)}), the model sent ` +
                    `${entry.response.sent_size} (${entry.response.sent_fnv1a64}); the tape's starts ` +
                    JSON.stringify(response.subarray(0, 200).toString('utf8')));
    }
    const chunked = wire.chunks.reduce((sum, [length]) => sum + length, 0);
    if (wire.chunks.length > 0 && chunked !== bodyBytes(wire, 'response_body').length) {
      problems.push(`${where}: the chunks add up to ${chunked} bytes, the body has ${bodyBytes(wire, 'response_body').length}`);
    }
  }
  for (const step of unpaired) problems.push(`${describeStep(step)}: on the tape, but not in the model's log`);
  for (const { problem, where } of headerProblems.values()) {
    problems.push(`${where[0]}${where.length > 1 ? ` and ${where.length - 1} more exchanges` : ''}: ${problem}`);
  }
  return problems;
}

// Where `needle` occurs in the recording's files (the tape, its -wal and -shm, at the end and
// as they were before the recorder closed them) and in the tape's decompressed content;
// empty when nowhere. Throws when there is no snapshot to look at, so that the check cannot
// pass by looking at nothing.
export function findSecret(recorded, needle = secretKey) {
  const found = [];
  const files = [recorded.tape, `${recorded.tape}-wal`, `${recorded.tape}-shm`].filter(existsSync);
  const snapshots = existsSync(recorded.snapshot) ? readdirSync(recorded.snapshot).map((f) => join(recorded.snapshot, f)) : [];
  if (!snapshots.some((f) => f.endsWith('.tape'))) throw new Error(`no snapshot of the tape in ${recorded.snapshot}`);
  for (const file of [...files, ...snapshots]) {
    if (readFileSync(file).includes(needle)) found.push(file);
  }
  if (recorded.exportText.includes(needle)) found.push('tapedeck export --jsonl');
  return found;
}

// The snapshot's file names, for a check that the -wal was looked at.
export function snapshotFiles(recorded) {
  return existsSync(recorded.snapshot) ? readdirSync(recorded.snapshot).sort() : [];
}

// For lib/replaying.mjs, which runs the same binaries and reads the same client reports.
export { clientReport, tapedeckBin };

// What a `tapedeck record` run printed, for an assertion's message.
export function describeRecording(recorded) {
  return `tapedeck record exit ${recorded.run.code} ${recorded.run.signal ?? ''}\n` +
         `stdout: ${recorded.run.stdout}\nstderr: ${recorded.run.stderr}`;
}

// The environment Claude Code runs with in these tests (as claude-code.test.mjs starts it):
// `home` as its HOME, the test key, the models the scripted server answers as, and no
// traffic beyond the model API.
export function claudeCodeEnvironment(home) {
  return {
    HOME: home,
    ANTHROPIC_API_KEY: secretKey,
    ANTHROPIC_MODEL: 'claude-sonnet-4-6',
    ANTHROPIC_SMALL_FAST_MODEL: 'claude-haiku-4-5',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
  };
}
