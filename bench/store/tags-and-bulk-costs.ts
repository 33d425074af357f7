/**
 * What tags, metadata and bulk actions cost the store per task (docs/tags-and-bulk-actions.md):
 * JSON-RPC calls and database operations for create → claim → complete with and without labels,
 * a list page by tag, and a bulk cancel or retry (one tasks.bulkAction call per page of 100),
 * against single cancels and retries. Counted as in cost-harness.ts; the table goes to stdout.
 *
 *   npx tsx --conditions=source bench/store/tags-and-bulk-costs.ts [--tasks=200]
 */
import type { Task } from '@tasks/contracts';
import { costTable, withCostHarness } from './cost-harness.js';
import { BENCH_TYPE } from './throughput.js';

const TASKS = Number(/^--tasks=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 200);
const type = BENCH_TYPE.type;
const LABELS = { tags: ['bench', 'nightly'], metadata: { customer: 'c-42', run: '7' } };

await withCostHarness('tags_bulk_costs', async ({ call, measure, rows }) => {
  const create = async (extra: object = {}) =>
    (await call('tasks.create', { type, payload: {}, ...extra })).task;
  const claim = (id: string) => call('tasks.claim', { id, type, workerId: 'bench', leaseMs: 60_000 });
  const complete = (t: Task) => call('tasks.complete', { id: t.id, leaseId: t.leaseId! });
  const oneByOne = async (extra: object = {}) => {
    for (let i = 0; i < TASKS; i++) await complete(await claim((await create(extra)).id));
    return TASKS;
  };
  const createMany = async (tag: string) => {
    const { tasks } = await call('tasks.createMany', {
      tasks: Array.from({ length: TASKS }, () => ({ type, payload: {}, tags: [tag] })),
    });
    return tasks;
  };
  const bulk = async (action: 'cancel' | 'retry', tag: string, dryRun = false) => {
    let cursor: string | undefined;
    let matched = 0;
    do {
      const page = await call('tasks.bulkAction', {
        action,
        filter: { tag },
        dryRun,
        ...(cursor && { cursor }),
      });
      matched += page.matched;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return matched;
  };

  await measure('create → claim → complete, no labels', () => oneByOne());
  await measure('create → claim → complete, 2 tags + 2 metadata', () => oneByOne(LABELS));
  await measure('list pages of 50 by tag (per task listed)', async () => {
    let cursor: string | undefined;
    let n = 0;
    do {
      const page = await call('tasks.list', {
        tags: ['bench'],
        metadata: { customer: 'c-42' },
        ...(cursor && { cursor }),
      });
      n += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return n;
  });
  const single = await createMany('single');
  await measure('tasks.cancel one by one', async () => {
    for (const t of single) await call('tasks.cancel', { id: t.id });
    return single.length;
  });
  await measure('tasks.retry one by one', async () => {
    for (const t of single) await call('tasks.retry', { id: t.id });
    return single.length;
  });
  await createMany('bulk');
  await measure('bulk cancel, dryRun', () => bulk('cancel', 'bulk', true));
  await measure('bulk cancel', () => bulk('cancel', 'bulk'));
  await measure('bulk retry', () => bulk('retry', 'bulk'));
  await measure('bulk retry again (nothing matches)', async () => {
    await bulk('retry', 'bulk');
    return TASKS; // per task of the set, for comparison
  });
  console.log(costTable(rows, 'case'));
});
