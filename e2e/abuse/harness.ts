/**
 * What the abuse corpus runs against: the whole system (auth on: API keys at the gateway, a
 * bearer token at the store; short HTTP timeouts so slow-client cases end quickly), one task in
 * every status, a local "internal" server that must never be reached, an allow-listed local
 * server that redirects inward, and a fingerprint of the store's collections.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { MongoClient } from 'mongodb';
import type { Flow, Task, TaskStatus } from '@tasks/contracts';
import { startSystem, type RunningSystem, testMongoUrl } from '@tasks/testkit';

export const API_KEY = 'abuse-corpus-api-key-0001';
export const RPC_TOKEN = 'abuse-corpus-rpc-token-0001';
/** Short server timeouts for every service, so a dribbling client is cut off within a second or two. */
export const LIMITS = {
  HEADERS_TIMEOUT_MS: 700,
  REQUEST_TIMEOUT_MS: 1_200,
  KEEP_ALIVE_TIMEOUT_MS: 1_000,
};
const limitsEnv = Object.fromEntries(Object.entries(LIMITS).map(([k, v]) => [k, String(v)]));

export type FixtureStatus = Exclude<TaskStatus, never>;

export interface Harness {
  sys: RunningSystem;
  gatewayUrl: string;
  storeUrl: string;
  /** One task per status; the running one is held by this harness (leaseId) with a long lease. */
  tasks: Record<TaskStatus, { id: string; leaseId?: string; version: number }>;
  /** A server on every loopback address that counts connections: http.request must never reach it. */
  internalPort: number;
  internalHits(): number;
  /** An allow-listed server that redirects to `?to=<url>`. */
  allowedPort: number;
  rpc(body: unknown, options?: RpcOptions): Promise<{ status: number; headers: Headers; body: any }>;
  /** Fingerprint of the store's task, idempotency and task-type documents. */
  fingerprint(): Promise<{ hash: string; tasks: number }>;
  stop(): Promise<void>;
}

export interface RpcOptions {
  token?: string | null;
  contentType?: string | null;
  method?: string;
  raw?: string | Buffer;
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
  );
}

