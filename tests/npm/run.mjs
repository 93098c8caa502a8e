// Runs one of the test files here after checking that the official clients are installed,
// so that a missing install is one clear message instead of an import error.
//   node tests/npm/run.mjs openai.test.mjs
// Needs TAPEDECK_MODEL_BIN: the tapedeck-model binary to test; the record-* and replay-* files also
// TAPEDECK_BIN, the tapedeck binary.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = ['openai', '@anthropic-ai/sdk', '@anthropic-ai/claude-code'];
const missing = wanted.filter((name) => !existsSync(join(here, 'node_modules', name, 'package.json')));
if (missing.length > 0) {
  console.error(`tests/npm/node_modules lacks ${missing.join(', ')}: run: npm ci --prefix tests/npm`);
  process.exit(1);
}
if (!process.env.TAPEDECK_MODEL_BIN || !existsSync(process.env.TAPEDECK_MODEL_BIN)) {
  console.error('TAPEDECK_MODEL_BIN must name the tapedeck-model binary (ctest sets it)');
  process.exit(1);
}
const file = process.argv[2];
if (!file) {
  console.error('usage: node run.mjs TEST_FILE.mjs');
  process.exit(2);
}
if ((file.startsWith('record-') || file.startsWith('replay-')) && (!process.env.TAPEDECK_BIN || !existsSync(process.env.TAPEDECK_BIN))) {
  console.error('TAPEDECK_BIN must name the tapedeck binary for the record-* and replay-* tests (ctest sets it)');
  process.exit(1);
}
await import(pathToFileURL(join(here, file)).href);
