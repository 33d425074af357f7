/**
 * What pause, limits and deadlines cost the store per task (docs/flow-control.md): JSON-RPC calls
 * and database operations for create → claim → complete, without settings and under each rule,
 * including the tasks that had to wait (held, or given a later start). Counted as in
 * cost-harness.ts; the table goes to stdout, and docs/flow-control.md holds the last one.
 *
 *   npx tsx --conditions=source bench/store/flow-control-costs.ts [--tasks=200]
 */
import { isStoreError, type Task } from '@tasks/contracts';
import { costTable, withCostHarness } from './cost-harness.js';
import { BENCH_TYPE } from './throughput.js';

const TASKS = Number(/^--tasks=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 200);
const type = BENCH_TYPE.type;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await withCostHarness('flow_control_costs', async ({ call, measure, rows }) => {
  const create = async (extra: object = {}) =>
    (await call('tasks.create', { type, payload: {}, ...extra })).task;
  const claim = (id: string) => call('tasks.claim', { id, type, workerId: 'bench', leaseMs: 60_000 });
  const complete = (t: Task) => call('tasks.complete', { id: t.id, leaseId: t.leaseId! });
  const settings = (change: object) => call('taskTypes.updateSettings', { type, ...change });
  const oneByOne = async (extra: object = {}) => {
    for (let i = 0; i < TASKS; i++) await complete(await claim((await create(extra)).id));
    return TASKS;
  };

  await measure('no settings', () => oneByOne());
  await measure('expiresAt set (not reached)', () =>
    oneByOne({ expiresAt: new Date(Date.now() + 3_600_000).toISOString() }),
  );
  await settings({ concurrency: 1_000 });
  await measure('concurrency limit, never reached', () => oneByOne());
  await settings({ concurrency: 1 });
  await measure('concurrency 1, all claimed at once (all but one held, released one by one)', async () => {
    const ids = [];
    for (let i = 0; i < TASKS; i++) ids.push((await create()).id);
    let running: Task | undefined;
    for (const id of ids) {
      try {
        running = await claim(id);
      } catch (err) {
        if (!isStoreError(err, 'TASK_HELD')) throw err;
      }
    }
    while (running) {
      const next = (await complete(running)).dependents?.[0];
      running = next ? await claim(next.id) : undefined;
    }
    return TASKS;
  });
  await settings({ concurrency: null, ratePerSecond: 10_000 });
  await measure('rate limit, never reached', () => oneByOne());
  await settings({ ratePerSecond: 100 });
  await measure('rate 100/s, all claimed at once (most given a later start)', async () => {
    const tasks = [];
    for (let i = 0; i < TASKS; i++) tasks.push(await create());
    let waiting = tasks.map((t) => t.id);
    while (waiting.length > 0) {
      const later: string[] = [];
      for (const id of waiting) {
        try {
          await complete(await claim(id));
        } catch (err) {
          if (!isStoreError(err, 'TASK_NOT_DUE')) throw err;
          later.push(id);
        }
      }
      waiting = later;
      if (later.length > 0) await sleep(1_000); // as the delay queue would
    }
    return TASKS;
  });
  await settings({ ratePerSecond: null, paused: true });
  await measure('paused, all claimed (held), resumed, then run', async () => {
    const ids = [];
    for (let i = 0; i < TASKS; i++) ids.push((await create()).id);
    for (const id of ids)
      await claim(id).catch((err: unknown) => {
        if (!isStoreError(err, 'TASK_HELD')) throw err;
      });
    const { released } = await settings({ paused: false });
    for (const t of released) await complete(await claim(t.id));
    return released.length;
  });
  console.log(costTable(rows, 'case'));
});