export async function startHarness(): Promise<Harness> {
  let hits = 0;
  const internal = createServer((_req, res) => res.end('internal secret'));
  internal.on('connection', () => hits++);
  const internalPort = await listen(internal, '::'); // IPv4 and IPv6 loopback alike
  const allowed = createServer((req, res) => {
    const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
    if (to) res.writeHead(302, { location: to }).end();
    else res.end('ok');
  });
  const allowedPort = await listen(allowed, '127.0.0.1');

  const dbName = `abuse_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const sys = await startSystem({
    storeEnv: { RPC_TOKEN, MONGO_DB: dbName, ...limitsEnv },
    gatewayEnv: { RPC_TOKEN, API_KEYS: API_KEY, ...limitsEnv },
    executorEnv: { RPC_TOKEN, HTTP_ALLOW_HOSTS: `127.0.0.1:${allowedPort}`, ...limitsEnv },
  });
  const mongo = new MongoClient(testMongoUrl());
  const db = mongo.db(dbName);

  const rpc: Harness['rpc'] = async (body, options = {}) => {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? RPC_TOKEN : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
    if (contentType !== null) headers['content-type'] = contentType;
    const res = await fetch(sys.storeUrl, {
      method: options.method ?? 'POST',
      headers,
      ...(options.method !== 'GET' && { body: options.raw ?? JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: the case fails on it */
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  const call = async <T>(method: string, params: unknown): Promise<T> => {
    const r = await rpc({ jsonrpc: '2.0', id: 1, method, params });
    if (r.body?.error) throw new Error(`${method}: ${JSON.stringify(r.body.error)}`);
    return r.body.result as T;
  };

  // One task per status, made through the store as an internal tool would, and marked published
  // so that the dispatcher leaves them alone; the running one is claimed here for an hour.
  const create = async (extra: Record<string, unknown> = {}) => {
    const { task } = await call<{ task: Task }>('tasks.create', { type: 'noop', payload: {}, ...extra });
    await call('tasks.markPublished', { tasks: [{ id: task.id, version: task.version }] });
    return task;
  };
  const later = { delayMs: 7 * 86_400_000 };
  const claim = (t: Task) =>
    call<Task & { leaseId: string }>('tasks.claim', {
      id: t.id,
      workerId: 'abuse-corpus',
      leaseMs: 3_600_000,
    });
  const queued = await create(later);
  const running = await claim(await create());
  const succeededLease = await claim(await create());
  const succeeded = await call<Task>('tasks.complete', {
    id: succeededLease.id,
    leaseId: succeededLease.leaseId,
  });
  const failedLease = await claim(await create({ maxAttempts: 1 }));
  const failed = await call<Task>('tasks.fail', {
    id: failedLease.id,
    leaseId: failedLease.leaseId,
    error: { code: 'BROKEN', message: 'failed on purpose', retryable: false },
  });
  const cancelled = await call<Task>('tasks.cancel', { id: (await create(later)).id, by: 'abuse-corpus' });
  // A flow node waits for its dependency (due in a week): the waiting task.
  const flow = await call<{ flow: Flow; queued: Task[] }>('flows.create', {
    nodes: [
      { key: 'first', type: 'noop', payload: {}, ...later },
      { key: 'then', type: 'noop', payload: {}, dependsOn: ['first'] },
    ],
  });
  await call('tasks.markPublished', { tasks: flow.queued.map((t) => ({ id: t.id, version: t.version })) });
  const waiting = await call<Task>('tasks.get', { id: flow.flow.nodes[1]!.taskId });

  const fingerprint = async () => {
    const hash = createHash('sha256');
    let tasks = 0;
    for (const name of ['tasks', 'task_idempotency', 'task_types']) {
      const docs = await db.collection(name).find().sort({ _id: 1 }).toArray();
      if (name === 'tasks') tasks = docs.length;
      hash.update(`${name}:${JSON.stringify(docs)}\n`);
    }
    return { hash: hash.digest('hex'), tasks };
  };

  return {
    sys,
    gatewayUrl: sys.gatewayUrl,
    storeUrl: sys.storeUrl,
    tasks: {
      queued: { id: queued.id, version: queued.version },
      running: { id: running.id, leaseId: running.leaseId, version: running.version },
      succeeded: { id: succeeded.id, leaseId: succeededLease.leaseId, version: succeeded.version },
      failed: { id: failed.id, leaseId: failedLease.leaseId, version: failed.version },
      cancelled: { id: cancelled.id, version: cancelled.version },
      waiting: { id: waiting.id, version: waiting.version },
    },
    internalPort,
    internalHits: () => hits,
    allowedPort,
    rpc,
    fingerprint,
    async stop() {
      await sys.stop();
      await db.dropDatabase();
      await mongo.close();
      await new Promise((r) => internal.close(r));
      await new Promise((r) => allowed.close(r));
    },
  };
}

export interface RawResult {
  /** The status line's code, when the server answered before closing. */
  status: number | undefined;
  text: string;
  /** How long after the first byte was sent the server closed the connection (undefined: still open). */
  closedAfterMs: number | undefined;
}

/**
 * Sends raw bytes (things fetch refuses to send: NUL in the path, huge or broken headers) and
 * collects what comes back until the server closes or `waitMs` passes. `dribble` sends the
 * given chunks one every `everyMs` afterwards, as a slow client does.
 */
export function rawRequest(
  url: string,
  bytes: string | Buffer,
  options: { waitMs?: number; dribble?: { chunk: string; everyMs: number } } = {},
): Promise<RawResult> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket: Socket = connect(Number(port), hostname);
    let drip: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      clearInterval(drip);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({
        status: m ? Number(m[1]) : undefined,
        text,
        closedAfterMs: closed ? Date.now() - started : undefined,
      });
      socket.destroy();
    };
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined); // a reset counts as closed
    socket.on('close', () => finish(true));
    const timer = setTimeout(() => finish(false), options.waitMs ?? 5_000);
    socket.write(bytes);
    if (options.dribble) {
      const { chunk, everyMs } = options.dribble;
      drip = setInterval(() => {
        if (!socket.destroyed) socket.write(chunk);
      }, everyMs);
    }
  });
}
