/**
 * tasks.stats at N stored tasks (default 30,000): the kept counts (docs/stats.md) against the
 * queries tasks.stats ran before them (a $group over every task and two range counts), and what
 * keeping the counts costs: the start-up recount of a database without a base, and the
 * task_counts writes per task while tasks change.
 *
 *   npx tsx --conditions=source bench/store/stats-latency.ts [--tasks 30000] [--changes 1000]
 *
 * Prints one JSON line. Figures depend on the machine's load: take them on a quiet machine.
 */
import { randomUUID } from 'node:crypto';
import { TaskStoreClient, type TaskStatus } from '@tasks/contracts';
import { prepareDatabase } from '@tasks/dev-mongo';
import { registerIoTypes, runWithScratchDatabase } from '../lib/scratch-database.js';
import {
  createLogger,
  EQUALITY_FILTERED_FIELDS,
  loadConfig,
  startStoreService,
} from '@tasks/task-store-service';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const TASKS = Number(arg('--tasks') ?? 30_000);
const CHANGES = Number(arg('--changes') ?? 1_000);
const SAMPLES = 15;
const TYPES = ['bench.a', 'bench.b', 'bench.c', 'bench.d'];
const STATUSES: TaskStatus[] = [
  'succeeded',
  'succeeded',
  'succeeded',
  'failed',
  'cancelled',
  'queued',
  'running',
];

const median = (xs: number[]) =>
  Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! * 10) / 10;

async function timed(samples: number, call: () => Promise<unknown>): Promise<number[]> {
  await call(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await call();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** A stored task as the store writes it, in a finished or waiting state, with its history. */
function storedTask(i: number, now: number) {
  const status = STATUSES[i % STATUSES.length]!;
  const created = new Date(now - 3_600_000 + i);
  const finished = status === 'succeeded' || status === 'failed' || status === 'cancelled';
  const history = [{ status: 'queued', at: created, by: 'create', attempt: 0 }];
  if (status !== 'queued') history.push({ status: 'running', at: created, by: 'bench', attempt: 1 });
  if (finished) history.push({ status, at: created, by: 'bench', attempt: 1 });
  return {
    _id: randomUUID(),
    type: TYPES[i % TYPES.length]!,
    kind: 'io',
    payloadJson: JSON.stringify({ n: i, text: 'x'.repeat(100) }),
    status,
    priority: 0,
    attempts: status === 'queued' ? 0 : 1,
    maxAttempts: 3,
    timeoutMs: 5_000,
    runAt: created,
    idempotencyKey: null,
    resultJson: status === 'succeeded' ? JSON.stringify({ ok: true, n: i }) : null,
    error: status === 'failed' ? { code: 'E', message: 'failed' } : null,
    progress: null,
    progressMessage: null,
    leaseOwner: status === 'running' ? 'bench' : null,
    leaseId: status === 'running' ? randomUUID() : null,
    leaseExpiresAt: status === 'running' ? new Date(now + 3_600_000) : null,
    createdAt: created,
    updatedAt: created,
    startedAt: status === 'queued' ? null : created,
    finishedAt: finished ? created : null,
    history,
    version: history.length,
  };
}

runWithScratchDatabase('bench_stats', async ({ handle, database, mongo }) => {
  await prepareDatabase(handle, database, EQUALITY_FILTERED_FIELDS);
  const db = mongo.db(database);
  const tasks = db.collection('tasks');
  const now = Date.now();
  for (let n = 0; n < TASKS; n += 2_000) {
    const docs = Array.from({ length: Math.min(2_000, TASKS - n) }, (_, k) => storedTask(n + k, now));
    await tasks.insertMany(docs as never[], { ordered: false });
  }
  await prepareDatabase(handle, database, EQUALITY_FILTERED_FIELDS); // indexes on the now-filled tables

  // Before: the queries tasks.stats ran until the counts were kept.
  const scan = await timed(3, async () => {
    await tasks
      .aggregate([{ $group: { _id: { status: '$status', type: '$type' }, n: { $sum: 1 } } }])
      .toArray();
    const since = new Date(Date.now() - 60_000);
    await Promise.all(
      ['succeeded', 'failed'].map((status) => tasks.countDocuments({ status, finishedAt: { $gte: since } })),
    );
  });

  // An upgraded database: no base yet, so the store recounts once at start-up.
  const t0 = performance.now();
  const store = await startStoreService(
    loadConfig({ MONGO_URL: handle.url, MONGO_DB: database, PORT: '0', HOST: '127.0.0.1' }),
    createLogger('silent'),
  );
  const counts = db.collection<{ _id: string; role: string; version: number }>('task_counts');
  while (!(await counts.findOne({ _id: 'base' }))) await new Promise((r) => setTimeout(r, 50));
  const firstRecountS = (performance.now() - t0) / 1000;

  const client = new TaskStoreClient({ url: store.url, retries: 0, timeoutMs: 120_000 });
  const kept = await timed(SAMPLES, () => client.call('tasks.stats', {}));

  // What keeping the counts writes while tasks change: create, claim and complete CHANGES tasks.
  await registerIoTypes(client, TYPES);
  const writerVersion = async () =>
    (await counts.find({ role: 'writer' }).toArray()).reduce((sum, w) => sum + w.version, 0);
  const v0 = await writerVersion();
  const c0 = performance.now();
  for (let n = 0; n < CHANGES; n += 100) {
    const r = await client.call('tasks.createMany', {
      tasks: Array.from({ length: 100 }, (_, k) => ({
        type: TYPES[k % TYPES.length]!,
        payload: { n: n + k },
      })),
    });
    await Promise.all(
      r.tasks.map(async (t) => {
        const claimed = await client.call('tasks.claim', { id: t.id, workerId: 'bench', leaseMs: 60_000 });
        await client.call('tasks.complete', { id: t.id, leaseId: claimed.leaseId! });
      }),
    );
  }
  const changeS = (performance.now() - c0) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  const writes = (await writerVersion()) - v0;
  const recount = await client.call('tasks.recount', {});
  await store.close();
  process.stdout.write(
    `${JSON.stringify({
      server: handle.server,
      tasks: TASKS,
      scanStatsMs: median(scan),
      keptStatsMs: median(kept),
      keptStatsP90Ms: Math.round([...kept].sort((a, b) => a - b)[Math.floor(kept.length * 0.9)]! * 10) / 10,
      firstRecountS: Math.round(firstRecountS * 10) / 10,
      recountMs: recount.ms,
      tasksChanged: CHANGES,
      changeSeconds: Math.round(changeS * 10) / 10,
      countWrites: writes,
      countWritesPerTask: Math.round((writes / CHANGES) * 1000) / 1000,
      countWritesPerSecond: Math.round((writes / changeS) * 10) / 10,
      extraRoundTripsPerTask: 0,
    })}\n`,
  );
});
