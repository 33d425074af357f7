/**
 * The frame of a store benchmark run as a child script: it provisions the MongoDB-wire server,
 * hands the body a fresh database and a client, then drops the database and stops the server
 * however the body ends. A failure is printed with its stack and sets the exit code. Also the
 * task types those scripts register.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { TaskStoreClient } from '@tasks/contracts';
import { provisionMongo, type MongoHandle } from '@tasks/dev-mongo';

export interface ScratchDatabase {
  handle: MongoHandle;
  /** `<prefix>_<12 hex>`, dropped when the body ends. */
  database: string;
  mongo: MongoClient;
}

export function runWithScratchDatabase(prefix: string, body: (s: ScratchDatabase) => Promise<void>): void {
  const run = async (): Promise<void> => {
    const handle = await provisionMongo({ log: (l) => process.stderr.write(`dev-mongo: ${l}\n`) });
    const database = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const mongo = new MongoClient(handle.url);
    try {
      await body({ handle, database, mongo });
    } finally {
      await mongo
        .db(database)
        .dropDatabase()
        .catch(() => undefined);
      await mongo.close();
      await handle.stop();
    }
  };
  run().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}

/** Registers `types` as io types taking any object payload (5 s timeout, one attempt), as the scripts' worker. */
export async function registerIoTypes(client: TaskStoreClient, types: readonly string[]): Promise<void> {
  await client.call('taskTypes.register', {
    workerId: 'bench',
    types: types.map((type) => ({
      type,
      kind: 'io' as const,
      payloadSchema: { type: 'object' },
      timeoutMs: 5_000,
      maxAttempts: 1,
    })),
  });
}
