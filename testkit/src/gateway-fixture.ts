/** A real store (own database), a gateway under a unique AMQP prefix, and a channel to look at the queues. */
import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { releaseTestDatabase, takeTestDatabase } from '@tasks/dev-mongo';
import {
  declareTopology,
  declareTypeQueue,
  deleteTopology,
  TaskStoreClient,
  topology,
  type Topology,
} from '@tasks/contracts';
import {
  createLogger as storeLogger,
  EQUALITY_FILTERED_FIELDS,
  loadConfig as storeConfig,
  startStoreService,
  type StoreService,
} from '@tasks/task-store-service';
import { createLogger, loadConfig, startGateway, type RunningGateway } from '@tasks/gateway-service';
import { AMQP_URL, testDatabaseServer, testLogLevel } from './env.js';
import { fetchJson, type JsonRequestInit } from './http.js';
import { freePort } from './ports.js';

const logLevel = testLogLevel();

export const sleepType = {
  type: 'test.sleep',
  kind: 'io' as const,
  payloadSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['ms'],
    properties: { ms: { type: 'integer', minimum: 0, maximum: 10_000 } },
  },
  timeoutMs: 5_000,
  maxAttempts: 2,
};

export interface GatewayFixture {
  gateway: RunningGateway;
  url: string;
  store: TaskStoreClient;
  storeService: StoreService;
  prefix: string;
  topo: Topology;
  channel: amqplib.ConfirmChannel;
  env: Record<string, string>;
  request(path: string, init?: JsonRequestInit): Promise<{ status: number; headers: Headers; body: any }>;
  /** Messages ready in a task type's queue (declared if it is not yet). */
  queueDepth(type: string): Promise<number>;
  close(): Promise<void>;
}

export async function startGatewayFixture(env: Record<string, string> = {}): Promise<GatewayFixture> {
  const server = testDatabaseServer();
  const mongoUrl = server.url;
  const dbName = await takeTestDatabase(server, EQUALITY_FILTERED_FIELDS);
  const storeService = await startStoreService(
    storeConfig({ MONGO_URL: mongoUrl, MONGO_DB: dbName, PORT: '0' }),
    storeLogger(logLevel),
  );
  const store = new TaskStoreClient({ url: storeService.url, retries: 0 });
  await store.call('taskTypes.register', { workerId: 'fixture', types: [sleepType] });
  const prefix = `test-${randomUUID()}`;
  const topo = topology(prefix);
  const conn = await amqplib.connect(AMQP_URL);
  const channel = await conn.createConfirmChannel();
  await declareTopology(channel, topo);
  const fullEnv = {
    STORE_URL: storeService.url,
    AMQP_URL,
    AMQP_PREFIX: prefix,
    PORT: '0',
    DISPATCH_INTERVAL_MS: '200',
    REPUBLISH_AFTER_MS: '1500',
    PUBLISH_TIMEOUT_MS: '500',
    TYPES_CACHE_MS: '0',
    ...env,
  };
  const gateway = await startGateway(loadConfig(fullEnv), createLogger(logLevel), {
    dispatcher: env.DISPATCHER !== 'off',
  });
  await gateway.broker.waitForConnect(10_000).catch(() => undefined);
  return {
    gateway,
    url: gateway.url,
    store,
    storeService,
    prefix,
    topo,
    channel,
    env: fullEnv,
    async request(path, init = {}) {
      const res = await fetchJson(`${gateway.url}${path}`, init);
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: res.headers, body };
    },
    async queueDepth(type) {
      return (await declareTypeQueue(channel, topo, type)).messageCount;
    },
    async close() {
      await gateway.stop();
      const { items } = await store.call('taskTypes.list', {});
      await deleteTopology(
        channel,
        topo,
        items.map((t) => t.type),
      );
      await conn.close();
      await storeService.close();
      await releaseTestDatabase(dbName);
    },
  };
}

/**
 * A gateway in process in front of a store of the test's, with no broker (AMQP_URL is a closed
 * port) and no dispatcher: for what lives in the store alone. It answers 201 once the store has a
 * task, whose publication is left to a dispatcher that does not run, so nothing reaches RabbitMQ.
 */
export async function startGatewayWithoutBroker(
  storeUrl: string,
  env: Record<string, string> = {},
): Promise<RunningGateway> {
  const config = loadConfig({
    STORE_URL: storeUrl,
    AMQP_URL: `amqp://guest:guest@127.0.0.1:${await freePort()}`,
    PORT: '0',
    PUBLISH_TIMEOUT_MS: '100',
    TYPES_CACHE_MS: '0',
    ...env,
  });
  return startGateway(config, createLogger(logLevel), { dispatcher: false });
}
