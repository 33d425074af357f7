/**
 * The floor under the store's CPU per task on this machine: what one database command costs the
 * Node.js process that sends it, with nothing of the store around it. The official driver sends
 * `updateOne`, `findOne` by _id and `insertOne` to the MongoDB-wire server dev-mongo provisions
 * (its indexes, C callers at once), on documents shaped like tasks, and this process's CPU
 * (user + system) is divided by the commands sent. A plain task costs the store two conditional
 * updates (claim and complete) of its own, whatever else is shared, so twice the update's figure
 * is a lower bound for the store's CPU per task. The table goes to stdout.
 *
 *   npx tsx --conditions=source bench/store/driver-floor.ts [--n=4000] [--concurrency=8]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { prepareDatabase, provisionMongo } from '@tasks/dev-mongo';
import { EQUALITY_FILTERED_FIELDS } from '@tasks/task-store-service';
import { table } from '../lib/markdown.js';
import { round } from '../lib/measure.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '8' },
    monitor: { type: 'boolean', default: false },
  },
});
const N = Number(values.n);
const C = Number(values.concurrency);
const say = (line: string) => process.stderr.write(`[driver-floor] ${line}\n`);

interface Doc {
  _id: string;
  version: number;
  status: string;
  type: string;
  payload: object;
  createdAt: Date;
  updatedAt: Date;
  attempts: number;
  leaseId?: string;
}

const mongo = await provisionMongo({ log: (l) => say(`dev-mongo: ${l}`) });
const db = `driver_floor_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
await prepareDatabase(mongo, db, EQUALITY_FILTERED_FIELDS);
// As the store's client: a bounded pool, nothing else.
const client = new MongoClient(mongo.url, { maxPoolSize: 20, monitorCommands: values.monitor });
let commandsSeen = 0;
if (values.monitor) client.on('commandStarted', () => commandsSeen++);
const tasks = client.db(db).collection<Doc>('tasks');
const doc = (i: number): Doc => ({
  _id: `task-${i}`,
  version: 1,
  status: 'queued',
  type: 'bench.noop',
  payload: {},
  createdAt: new Date(),
  updatedAt: new Date(),
  attempts: 0,
});

/** CPU ms of this process per call of `op(i)`, i = 0 … N-1, C at a time; and calls per second. */
async function perCall(op: (i: number) => Promise<unknown>): Promise<{ cpuMs: number; perSecond: number }> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) await op(next++);
    }),
  );
  const used = process.cpuUsage(cpu0);
  return {
    cpuMs: (used.user + used.system) / 1000 / N,
    perSecond: (N / (performance.now() - t0)) * 1000,
  };
}

try {
  await client.connect();
  const rows: string[][] = [];
  const record = (name: string, r: { cpuMs: number; perSecond: number }) => {
    say(`${name}: ${round(r.cpuMs, 3)} ms CPU per command, ${round(r.perSecond)}/s`);
    rows.push([name, String(round(r.cpuMs, 3)), String(round(r.perSecond))]);
  };
  record('insertOne (a task)', await perCall((i) => tasks.insertOne(doc(i))));
  record(
    'updateOne by _id and version (a claim)',
    await perCall((i) =>
      tasks.updateOne(
        { _id: `task-${i}`, version: 1 },
        { $set: { version: 2, status: 'running', leaseId: randomUUID(), updatedAt: new Date() } },
      ),
    ),
  );
  record('findOne by _id', await perCall((i) => tasks.findOne({ _id: `task-${i}` })));
  process.stdout.write(
    `${N} commands each, ${C} at a time, one Node.js process (its CPU per command)\n\n` +
      table(['command', 'CPU ms per command', 'commands/s'], rows, 'lrr') +
      '\n',
  );
} finally {
  await client.db(db).dropDatabase();
  await client.close();
  await mongo.stop();
}
