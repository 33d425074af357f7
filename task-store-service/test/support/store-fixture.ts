/** Starts a real store on a free port against its own fresh database, and tears both down. */
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { TaskStoreClient, type TaskTypeDefinition } from '@tasks/contracts';
import { prepareDatabase } from '@tasks/dev-mongo';
import {
  createLogger,
  EQUALITY_FILTERED_FIELDS,
  loadConfig,
  startStoreService,
  type StoreService,
} from '../../src/index.js';

export interface StoreFixture {
  service: StoreService;
  client: TaskStoreClient;
  db: Db;
  /** Stops the store only (the database stays, for another store to start on). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export const noopType: TaskTypeDefinition = {
  type: 'test.noop',
  kind: 'io',
  payloadSchema: {
    type: 'object',
    properties: { n: { type: 'integer', minimum: 0 } },
    additionalProperties: false,
  },
  timeoutMs: 5_000,
  maxAttempts: 2,
};

/** `options.dbName`: start on another fixture's database (several stores on one database). */
export async function startStore(
  env: Record<string, string> = {},
  options: { dbName?: string } = {},
): Promise<StoreFixture> {
  const mongoUrl = process.env.MONGO_URL;
  if (!mongoUrl)
    throw new Error('MONGO_URL is not set: run the tests through mocha (root hooks provision MongoDB)');
  const dbName = options.dbName ?? `test_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  // As make start does: FerretDB on PostgreSQL gets the indexes its pushed-down filters use.
  await prepareDatabase(
    { url: mongoUrl, postgresqlUrl: process.env.DEV_MONGO_POSTGRESQL_URL },
    dbName,
    EQUALITY_FILTERED_FIELDS,
  );
  const config = loadConfig({ MONGO_URL: mongoUrl, MONGO_DB: dbName, PORT: '0', ...env });
  const service = await startStoreService(config, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  const mongo = new MongoClient(mongoUrl);
  const db = mongo.db(dbName);
  const client = new TaskStoreClient({ url: service.url, token: env.RPC_TOKEN?.split(',')[0], retries: 0 });
  // Registering needs an executor's token when the store has one.
  const executorToken = env.EXECUTOR_TOKEN?.split(',')[0];
  const registrar = executorToken
    ? new TaskStoreClient({ url: service.url, token: executorToken, retries: 0 })
    : client;
  await registrar.call('taskTypes.register', { workerId: 'fixture', types: [noopType] });
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= service.close());
  let closed: Promise<void> | undefined;
  return {
    service,
    client,
    db,
    stop,
    close: () =>
      (closed ??= (async () => {
        await stop();
        await db.dropDatabase();
        await mongo.close();
      })()),
  };
}

/** Sends a raw JSON-RPC body and returns the HTTP status and parsed body (undefined when empty). */
export async function rawRpc(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}
