/** A real task store on a free port with a database of its own, given back emptied on close. */
import { createServer } from 'node:net';
import { releaseTestDatabase, takeTestDatabase } from '@tasks/dev-mongo';
import { TaskStoreClient, type TaskTypeDefinition } from '@tasks/contracts';
import {
  createLogger,
  EQUALITY_FILTERED_FIELDS,
  loadConfig,
  startStoreService,
} from '@tasks/task-store-service';

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

export interface StoreFixture {
  url: string;
  /** A client of the test's own, for arranging data and checking what tasksctl did. */
  client: TaskStoreClient;
  mongoUrl: string;
  dbName: string;
  close(): Promise<void>;
}

export async function startStore(env: Record<string, string> = {}): Promise<StoreFixture> {
  const mongoUrl = process.env.MONGO_URL;
  if (!mongoUrl)
    throw new Error('MONGO_URL is not set: run the tests through mocha (a root hook provisions it)');
  const dbName = await takeTestDatabase(
    { url: mongoUrl, postgresqlUrl: process.env.DEV_MONGO_POSTGRESQL_URL },
    EQUALITY_FILTERED_FIELDS,
  );
  const service = await startStoreService(
    loadConfig({ MONGO_URL: mongoUrl, MONGO_DB: dbName, PORT: '0', ...env }),
    createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  );
  const client = new TaskStoreClient({ url: service.url, token: env.RPC_TOKEN, retries: 0 });
  await client.call('taskTypes.register', { workerId: 'fixture', types: [noopType] });
  return {
    url: service.url,
    client,
    mongoUrl,
    dbName,
    async close() {
      await service.close();
      await releaseTestDatabase(dbName);
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
