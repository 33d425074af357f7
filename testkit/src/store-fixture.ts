/** A real task store on a free port against a database of its own (empty), given back emptied on close. */
import { MongoClient, type Db } from 'mongodb';
import {
  TaskStoreClient,
  type ListParams,
  type TaskSummary,
  type TaskTypeDefinition,
} from '@tasks/contracts';
import { releaseTestDatabase, takeTestDatabase } from '@tasks/dev-mongo';
import {
  createLogger,
  EQUALITY_FILTERED_FIELDS,
  loadConfig,
  startStoreService,
  type StoreService,
} from '@tasks/task-store-service';
import { testDatabaseServer, testLogLevel } from './env.js';

export interface StoreFixture {
  service: StoreService;
  /** The store's JSON-RPC endpoint. */
  url: string;
  /** A client of the test's own (the store's first RPC token), for arranging data and checking results. */
  client: TaskStoreClient;
  /** The store's database, for checks of what the API does not show. */
  db: Db;
  mongoUrl: string;
  dbName: string;
  /** Stops the store only (the database stays, for another store to start on). */
  stop(): Promise<void>;
  /** Stops the store and gives its database back, emptied, for the next test (dev-mongo's test-databases.ts). */
  close(): Promise<void>;
}

export const noopType: TaskTypeDefinition = {
  type: 'test.noop',
  kind: 'io',
  description: 'does nothing',
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
  const server = testDatabaseServer();
  const mongoUrl = server.url;
  // Prepared as make start does (FerretDB on PostgreSQL gets the indexes its pushed-down filters
  // use), and reused emptied by the next test. A store on another fixture's database leaves it to that one.
  const owned = options.dbName === undefined;
  const dbName = options.dbName ?? (await takeTestDatabase(server, EQUALITY_FILTERED_FIELDS));
  const config = loadConfig({ MONGO_URL: mongoUrl, MONGO_DB: dbName, PORT: '0', ...env });
  const service = await startStoreService(config, createLogger(testLogLevel()));
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
    url: service.url,
    client,
    db,
    mongoUrl,
    dbName,
    stop,
    close: () =>
      (closed ??= (async () => {
        await stop();
        await mongo.close();
        if (owned) await releaseTestDatabase(dbName);
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

/** Every task tasks.list returns for `params`, following nextCursor page after page. */
export async function pageAll(f: Pick<StoreFixture, 'client'>, params: ListParams): Promise<TaskSummary[]> {
  const seen: TaskSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await f.client.call('tasks.list', { ...params, ...(cursor && { cursor }) });
    seen.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return seen;
}
