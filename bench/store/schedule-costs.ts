/**
 * What schedules cost the store: database operations (the store's task_store_db_commands_total)
 * of the schedule keepers while idle, and per tick fired, with one store and with two on one
 * database (both try each tick; its idempotency key lets one create the task). No JSON-RPC call
 * is made per tick: the keeper runs inside the store. Counts, not times. One or two stores in
 * this process, their own database (dropped at the end). The table goes to stdout;
 * docs/schedules.md holds the last one.
 *
 *   npx tsx --conditions=source bench/store/schedule-costs.ts [--seconds=20]
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { TaskStoreClient } from '@tasks/contracts';
import { prepareDatabase, provisionMongo } from '@tasks/dev-mongo';
import {
  createLogger,
  EQUALITY_FILTERED_FIELDS,
  loadConfig,
  startStoreService,
  type StoreService,
} from '@tasks/task-store-service';
import { round } from '../lib/measure.js';
import { BENCH_TYPE } from './throughput.js';

const SECONDS = Number(/^--seconds=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Database operations so far, by collection, summed over the stores. */
async function dbCommands(stores: StoreService[]): Promise<Map<string, number>> {
  const byCollection = new Map<string, number>();
  for (const s of stores) {
    const text = await (await fetch(s.url.replace(/\/rpc$/, '/metrics'))).text();
    for (const line of text.split('\n')) {
      const m = /^task_store_db_commands_total\{([^}]*)\} (\S+)$/.exec(line);
      if (!m) continue;
      const collection = /collection="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
      byCollection.set(collection, (byCollection.get(collection) ?? 0) + Number(m[2]));
    }
  }
  return byCollection;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const mongo = await provisionMongo({ log: (l) => console.error(`dev-mongo: ${l}`) });
  const db = `schedule_costs_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await prepareDatabase(mongo, db, EQUALITY_FILTERED_FIELDS);
  const config = loadConfig({ MONGO_URL: mongo.url, MONGO_DB: db, PORT: '0' });
  const stores = [await startStoreService(config, createLogger('warn'))];
  const client = new TaskStoreClient({ url: stores[0]!.url });
  const admin = new MongoClient(mongo.url);
  const tasks = admin.db(db).collection('tasks');
  const rows: string[] = [];
  /** Runs `seconds` and reports the store operations per second and per task created. */
  const measure = async (what: string, seconds: number) => {
    const [ops0, tasks0] = [await dbCommands(stores), await tasks.countDocuments({})];
    await sleep(seconds * 1000);
    const [ops1, tasks1] = [await dbCommands(stores), await tasks.countDocuments({})];
    const ops = total(ops1) - total(ops0);
    const fired = tasks1 - tasks0;
    const byCollection = [...ops1]
      .map(([c, n]) => [c, n - (ops0.get(c) ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .map(([c, n]) => `${c || '-'} ${round(fired > 0 ? n / fired : n / seconds, 2)}`)
      .join(', ');
    rows.push(
      `| ${what} | ${stores.length} | ${fired} | ${round(ops / seconds, 2)} | ${fired > 0 ? round(ops / fired, 2) : '-'} | ${byCollection} |`,
    );
  };
  try {
    await client.call('taskTypes.register', { workerId: 'bench', types: [BENCH_TYPE] });
    await measure('no schedule', 10);
    const s = await client.call('schedules.create', {
      name: 'bench',
      cron: '* * * * * *',
      task: { type: BENCH_TYPE.type, payload: {} },
      overlap: 'allow',
    });
    await sleep(1_500);
    await measure('one schedule, every second', SECONDS);
    stores.push(await startStoreService(config, createLogger('warn')));
    await sleep(1_500);
    await measure('one schedule, every second', SECONDS);
    await client.call('schedules.update', { id: s.id, paused: true });
    await sleep(1_500);
    await measure('one paused schedule', 10);
    console.log(
      '| keepers | stores | tasks created | database operations per second | per task created | by collection (per task, or per second) |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | --- |');
    for (const r of rows) console.log(r);
  } finally {
    for (const s of stores) await s.close();
    await admin
      .db(db)
      .dropDatabase()
      .finally(() => admin.close());
    await mongo.stop();
  }
}

await main();
