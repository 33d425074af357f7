/**
 * List page latency against history (docs/list-pages.md): p50 of tasks.list (limit 50) through the
 * store's real JSON-RPC client for each filter shape — none, status only, type only, status+type,
 * and tag and metadata filters alone and with status —
 * on the first page and five pages deep, at each size (default 32,000 then 64,000 stored tasks).
 * The store runs in this process against its own database on the provisioned server (FerretDB
 * here), tuned by dev-mongo as `make start` tunes it.
 *
 *   npx tsx --conditions=source bench/store/list-pages.ts [--sizes 32000,64000] [--spacing-ms 1000]
 *
 * Tasks are written straight into the collection with insertMany (1,000 per call), in the store's
 * document shape (bench/lib/task-doc.ts) with their bucket-tree nodes, as a history:
 * one task every --spacing-ms before now (1,000: ten per 10-s bucket, 32,000 tasks span 9 hours;
 * 1: a burst of 1,000 tasks/s, 10,000 per bucket). 60 % succeeded, 20 % failed, 10 % cancelled,
 * 10 % queued; four types in turn. Prints one JSON line per size; writes no file.
 */
import { TaskStoreClient, type ListParams } from '@tasks/contracts';
import { prepareDatabase } from '@tasks/dev-mongo';
import { runWithScratchDatabase } from '../lib/scratch-database.js';
import {
  createLogger,
  EQUALITY_FILTERED_FIELDS,
  hourLabel,
  labelsOf,
  loadConfig,
  startStoreService,
  type BucketNodeDoc,
} from '@tasks/task-store-service';
import { endedDoc, queuedDoc, recordBuckets, type BenchTaskDoc } from '../lib/task-doc.js';
import { round, spread } from '../lib/measure.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SIZES = (arg('--sizes') ?? '32000,64000').split(',').map(Number);
const SPACING_MS = Number(arg('--spacing-ms') ?? 1_000);
const SAMPLES = Number(arg('--samples') ?? 11);
const TYPES = ['bench.list.t0', 'bench.list.t1', 'bench.list.t2', 'bench.list.t3'];
const BATCH = 1_000;
const DEEP_PAGE = 5;

const SHAPES: Record<string, ListParams> = {
  none: {},
  status: { status: 'failed' },
  type: { type: 'bench.list.t1' },
  statusType: { status: 'failed', type: 'bench.list.t1' },
  // Tags and metadata (docs/tags-and-bulk-actions.md): one label equality, the rest checked on its rows.
  tag: { tags: ['half'] },
  tagSparse: { tags: ['rare'] },
  tagStatus: { tags: ['half'], status: 'failed' },
  metadata: { metadata: { customer: 'c-3' } },
  tagMetadata: { tags: ['half'], metadata: { customer: 'c-4' } },
};

/**
 * Task i, counted back from now: the mix of list-scaling.ts, tagged `half` or `other` in turn
 * (and `rare`, one in twenty), with metadata `customer` = c-0 … c-9 in turn.
 */
function doc(i: number, now: number): BenchTaskDoc {
  const createdAt = new Date(now - (i + 1) * SPACING_MS);
  const type = TYPES[i % TYPES.length]!;
  const k = Math.floor(i / TYPES.length) % 10;
  const d =
    k === 9
      ? queuedDoc(type, createdAt, { n: i })
      : endedDoc(type, createdAt, k < 6 ? 'succeeded' : k < 8 ? 'failed' : 'cancelled');
  d.tags = [i % 2 === 0 ? 'half' : 'other', ...(i % 20 === 7 ? ['rare'] : [])];
  d.metadata = { customer: `c-${i % 10}` };
  d.labels = labelsOf(d.tags, d.metadata);
  d.hourLabels = d.labels.map((l) => hourLabel(d.hour!, l));
  return d;
}

runWithScratchDatabase('bench_lists', async ({ handle, database, mongo }) => {
  await prepareDatabase(handle, database, EQUALITY_FILTERED_FIELDS);
  const store = await startStoreService(
    loadConfig({ MONGO_URL: handle.url, MONGO_DB: database, PORT: '0', HOST: '127.0.0.1' }),
    createLogger('silent'),
  );
  const client = new TaskStoreClient({ url: store.url, retries: 0, timeoutMs: 120_000 });
  const tasks = mongo.db(database).collection<BenchTaskDoc>('tasks');
  const nodes = mongo.db(database).collection<BucketNodeDoc>('task_buckets');
  // Older tasks are added at each size: the newest stay where they are, history grows behind them.
  const now = Date.now();
  let stored = 0;
  for (const size of SIZES) {
    const t0 = performance.now();
    for (let start = stored; start < size; start += BATCH) {
      const docs = Array.from({ length: Math.min(BATCH, size - start) }, (_, k) => doc(start + k, now));
      await recordBuckets(nodes, docs);
      await tasks.insertMany(docs, { ordered: false });
    }
    const fillSeconds = round((performance.now() - t0) / 1000);
    stored = size;
    const pages: Record<string, { page1Ms: number; page5Ms: number; range1: string; range5: string }> = {};
    for (const [name, filter] of Object.entries(SHAPES)) {
      const first: number[] = [];
      const deep: number[] = [];
      for (let s = -1; s < SAMPLES; s++) {
        let cursor: string | undefined;
        for (let p = 1; p <= DEEP_PAGE; p++) {
          const p0 = performance.now();
          const page = await client.call('tasks.list', { ...filter, limit: 50, ...(cursor && { cursor }) });
          const ms = performance.now() - p0;
          if (s >= 0 && p === 1) first.push(ms);
          if (s >= 0 && p === DEEP_PAGE) deep.push(ms);
          if (page.items.length !== 50) throw new Error(`${name}: page ${p} had ${page.items.length} items`);
          cursor = page.nextCursor ?? undefined;
        }
      }
      const a = spread(first);
      const b = spread(deep);
      pages[name] = {
        page1Ms: round(a.median),
        page5Ms: round(b.median),
        range1: `${round(a.min)}–${round(a.max)}`,
        range5: `${round(b.min)}–${round(b.max)}`,
      };
    }
    const line = { server: handle.server, stored: size, spacingMs: SPACING_MS, fillSeconds, pages };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  await store.close();
});
