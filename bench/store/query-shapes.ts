/**
 * Store reads at N stored tasks (default 20,000), through the real JSON-RPC client: tasks.get,
 * a list page by status+type (first and second page), tasks.listUnpublished, tasks.changes (a
 * resuming event stream's replay). Prints medians.
 * The store runs in this process against its own database on the provisioned server.
 *
 *   npx tsx --conditions=source bench/store/query-shapes.ts [--tasks N] [--untuned]
 * --untuned: skip dev-mongo's prepareDatabase (FerretDB without the GIN indexes).
 */
import { TaskStoreClient } from '@tasks/contracts';
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
const TASKS = Number(arg('--tasks') ?? 20_000);
const UNTUNED = process.argv.includes('--untuned');
const SAMPLES = 15;
const TYPES = ['bench.a', 'bench.b', 'bench.c', 'bench.d'];
const KEEP_IN_OUTBOX = 500; // a backlog of unpublished tasks, as after a broker outage

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]! * 10) / 10;
}

async function timed(samples: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  await call(-1); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await call(i);
    ms.push(performance.now() - t0);
  }
  return ms;
}

runWithScratchDatabase('bench_shapes', async ({ handle, database, mongo }) => {
  if (!UNTUNED) await prepareDatabase(handle, database, EQUALITY_FILTERED_FIELDS);
  const store = await startStoreService(
    loadConfig({ MONGO_URL: handle.url, MONGO_DB: database, PORT: '0', HOST: '127.0.0.1' }),
    createLogger('silent'),
  );
  const client = new TaskStoreClient({ url: store.url, retries: 0 });
  await registerIoTypes(client, TYPES);
  const ids: string[] = [];
  const t0 = performance.now();
  for (let n = 0; n < TASKS; n += 1_000) {
    const tasks = Array.from({ length: Math.min(1_000, TASKS - n) }, (_, k) => ({
      type: TYPES[(n + k) % TYPES.length]!,
      payload: { n: n + k },
    }));
    const r = await client.call('tasks.createMany', { tasks }, { timeoutMs: 300_000 });
    ids.push(...r.tasks.map((t) => t.id));
  }
  const fillS = (performance.now() - t0) / 1000;
  // The publisher has caught up except for the newest KEEP_IN_OUTBOX tasks.
  const published = ids.slice(0, ids.length - KEEP_IN_OUTBOX).map((id) => `${id}:1`);
  const outbox = mongo.db(database).collection<{ _id: string }>('task_outbox');
  for (let i = 0; i < published.length; i += 2_000) {
    await outbox.deleteMany({ _id: { $in: published.slice(i, i + 2_000) } });
  }

  const pick = (i: number) => ids[(i * 7919 + 13) % ids.length]!;
  const get = await timed(SAMPLES, (i) => client.call('tasks.get', { id: pick(i + 1) }));
  let cursor: string | null = null;
  const listFirst = await timed(SAMPLES, async () => {
    const page = await client.call('tasks.list', { status: 'queued', type: 'bench.b', limit: 50 });
    cursor = page.nextCursor;
  });
  const listNext = await timed(SAMPLES, () =>
    client.call('tasks.list', {
      status: 'queued',
      type: 'bench.b',
      limit: 50,
      cursor: cursor ?? undefined,
    }),
  );
  const unpublished = await timed(5, () =>
    client.call('tasks.listUnpublished', { olderThanMs: 0, limit: 50 }, { timeoutMs: 120_000 }),
  );
  // A resuming event stream: what changed in the last second, after 20 new tasks. It reads every
  // task changed in the minutes it covers (the fill's, here): its cost grows with recent
  // activity, not with history.
  const recentCreate = await client.call('tasks.createMany', {
    tasks: Array.from({ length: 20 }, (_, k) => ({ type: TYPES[0]!, payload: { k } })),
  });
  const recentSince = new Date(Date.parse(recentCreate.tasks[0]!.updatedAt) - 1000).toISOString();
  const changes = await timed(5, () =>
    client.call('tasks.changes', { since: recentSince, limit: 10_000 }, { timeoutMs: 120_000 }),
  );
  const changed = (await client.call('tasks.changes', { since: recentSince, limit: 10_000 })).items.length;
  const line = {
    server: handle.server,
    tuned: !UNTUNED,
    tasks: TASKS,
    fillTasksPerS: Math.round(TASKS / fillS),
    getMs: median(get),
    listStatusTypeFirstMs: median(listFirst),
    listStatusTypeNextMs: median(listNext),
    listUnpublished50Ms: median(unpublished),
    changesLastSecondMs: median(changes),
    changesLastSecondTasks: changed,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  await store.close();
});
