/**
 * The whole system as child processes, the way `make start` runs it: task store, gateway and
 * executor(s) on free loopback ports, against the real RabbitMQ (unique AMQP prefix) and the
 * MongoDB-wire server of the test run (unique database). The fault suite (faults/) also restarts,
 * adds and signals processes, and points services at proxies or at a private RabbitMQ node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqplib from 'amqplib';
import { MongoClient } from 'mongodb';
import { deleteTopology, topology } from '@tasks/contracts';
import { AMQP_URL, testLogLevel, testMongoUrl } from './env.js';
import { fetchJson, type JsonRequestInit } from './http.js';
import { freePort } from './ports.js';

/** The repository: the services' entry points are found from here. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningSystem {
  gatewayUrl: string;
  storeUrl: string;
  /** Every gateway and every store (`replicas`), the first ones first. */
  gatewayUrls: string[];
  storeUrls: string[];
  prefix: string;
  /** The store's database on the MongoDB-wire server (for checks that read what the API does not show). */
  dbName: string;
  /** The latest process of each service by name (`store`, `gateway`, `store-N`, `gateway-N`, `executor-N`). */
  children: Map<string, ChildProcess>;
  /**
   * Starts the named service again with the same environment (and port), changed by `env` (kept
   * for later restarts), and waits until it is ready.
   */
  restart(name: string, env?: Record<string, string>): Promise<ChildProcess>;
  /** Starts one more executor (its name is `executor-N`); resolves once it is ready. */
  addExecutor(env?: Record<string, string>): Promise<string>;
  /** The named service's HTTP base URL (the executor's ops endpoints: /metrics, /readyz). */
  urlOf(name: string): string;
  /** Resolves with the exit code (or the signal's name) once the named process has exited. */
  exited(name: string): Promise<number | string | null>;
  /** SIGTERM to every process (executors, then gateways, then stores); resolves to their exit codes. */
  stop(): Promise<Record<string, number | null>>;
}

