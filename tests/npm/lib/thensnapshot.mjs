// Runs a command, then copies the tape `tapedeck record` is writing ($TAPEDECK_RECORD_TAPE)
// and its -wal and -shm into DIR, while the recorder still holds them open: the bytes a
// crash would leave behind, not only the file as it is after the recorder closed it.
//   node thensnapshot.mjs DIR -- COMMAND ARGS...
// Exits with COMMAND's status.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const [dir, separator, command, ...args] = process.argv.slice(2);
if (!dir || separator !== '--' || !command) {
  console.error('usage: node thensnapshot.mjs DIR -- COMMAND ARGS...');
  process.exit(2);
}
const tape = process.env.TAPEDECK_RECORD_TAPE;
if (!tape) {
  console.error('thensnapshot: TAPEDECK_RECORD_TAPE is not set: not run by tapedeck record?');
  process.exit(2);
}

const child = spawn(command, args, { stdio: 'inherit' });
const code = await new Promise((resolve) => {
  child.on('error', (e) => { console.error(`thensnapshot: cannot start ${command}: ${e.message}`); resolve(127); });
  child.on('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
});
// The recorder commits each finished call within 100 ms.
await sleep(400);
mkdirSync(dir, { recursive: true });
for (const file of [tape, `${tape}-wal`, `${tape}-shm`]) {
  if (existsSync(file)) copyFileSync(file, join(dir, basename(file)));
}
process.exit(code);
