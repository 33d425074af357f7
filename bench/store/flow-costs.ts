/**
 * What flows cost the store, per node, next to a plain task doing the same work: JSON-RPC calls
 * and database operations (the store's task_store_db_commands_total) for create → claim →
 * complete of every node, for plain tasks, chains, fan-ins collected by one node, and diamonds.
 * Counts, not times: they do not depend on the machine. One store in this process, its own
 * database (dropped at the end), on the MongoDB-wire server dev-mongo provisions (MONGO_URL when
 * set). The table goes to stdout; docs/flows.md holds the last one.
 *
 *   npx tsx --conditions=source bench/store/flow-costs.ts [--nodes=200]
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { TaskStoreClient, type FlowNodeSpec } from '@tasks/contracts';
import { prepareDatabase, provisionMongo } from '@tasks/dev-mongo';
import {
  createLogger,
  EQUALITY_FILTERED_FIELDS,
  loadConfig,
  startStoreService,
} from '@tasks/task-store-service';
import { round } from './measure.js';
import { BENCH_TYPE } from './throughput.js';

const NODES = Number(/^--nodes=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 200);

/** One flow's nodes for each shape; `size` nodes per flow. */
const SHAPES: Record<string, { size: number; nodes: () => FlowNodeSpec[] }> = {
  'chain of 4': {
    size: 4,
    nodes: () => ['a', 'b', 'c', 'd'].map((key, i, all) => node(key, i === 0 ? [] : [all[i - 1]!])),
  },
  'fan-in: 4 → 1': {
    size: 5,
    nodes: () => [...['a', 'b', 'c', 'd'].map((k) => node(k)), node('all', ['a', 'b', 'c', 'd'])],
  },
  'diamond (a → b, c → d)': {
    size: 4,
    nodes: () => [node('a'), node('b', ['a']), node('c', ['a']), node('d', ['b', 'c'])],
  },
};

function node(key: string, dependsOn: string[] = []): FlowNodeSpec {
  return { key, type: BENCH_TYPE.type, payload: {}, dependsOn };
}

async function dbCommands(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('task_store_db_commands_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

async function main(): Promise<void> {
  const mongo = await provisionMongo({ log: (l) => console.error(`dev-mongo: ${l}`) });
  const db = `flow_costs_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await prepareDatabase(mongo, db, EQUALITY_FILTERED_FIELDS);
  const store = await startStoreService(
    loadConfig({ MONGO_URL: mongo.url, MONGO_DB: db, PORT: '0' }),
    createLogger('warn'),
  );
  const metricsUrl = store.url.replace(/\/rpc$/, '/metrics');
  let calls = 0;
  const client = new TaskStoreClient({ url: store.url });
  const call: TaskStoreClient['call'] = (method, params) => {
    calls++;
    return client.call(method, params);
  };
  const run = async (id: string) => {
    const t = await call('tasks.claim', { id, workerId: 'bench', leaseMs: 60_000 });
    return call('tasks.complete', { id, leaseId: t.leaseId!, result: { id } });
  };
  try {
    await client.call('taskTypes.register', { workerId: 'bench', types: [BENCH_TYPE] });
    const rows: { shape: string; nodes: number; calls: number; ops: number }[] = [];
    const measure = async (shape: string, body: () => Promise<number>) => {
      const [ops0, calls0] = [await dbCommands(metricsUrl), calls];
      const nodes = await body();
      const [ops1, calls1] = [await dbCommands(metricsUrl), calls];
      rows.push({ shape, nodes, calls: (calls1 - calls0) / nodes, ops: (ops1 - ops0) / nodes });
    };
    await measure('plain tasks (no flow)', async () => {
      for (let i = 0; i < NODES; i++) {
        const { task } = await call('tasks.create', { type: BENCH_TYPE.type, payload: {} });
        await run(task.id);
      }
      return NODES;
    });
    for (const [shape, { size, nodes }] of Object.entries(SHAPES)) {
      await measure(shape, async () => {
        const flows = Math.max(1, Math.round(NODES / size));
        for (let i = 0; i < flows; i++) {
          const { queued } = await call('flows.create', { nodes: nodes() });
          // Run what is due, then what that made due, until the flow has ended.
          let due = queued.map((t) => t.id);
          while (due.length > 0) {
            const next: string[] = [];
            for (const id of due) {
              const moved = (await run(id)).dependents ?? [];
              next.push(...moved.filter((t) => t.status === 'queued').map((t) => t.id));
            }
            due = next;
          }
        }
        return flows * size;
      });
    }
    console.log('| shape | nodes | store calls per node | database operations per node |');
    console.log('| ----- | ----: | -------------------: | ---------------------------: |');
    for (const r of rows)
      console.log(`| ${r.shape} | ${r.nodes} | ${round(r.calls, 2)} | ${round(r.ops, 2)} |`);
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

await main();
