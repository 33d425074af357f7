/**
 * A real store (own database), a real RabbitMQ topology under a unique prefix, and helpers to
 * submit tasks the way the gateway will (create in the store, publish, mark published).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import amqplib from 'amqplib';
import { releaseTestDatabase, takeTestDatabase } from '@tasks/dev-mongo';
import {
  declareTopology,
  declareTypeQueue,
  deleteTopology,
  TaskStoreClient,
  topology,
  workMessage,
  workRoute,
  type Task,
  type Topology,
} from '@tasks/contracts';
import {
  createLogger as storeLogger,
  EQUALITY_FILTERED_FIELDS,
  loadConfig as storeConfig,
  startStoreService,
  type StoreService,
} from '@tasks/task-store-service';
import { createLogger, loadConfig, startExecutor, type RunningExecutor } from '@tasks/executor-service';
import { AMQP_URL, testDatabaseServer, testLogLevel } from './env.js';

/** The executor tests' task modules (TASKS_DIR of the executors this harness starts). */
export const FIXTURE_TASKS_DIR = fileURLToPath(
  new URL('../../executor-service/test/fixtures/tasks', import.meta.url),
);
const logLevel = testLogLevel();

export interface ExecutorHarness {
  store: TaskStoreClient;
  /** Replace it when a test restarts the store, so close() stops the new one. */
  storeService: StoreService;
  storeDbName: string;
  prefix: string;
  topo: Topology;
  executorEnv: Record<string, string>;
  startExecutor(env?: Record<string, string>): Promise<RunningExecutor>;
  submit(type: string, payload: unknown, extra?: Record<string, unknown>): Promise<Task>;
  /** Publishes bytes routed as a message of this task type and priority (its queues declared first). */
  publishRaw(type: string, body: Buffer, priority?: number): Promise<void>;
  waitFor(id: string, until: (t: Task) => boolean, timeoutMs?: number): Promise<Task>;
  queueDepth(queue: string): Promise<number>;
  /** Messages ready in a task type's queues (all bands), declaring them if they do not exist yet. */
  typeQueueDepth(type: string): Promise<number>;
  getDead(): Promise<amqplib.GetMessage | false>;
  /** Takes (acks) the next ready message of a task type's band-0 queue. */
  takeWork(type: string): Promise<amqplib.GetMessage | false>;
  close(): Promise<void>;
}

export async function startExecutorHarness(): Promise<ExecutorHarness> {
  const server = testDatabaseServer();
  const mongoUrl = server.url;
  const dbName = await takeTestDatabase(server, EQUALITY_FILTERED_FIELDS);
  const storeService = await startStoreService(
    storeConfig({ MONGO_URL: mongoUrl, MONGO_DB: dbName, PORT: '0' }),
    storeLogger(logLevel),
  );
  const store = new TaskStoreClient({ url: storeService.url, retries: 0 });
  const prefix = `test-${randomUUID()}`;
  const topo = topology(prefix);
  const conn = await amqplib.connect(AMQP_URL);
  const ch = await conn.createConfirmChannel();
  await declareTopology(ch, topo);
  const executors: RunningExecutor[] = [];
  /**
   * Types whose queues this helper declared: some are never registered (a message of a type no
   * executor serves), and with ten queues per type a leak costs the shared broker file handles.
   */
  const declaredTypes = new Set<string>();
  const executorEnv = {
    STORE_URL: storeService.url,
    AMQP_URL,
    AMQP_PREFIX: prefix,
    METRICS_PORT: '0',
    CPU_WORKERS: '1',
    IO_CONCURRENCY: '20',
    LEASE_MS: '3000',
    SHUTDOWN_GRACE_MS: '2000',
    TASKS_DIR: FIXTURE_TASKS_DIR,
  };

  const sys: ExecutorHarness = {
    store,
    storeService,
    storeDbName: dbName,
    prefix,
    topo,
    executorEnv,
    async startExecutor(env = {}) {
      const ex = await startExecutor(loadConfig({ ...executorEnv, ...env }), createLogger(logLevel));
      executors.push(ex);
      return ex;
    },
    async submit(type, payload, extra = {}) {
      const { task } = await store.call('tasks.create', { type, payload, ...extra });
      const body = workMessage(task);
      await sys.publishRaw(task.type, Buffer.from(JSON.stringify(body)), body.priority);
      await store.call('tasks.markPublished', { tasks: [{ id: task.id, version: task.version }] });
      return task;
    },
    async publishRaw(type, body, priority = 0) {
      declaredTypes.add(type);
      await declareTypeQueue(ch, topo, type);
      ch.publish(topo.workExchange, workRoute(topo, { type, priority }, 0).routingKey, body, {
        persistent: true,
      });
      await ch.waitForConfirms();
    },
    async waitFor(id, until, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Task | undefined;
      while (Date.now() < deadline) {
        last = await store.call('tasks.get', { id });
        if (until(last)) return last;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`task ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
    },
    async queueDepth(queue) {
      return (await ch.checkQueue(queue)).messageCount;
    },
    async typeQueueDepth(type) {
      declaredTypes.add(type);
      return (await declareTypeQueue(ch, topo, type)).messageCount;
    },
    async getDead() {
      return ch.get(topo.deadQueue, { noAck: true });
    },
    async takeWork(type) {
      return ch.get(topo.typeQueue(type), { noAck: true });
    },
    async close() {
      for (const ex of executors) await ex.stop().catch(() => undefined);
      const { items } = await store.call('taskTypes.list', {});
      await deleteTopology(ch, topo, [...new Set([...items.map((t) => t.type), ...declaredTypes])]);
      await conn.close();
      await sys.storeService.close();
      await releaseTestDatabase(dbName);
    },
  };
  return sys;
}

/** What the gateway's dispatcher does: re-queue expired leases and publish what is unpublished. */
export async function dispatchOnce(sys: ExecutorHarness): Promise<number> {
  await sys.store.call('tasks.requeueExpired', { by: 'test-dispatcher' });
  const { items } = await sys.store.call('tasks.listUnpublished', { olderThanMs: 0 });
  for (const t of items) {
    const body = workMessage(t);
    await sys.publishRaw(t.type, Buffer.from(JSON.stringify(body)), body.priority);
  }
  if (items.length > 0)
    await sys.store.call('tasks.markPublished', {
      tasks: items.map((t) => ({ id: t.id, version: t.version })),
    });
  return items.length;
}

/** CPU time (ms) this process — all its threads — uses during `ms` of wall time. */
export async function cpuMsDuring(ms: number): Promise<number> {
  const before = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}