export interface SystemOptions {
  executors?: number;
  /**
   * Stores and gateways: this many of each (1 by default), all on the one database. The ones after
   * the first are `store-N` and `gateway-N`, and gateway-N talks to store-N.
   */
  replicas?: number;
  executorEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  storeEnv?: Record<string, string>;
  /** RabbitMQ for every service (the machine's node at AMQP_URL otherwise). */
  amqpUrl?: string;
  /** The store's port (a free one otherwise): lets a caller put a proxy in front of it first. */
  storePort?: number;
  /** Where the gateway and executors reach the store, when not its own port (a proxy in front). */
  clientStorePort?: number;
  /** Each process's stdout and stderr go to `<logDir>/<name>.log` instead of the test's stderr. */
  logDir?: string;
  /** The store's MongoDB-wire server (the test run's, MONGO_URL, otherwise): e.g. a private FerretDB. */
  mongoUrl?: string;
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

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const amqpUrl = options.amqpUrl ?? AMQP_URL;
  const mongoUrl = options.mongoUrl ?? testMongoUrl();
  const prefix = `e2e-${randomUUID()}`;
  // A caller may name the store's database (storeEnv.MONGO_DB); stop() reads its task types from it.
  const dbName = options.storeEnv?.MONGO_DB ?? `e2e_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const children = new Map<string, ChildProcess>();
  const specs = new Map<string, { entry: string; env: Record<string, string>; readyUrl: string }>();
  const start = (name: string, entry: string, env: Record<string, string>, readyUrl: string) => {
    specs.set(name, { entry, env, readyUrl });
    const log = options.logDir ? openSync(join(options.logDir, `${name}.log`), 'a') : undefined;
    const child = spawn(process.execPath, ['--conditions=source', '--import=tsx', entry], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: testLogLevel('warn'), ...env },
      stdio: log === undefined ? ['ignore', 'ignore', 'inherit'] : ['ignore', log, log],
    });
    if (log !== undefined) closeSync(log); // the child has its own copy
    children.set(name, child);
    return child;
  };
  const ready = (name: string) => waitReady(specs.get(name)!.readyUrl, children.get(name)!, name);
  // The types executors registered, read while the database is up: stop() deletes their queues
  // even when a test has taken the database down by then.
  const knownTypes = new Set<string>();
  const readTypes = async () => {
    const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 2_000 });
    try {
      const types = await mongo.db(dbName).collection<{ _id: string }>('task_types').find({}).toArray();
      for (const t of types) knownTypes.add(t._id);
    } finally {
      await mongo.close();
    }
  };
  const rememberTypes = () => readTypes().catch(() => undefined);
  let executors = 0;
  const addExecutor = async (env: Record<string, string> = {}) => {
    const name = `executor-${++executors}`;
    const port = await freePort();
    start(
      name,
      'executor-service/src/main.ts',
      {
        STORE_URL: clientStoreUrl,
        AMQP_URL: amqpUrl,
        AMQP_PREFIX: prefix,
        METRICS_PORT: String(port),
        CPU_WORKERS: '1',
        LEASE_MS: '5000',
        ...options.executorEnv,
        ...env,
      },
      `http://127.0.0.1:${port}/readyz`,
    );
    await ready(name);
    await rememberTypes();
    return name;
  };
  const exited = (name: string) => {
    const child = children.get(name)!;
    if (child.exitCode !== null || child.signalCode !== null)
      return Promise.resolve(child.exitCode ?? child.signalCode);
    return new Promise<number | string | null>((r) =>
      child.once('exit', (code, signal) => r(code ?? signal)),
    );
  };
  const stop = async () => {
    const codes: Record<string, number | null> = {};
    // Executors first (they record what they hand back through a store), then gateways, then
    // stores; the processes of one kind together.
    for (const kind of ['executor', 'gateway', 'store']) {
      const ofKind = [...children].filter(([name]) => name.startsWith(kind));
      await Promise.all(
        ofKind.map(async ([name, child]) => {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          }
          codes[name] = child.exitCode;
        }),
      );
    }
    // Every type registered had its queue declared (by executors, or by a publish).
    await rememberTypes();
    const conn = await amqplib.connect(amqpUrl);
    const ch = await conn.createChannel();
    await deleteTopology(ch, topology(prefix), [...knownTypes]);
    await conn.close();
    const mongo = new MongoClient(mongoUrl);
    await mongo.db(dbName).dropDatabase();
    await mongo.close();
    return codes;
  };
  const storePort = options.storePort ?? (await freePort());
  const storeUrl = `http://127.0.0.1:${storePort}/rpc`;
  const clientStoreUrl = `http://127.0.0.1:${options.clientStorePort ?? storePort}/rpc`;
  const startStore = async (name: string, port: number) => {
    start(
      name,
      'task-store-service/src/main.ts',
      { MONGO_URL: mongoUrl, MONGO_DB: dbName, PORT: String(port), ...options.storeEnv },
      `http://127.0.0.1:${port}/readyz`,
    );
    await ready(name);
  };
  const startGateway = async (name: string, storeUrl: string) => {
    const port = await freePort();
    start(
      name,
      'gateway-service/src/main.ts',
      {
        STORE_URL: storeUrl,
        AMQP_URL: amqpUrl,
        AMQP_PREFIX: prefix,
        PORT: String(port),
        DISPATCH_INTERVAL_MS: '500',
        ...options.gatewayEnv,
      },
      `http://127.0.0.1:${port}/readyz`,
    );
    await ready(name);
    return `http://127.0.0.1:${port}`;
  };
  try {
    // Stores one after another (the first creates the collections and indexes); then the
    // gateways and executors, which need only a store and the broker, all at once.
    await startStore('store', storePort);
    const storeUrls = [storeUrl];
    for (let i = 2; i <= (options.replicas ?? 1); i++) {
      const port = await freePort();
      await startStore(`store-${i}`, port);
      storeUrls.push(`http://127.0.0.1:${port}/rpc`);
    }
    const [gatewayUrls] = await Promise.all([
      Promise.all(
        storeUrls.map((url, i) =>
          i === 0 ? startGateway('gateway', clientStoreUrl) : startGateway(`gateway-${i + 1}`, url),
        ),
      ),
      Promise.all(Array.from({ length: options.executors ?? 1 }, () => addExecutor())),
    ]);
    return {
      gatewayUrl: gatewayUrls[0]!,
      storeUrl,
      gatewayUrls,
      storeUrls,
      prefix,
      dbName,
      children,
      async restart(name, env = {}) {
        const spec = specs.get(name)!;
        start(name, spec.entry, { ...spec.env, ...env }, spec.readyUrl);
        await ready(name);
        return children.get(name)!;
      },
      addExecutor,
      urlOf: (name) => specs.get(name)!.readyUrl.replace(/\/readyz$/, ''),
      exited,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** JSON over HTTP against the gateway. */
export async function api(base: string, path: string, init: JsonRequestInit = {}) {
  const res = await fetchJson(`${base}${path}`, init);
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
