/**
 * A Redis of the benchmark's own that persists like a careful production one: append-only file,
 * fsync once a second (`--appendonly yes --appendfsync everysec`), no RDB snapshots (`--save ""`),
 * its files in a temporary directory, on loopback at a free port of 24000–24999 (BENCH_REDIS_PORT
 * to choose one). BullMQ runs on it beside the machine's shared Redis, which persists nothing,
 * so that ours ÷ BullMQ can be read against a BullMQ whose accepted jobs survive a crash too.
 * The shared Redis is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  url: string;
  pid: number;
  /** The settings it runs with, as given on its command line. */
  persistence: string;
  stop(): Promise<void>;
}

const PORTS = { first: 24_000, last: 24_999 };

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function choosePort(): Promise<number> {
  if (process.env.BENCH_REDIS_PORT) return Number(process.env.BENCH_REDIS_PORT);
  const span = PORTS.last - PORTS.first + 1;
  const offset = Math.floor(Math.random() * span);
  for (let i = 0; i < 50; i++) {
    const port = PORTS.first + ((offset + i * 37) % span);
    if (await portFree(port)) return port;
  }
  throw new Error(`no free port for a private Redis in ${PORTS.first}–${PORTS.last}`);
}

async function waitPing(url: string, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    // A refused connection is this probe's answer (the promise below); without a listener ioredis
    // would also print it as an unhandled error event.
    redis.on('error', () => undefined);
    const ok = await redis
      .connect()
      .then(() => redis.ping())
      .then(
        (pong) => pong === 'PONG',
        () => false,
      );
    redis.disconnect();
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer at ${url} within ${timeoutMs} ms`);
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await choosePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const settings = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', ...settings],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    })());
  const url = `redis://127.0.0.1:${port}`;
  try {
    await spawned;
    await waitPing(url, child);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    pid: child.pid!,
    persistence: 'appendonly yes, appendfsync everysec, save ""',
    stop,
  };
}
