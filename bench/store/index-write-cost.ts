/**
 * What the task table's indexes cost each write on FerretDB on PostgreSQL: the same task writes
 * (an insertMany of 100 queued tasks, then per task the claim and the outcome, each an updateOne
 * by _id and version, 8 at a time) into a table with 10,000 tasks of history, once with the
 * indexes the store kept before (dev-mongo's GIN indexes and the MongoDB indexes TASK_INDEXES,
 * which FerretDB makes as btree indexes its SQL cannot use) and once with what ensureIndexes
 * keeps now (the GIN indexes only). The two alternate, `--rounds` times each; CPU per task of
 * PostgreSQL (every backend), FerretDB and this process, and tasks per second. Needs FerretDB on
 * PostgreSQL (what provisionMongo gives here). The table goes to stdout.
 *
 *   npx tsx --conditions=source bench/store/index-write-cost.ts [--tasks=3000] [--rounds=2]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { prepareDatabase, provisionMongo } from '@tasks/dev-mongo';
import { EQUALITY_FILTERED_FIELDS, TASK_INDEXES, type TaskDoc } from '@tasks/task-store-service';
import { table } from '../lib/markdown.js';
import { round, spread } from '../lib/measure.js';
import { childPidsByName, cpuMeter, pidsByName } from '../lib/processes.js';
import { queuedDoc } from '../lib/task-doc.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '2' },
  },
});
const N = Number(values.tasks);
const ROUNDS = Number(values.rounds);
const HISTORY = 10_000;
const C = 8;
const say = (line: string) => process.stderr.write(`[index-write-cost] ${line}\n`);

const mongo = await provisionMongo({ log: (l) => say(`dev-mongo: ${l}`) });
if (mongo.postgresqlUrl === undefined) {
  say('needs FerretDB on PostgreSQL (the btree indexes in question are PostgreSQL indexes)');
  await mongo.stop();
  process.exit(2);
}
const client = new MongoClient(mongo.url, { maxPoolSize: 20 });

interface Sample {
  perSecond: number;
  postgresql: number;
  ferretdb: number;
  driver: number;
}

/** One round: a fresh database indexed as `withBtree` says, history written, then N tasks' writes metered. */
async function measure(withBtree: boolean): Promise<Sample> {
  const dbName = `index_cost_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const db = client.db(dbName);
  try {
    await prepareDatabase(mongo, dbName, EQUALITY_FILTERED_FIELDS);
    const tasks = db.collection<TaskDoc>('tasks');
    if (withBtree) await tasks.createIndexes(TASK_INDEXES);
    for (let i = 0; i < HISTORY; i += 500)
      await tasks.insertMany(Array.from({ length: 500 }, () => queuedDoc('bench.history', new Date())));
    const docs = Array.from({ length: N }, () => queuedDoc('bench.noop', new Date()));
    const stop = await cpuMeter({
      ferretdb: childPidsByName('ferretdb'),
      postgresql: () => pidsByName('postgres'),
    });
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < N; i += 100) await tasks.insertMany(docs.slice(i, i + 100));
    let next = 0;
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (next < N) {
          const { _id } = docs[next++]!;
          const started = new Date();
          await tasks.updateOne(
            { _id, version: 1 },
            { $set: { version: 2, status: 'running', startedAt: started, updatedAt: started } },
          );
          const finished = new Date();
          await tasks.updateOne(
            { _id, version: 2 },
            { $set: { version: 3, status: 'succeeded', finishedAt: finished, updatedAt: finished } },
          );
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const cpu = await stop();
    const self = process.cpuUsage(self0);
    const msPerTask = (pct: number | null | undefined) => ((pct ?? NaN) / 100) * (cpu.wallMs / N);
    return {
      perSecond: (N / wallMs) * 1000,
      postgresql: msPerTask(cpu.byRole.postgresql),
      ferretdb: msPerTask(cpu.byRole.ferretdb),
      driver: (self.user + self.system) / 1000 / N,
    };
  } finally {
    await db.dropDatabase();
  }
}

try {
  await client.connect();
  const samples: Record<'before' | 'now', Sample[]> = { before: [], now: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of ['before', 'now'] as const) {
      const s = await measure(side === 'before');
      say(
        `${side}, round ${r + 1}: ${round(s.perSecond)} tasks/s; CPU ms per task: ` +
          `PostgreSQL ${round(s.postgresql, 2)}, FerretDB ${round(s.ferretdb, 2)}, driver ${round(s.driver, 2)}`,
      );
      samples[side].push(s);
    }
  }
  const cell = (xs: number[], digits: number) => {
    const s = spread(xs);
    return `${round(s.median, digits)} (${round(s.min, digits)}–${round(s.max, digits)})`;
  };
  const rows = (['before', 'now'] as const).map((side) => {
    const xs = samples[side];
    return [
      side === 'before' ? 'GIN + TASK_INDEXES (btree), as before' : 'GIN only, as ensureIndexes keeps now',
      cell(
        xs.map((x) => x.perSecond),
        0,
      ),
      cell(
        xs.map((x) => x.postgresql),
        2,
      ),
      cell(
        xs.map((x) => x.ferretdb),
        2,
      ),
      cell(
        xs.map((x) => x.driver),
        2,
      ),
    ];
  });
  process.stdout.write(
    `${N} tasks (insertMany of 100, then claim and outcome updates, ${C} at a time) over ${HISTORY} stored, ` +
      `${ROUNDS} rounds each side, alternating; median (min–max)\n\n` +
      table(
        [
          'task table indexes',
          'tasks/s',
          'PostgreSQL CPU ms/task',
          'FerretDB CPU ms/task',
          'driver CPU ms/task',
        ],
        rows,
        'lrrrr',
      ) +
      '\n',
  );
} finally {
  await client.close();
  await mongo.stop();
}
