/** Entry point: the only place that reads argv and the environment, and exits. */
import { readFileSync } from 'node:fs';
import { runCli } from './cli.js';

// package.json sits one level up from both src/ and dist/.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// `tasksctl list --json | head -1`: a reader that stops early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

function exit(code: number): void {
  // Let a piped stdout drain first, so `tasksctl list --json | jq` never sees a cut-off document.
  if (process.stdout.writableNeedDrain) process.stdout.once('drain', () => process.exit(code));
  else process.exit(code);
}

runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  version,
}).then(exit, (err: unknown) => {
  process.stderr.write(`tasksctl: INTERNAL: ${err instanceof Error ? err.message : String(err)}\n`);
  exit(1);
});
