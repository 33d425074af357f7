/**
 * What the cost benchmarks share: one store in this process on its own database (dropped at the
 * end) of the MongoDB-wire server dev-mongo provisions, a client that counts its JSON-RPC calls,
 * and the store's database-operation counter (task_store_db_commands_total). Counts, not times:
 * they do not depend on the machine.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { TaskStoreClient, type MethodName, type ParamsOf, type ResultOf } from '@tasks/contracts';
import { prepareDatabase, provisionMongo } from '@tasks/dev-mongo';
import {
  createLogger,
  EQUALITY_FILTERED_FIELDS,
  loadConfig,
  startStoreService,
} from '@tasks/task-store-service';
import { round } from '../lib/measure.js';
import { BENCH_TYPE } from './throughput.js';

export interface CostRow {
  case: string;
  tasks: number;
  calls: number;
  ops: number;
}

export interface CostHarness {
  /** Counts every call it makes. */
  call: <M extends MethodName>(method: M, params: ParamsOf<M>) => Promise<ResultOf<M>>;
  /** Calls and database operations of `body`, per task (it returns how many tasks it handled). */
  measure: (name: string, body: () => Promise<number>) => Promise<void>;
  rows: CostRow[];
  /** The store's database operations so far (on one collection, when named). */
  dbOps: (collection?: string) => Promise<number>;
}

async function dbCommands(metricsUrl: string, collection?: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('task_store_db_commands_total{'))
    .filter((l) => collection === undefined || l.includes(`collection="${collection}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** Runs `body` against a fresh store with BENCH_TYPE registered, then tears everything down. */
export async function withCostHarness(
  prefix: string,
  body: (h: CostHarness) => Promise<void>,
  /** More of the store's environment (e.g. a quick retention sweeper). */
  env: Record<string, string> = {},
): Promise<void> {
  const mongo = await provisionMongo({ log: (l) => console.error(`dev-mongo: ${l}`) });
  const db = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await prepareDatabase(mongo, db, EQUALITY_FILTERED_FIELDS);
  const store = await startStoreService(
    loadConfig({ MONGO_URL: mongo.url, MONGO_DB: db, PORT: '0', ...env }),
    createLogger('warn'),
  );
  const metricsUrl = store.url.replace(/\/rpc$/, '/metrics');
  let calls = 0;
  const client = new TaskStoreClient({ url: store.url });
  const call: CostHarness['call'] = (method, params) => {
    calls++;
    return client.call(method, params);
  };
  const rows: CostRow[] = [];
  const measure = async (name: string, run: () => Promise<number>) => {
    const [ops0, calls0] = [await dbCommands(metricsUrl), calls];
    const tasks = await run();
    const [ops1, calls1] = [await dbCommands(metricsUrl), calls];
    rows.push({ case: name, tasks, calls: (calls1 - calls0) / tasks, ops: (ops1 - ops0) / tasks });
  };
  try {
    await client.call('taskTypes.register', { workerId: 'bench', types: [BENCH_TYPE] });
    await body({ call, measure, rows, dbOps: (collection) => dbCommands(metricsUrl, collection) });
  } finally {
    await store.close();
    const admin = new MongoClient(mongo.url);
    await admin
      .db(db)
      .dropDatabase()
      .finally(() => admin.close());
    await mongo.stop();
  }
}

/** The rows as a Markdown table. */
export function costTable(rows: CostRow[], what: string): string {
  return [
    `| ${what} | tasks | store calls per task | database operations per task |`,
    '| ----- | ----: | -------------------: | ---------------------------: |',
    ...rows.map((r) => `| ${r.case} | ${r.tasks} | ${round(r.calls, 2)} | ${round(r.ops, 2)} |`),
  ].join('\n');
}
