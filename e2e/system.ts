/**
 * The whole system as child processes, the way `make start` runs it: task store, gateway and
 * executor(s) on free loopback ports, against the real RabbitMQ (unique AMQP prefix) and the
 * MongoDB-wire server of the test run (unique database).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import amqplib from 'amqplib';
import { MongoClient } from 'mongodb';
import { DELAY_STEPS_MS, TASK_KINDS, topology } from '@tasks/contracts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface RunningSystem {
  gatewayUrl: string;
  storeUrl: string;
  prefix: string;
  /** SIGTERM to every process (executors first); resolves to their exit codes. */
  stop(): Promise<Record<string, number | null>>;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitReady(url: string, child: ChildProcess, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} not ready at ${url} after ${timeoutMs} ms`);
}

export async function startSystem(
  options: { executors?: number; executorEnv?: Record<string, string> } = {},
): Promise<RunningSystem> {
  const prefix = `e2e-${randomUUID()}`;
  const dbName = `e2e_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const children = new Map<string, ChildProcess>();
  const start = (name: string, entry: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import=tsx', entry], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.set(name, child);
    return child;
  };
  const stop = async () => {
    const codes: Record<string, number | null> = {};
    for (const [name, child] of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      codes[name] = child.exitCode;
    }
    const conn = await amqplib.connect(AMQP_URL);
    const ch = await conn.createChannel();
    const t = topology(prefix);
    for (const kind of TASK_KINDS) {
      await ch.deleteQueue(t.queues[kind]);
      for (const step of DELAY_STEPS_MS) await ch.deleteQueue(t.delayQueue(kind, step));
    }
    await ch.deleteQueue(t.deadQueue);
    for (const ex of [t.workExchange, t.deadExchange, t.eventsExchange]) await ch.deleteExchange(ex);
    await conn.close();
    const mongo = new MongoClient(process.env.MONGO_URL!);
    await mongo.db(dbName).dropDatabase();
    await mongo.close();
    return codes;
  };
  try {
    const storePort = await freePort();
    const storeUrl = `http://127.0.0.1:${storePort}/rpc`;
    const store = start('store', 'task-store-service/src/main.ts', {
      MONGO_URL: process.env.MONGO_URL!,
      MONGO_DB: dbName,
      PORT: String(storePort),
    });
    await waitReady(`http://127.0.0.1:${storePort}/readyz`, store, 'store');
    const common = { STORE_URL: storeUrl, AMQP_URL, AMQP_PREFIX: prefix };
    const gatewayPort = await freePort();
    const gateway = start('gateway', 'gateway-service/src/main.ts', {
      ...common,
      PORT: String(gatewayPort),
      DISPATCH_INTERVAL_MS: '500',
    });
    await waitReady(`http://127.0.0.1:${gatewayPort}/readyz`, gateway, 'gateway');
    for (let i = 0; i < (options.executors ?? 1); i++) {
      const port = await freePort();
      const ex = start(`executor-${i + 1}`, 'executor-service/src/main.ts', {
        ...common,
        METRICS_PORT: String(port),
        CPU_WORKERS: '1',
        LEASE_MS: '5000',
        ...options.executorEnv,
      });
      await waitReady(`http://127.0.0.1:${port}/readyz`, ex, `executor-${i + 1}`);
    }
    return { gatewayUrl: `http://127.0.0.1:${gatewayPort}`, storeUrl, prefix, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** JSON over HTTP against the gateway. */
export async function api(base: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const { json, ...rest } = init;
  const res = await fetch(`${base}${path}`, {
    ...rest,
    headers: {
      ...(json !== undefined && { 'content-type': 'application/json' }),
      ...(rest.headers as Record<string, string>),
    },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Follows a task over SSE until the stream closes; returns the statuses seen, in order. */
export async function followOverSse(
  base: string,
  id: string,
  timeoutMs = 30_000,
): Promise<{ status: string; version: number }[]> {
  const res = await fetch(`${base}/v1/tasks/${id}/events`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.includes('event: status'))
    .map((b) => JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as { status: string; version: number });
}

export async function waitForStatus(
  base: string,
  id: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = (await api(base, `/v1/tasks/${id}`)).body;
    if (statuses.includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`task ${id} never reached ${statuses.join('|')}; last: ${JSON.stringify(last)}`);
}
