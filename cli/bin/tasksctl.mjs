#!/usr/bin/env node
// Runs the compiled CLI when it has been built (npm run build -w cli). Otherwise runs the
// TypeScript sources under tsx, in a child node started with --conditions=source so that
// workspace packages such as @tasks/contracts resolve to their src/ too (their dist/ may not
// exist). Conditions are fixed when node starts, hence a child process rather than a loader
// registered here. TASKSCTL_FROM_SOURCE=1 forces the sources even when dist/ exists.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/main.js', import.meta.url);

if (existsSync(built) && process.env.TASKSCTL_FROM_SOURCE !== '1') {
  await import(built.href);
} else {
  let tsx;
  try {
    tsx = import.meta.resolve('tsx');
  } catch {
    process.stderr.write(
      'tasksctl: INTERNAL: not built and tsx is not installed: run `npm run build -w cli` or `npm install`\n',
    );
    process.exit(1);
  }
  const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [...process.execArgv, '--conditions=source', `--import=${tsx}`, entry, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // A terminal's Ctrl-C reaches both processes; a signal sent to this pid alone is passed on.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`tasksctl: INTERNAL: cannot start node: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const s of signals) process.removeAllListeners(s);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
}
