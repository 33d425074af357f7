/**
 * Helper processes of the benchmarks (a bare Koa server, a jayson echo server, BullMQ's submit
 * server and worker): forked with this process's execArgv (so tsx carries over), they report
 * readiness over IPC and exit when the parent disconnects; SIGKILL after a grace period otherwise.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Helper<T> {
  child: ChildProcess;
  /** The helper's first IPC message (e.g. its port). */
  ready: T;
  stop(): Promise<void>;
}

export async function startHelper<T>(
  file: URL,
  args: string[] = [],
  { timeoutMs = 30_000, killAfterMs = 5_000 }: { timeoutMs?: number; killAfterMs?: number } = {},
): Promise<Helper<T>> {
  const child = fork(fileURLToPath(file), args, {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
    await exited;
    clearTimeout(killer);
  };
  try {
    const ready = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${file.pathname} did not start in ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.once('message', (m) => {
        clearTimeout(timer);
        resolve(m as T);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${file.pathname} exited with ${code}`));
      });
    });
    return { child, ready, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
