/**
 * The safety net for a start.ts that dies without running its own stop (SIGKILL, a crash in
 * Node itself): start.ts starts this in its own process group with a pipe on stdin, writes the
 * pid of each process it starts (one a line) and `done` once it has stopped them itself. When the
 * pipe closes without `done`, the kernel has closed start.ts's end, so start.ts is gone: this
 * stops every pid, newest first (services before their database), SIGTERM and then SIGKILL after
 * REAPER_WAIT_MS. A pipe needs no polling and no change in the services.
 */
import { createInterface } from 'node:readline';

const WAIT_MS = Number(process.env.REAPER_WAIT_MS ?? 15_000);
const pids: number[] = [];
let done = false;

// A Ctrl-C or a hang-up in the terminal is for start.ts, which then stops everything in order.
for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);

createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line === 'done') done = true;
    else if (/^\d+$/.test(line)) pids.push(Number(line));
  })
  .on('close', () => {
    if (!done) void reap();
  });

async function reap(): Promise<void> {
  for (const pid of pids.reverse()) {
    if (!signal(pid, 'SIGTERM')) continue;
    const deadline = Date.now() + WAIT_MS;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    signal(pid, 'SIGKILL');
  }
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false; // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
