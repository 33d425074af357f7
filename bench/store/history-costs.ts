/**
 * What keeping a task's whole history costs the store (docs/history.md): JSON-RPC calls and
 * database operations per task, and how many of those touch `task_history`, for an ordinary task,
 * for tasks that stay within HISTORY_LIMIT changes and for tasks far beyond it; then what reading
 * pages of the history costs. Counted as in cost-harness.ts; the table goes to stdout, and
 * docs/history.md holds the last one.
 *
 *   npx tsx --conditions=source bench/store/history-costs.ts [--tasks=20]
 */
import type { Task } from '@tasks/contracts';
import { round } from '../lib/measure.js';
import { withCostHarness } from './cost-harness.js';
import { BENCH_TYPE } from './throughput.js';

const TASKS = Number(/^--tasks=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 20);
const type = BENCH_TYPE.type;

interface Row {
  case: string;
  per: string;
  n: number;
  calls: number;
  ops: number;
  historyOps: number;
}

await withCostHarness('history_costs', async ({ call, dbOps }) => {
  const rows: Row[] = [];
  let calls = 0;
  const counted: typeof call = (method, params) => {
    calls++;
    return call(method, params);
  };
  const measure = async (name: string, per: string, run: () => Promise<number>) => {
    const [ops0, h0, c0] = [await dbOps(), await dbOps('task_history'), calls];
    const n = await run();
    const [ops1, h1, c1] = [await dbOps(), await dbOps('task_history'), calls];
    rows.push({
      case: name,
      per,
      n,
      calls: (c1 - c0) / n,
      ops: (ops1 - ops0) / n,
      historyOps: (h1 - h0) / n,
    });
  };
  const create = async () => (await counted('tasks.create', { type, payload: {} })).task;
  /** claim → fail for good → retry: three entries. */
  const cycle = async (t: Task, n: number) => {
    const leaseId = `${t.id}-${n}`;
    await counted('tasks.claim', { id: t.id, type, workerId: 'bench', leaseMs: 60_000, leaseId });
    await counted('tasks.fail', { id: t.id, leaseId, error: { code: 'X', message: 'x', retryable: false } });
    await counted('tasks.retry', { id: t.id, by: 'bench' });
  };
  const cycled = async (cycles: number) => {
    for (let i = 0; i < TASKS; i++) {
      const t = await create();
      for (let n = 0; n < cycles; n++) await cycle(t, n);
    }
    return TASKS;
  };

  await measure('ordinary task: create → claim → complete (3 entries)', 'task', async () => {
    for (let i = 0; i < TASKS; i++) {
      const t = await create();
      const running = await counted('tasks.claim', { id: t.id, type, workerId: 'bench', leaseMs: 60_000 });
      await counted('tasks.complete', { id: t.id, leaseId: running.leaseId! });
    }
    return TASKS;
  });
  await measure('16 fail/retry cycles (49 entries: all in the task)', 'task', () => cycled(16));
  await measure('100 fail/retry cycles (301 entries: 11 blocks moved out)', 'task', () => cycled(100));

  const long = await create();
  for (let n = 0; n < 100; n++) await cycle(long, n);
  const short = await create();
  await measure('tasks.history of a 1-entry task', 'call', async () => {
    for (let i = 0; i < TASKS; i++) await counted('tasks.history', { id: short.id });
    return TASKS;
  });
  await measure('tasks.history, first 50 of 301 entries', 'call', async () => {
    for (let i = 0; i < TASKS; i++) await counted('tasks.history', { id: long.id, limit: 50 });
    return TASKS;
  });
  await measure('tasks.history, all 301 entries in pages of 50', 'page', async () => {
    let pages = 0;
    for (let i = 0; i < TASKS; i++) {
      let cursor: string | null = null;
      do {
        const page: { nextCursor: string | null } = await counted('tasks.history', {
          id: long.id,
          limit: 50,
          ...(cursor && { cursor }),
        });
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
    }
    return pages;
  });
  await measure('tasks.history, all 301 entries in one page of 500', 'call', async () => {
    for (let i = 0; i < TASKS; i++) await counted('tasks.history', { id: long.id, limit: 500 });
    return TASKS;
  });

  console.log(
    [
      '| case | per | n | store calls | database operations | of which on task_history |',
      '| ---- | --- | -: | ----------: | ------------------: | -----------------------: |',
      ...rows.map(
        (r) =>
          `| ${r.case} | ${r.per} | ${r.n} | ${round(r.calls, 2)} | ${round(r.ops, 2)} | ${round(r.historyOps, 2)} |`,
      ),
    ].join('\n'),
  );
});
