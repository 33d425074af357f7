/**
 * What retention costs the store (docs/retention.md): JSON-RPC calls and database operations per
 * task for create → claim → complete (the request path: finishedHour is one more field of the
 * complete's write, no more operations), for the sweeper's removal of those tasks, with and without
 * an idempotency key, and for sweeper passes that find nothing to remove. Counted as in
 * cost-harness.ts; the table goes to stdout, and docs/retention.md holds the last one.
 *
 *   npx tsx --conditions=source bench/store/retention-costs.ts [--tasks=200]
 */
import { isStoreError, type Task } from '@tasks/contracts';
import { costTable, withCostHarness } from './cost-harness.js';
import { BENCH_TYPE } from './throughput.js';

const TASKS = Number(/^--tasks=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 200);
const SWEEP_MS = 500;
const type = BENCH_TYPE.type;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await withCostHarness(
  'retention_costs',
  async ({ call, measure, rows }) => {
    const keyedType = `${type}.keyed`;
    await call('taskTypes.register', { workerId: 'bench', types: [{ ...BENCH_TYPE, type: keyedType }] });
    const lifecycle = async (keyed: boolean): Promise<Task[]> => {
      const done: Task[] = [];
      for (let i = 0; i < TASKS; i++) {
        const { task } = await call('tasks.create', {
          type: keyed ? keyedType : type,
          payload: {},
          ...(keyed && { idempotencyKey: `bench-${Date.now()}-${i}` }),
        });
        const claimed = await call('tasks.claim', { id: task.id, workerId: 'bench', leaseMs: 60_000 });
        done.push(await call('tasks.complete', { id: task.id, leaseId: claimed.leaseId! }));
      }
      return done;
    };
    /** Waits until the last of `tasks` is gone; the polls' own cost (one call, one read) is taken off. */
    const removed = async (tasks: Task[]): Promise<number> => {
      let polls = 0;
      for (;;) {
        await sleep(SWEEP_MS);
        polls++;
        const gone = await call('tasks.get', { id: tasks.at(-1)!.id }).then(
          () => false,
          (err: unknown) => isStoreError(err, 'TASK_NOT_FOUND'),
        );
        if (gone) return polls;
      }
    };

    await call('taskTypes.updateSettings', { type, retentionSeconds: 3600 });
    await call('taskTypes.updateSettings', { type: keyedType, retentionSeconds: 3600 });
    await measure('create → claim → complete (request path)', async () => {
      await lifecycle(false);
      return TASKS;
    });
    const plain = await lifecycle(false);
    const keyed = await lifecycle(true);
    await measure('sweeper: idle passes (per pass, nothing due)', async () => {
      await sleep(10 * SWEEP_MS);
      return 10;
    });
    await call('taskTypes.updateSettings', { type, retentionSeconds: 1 });
    // One pass reads up to RETENTION_SWEEP_PAGE tasks; the idle passes while waiting are
    // included, the polls are not.
    let polls = 0;
    await measure('sweeper: removal of a finished task (no key)', async () => {
      polls = await removed(plain);
      return TASKS;
    });
    const r = rows.at(-1)!;
    r.calls -= polls / TASKS;
    r.ops -= polls / TASKS;
    await call('taskTypes.updateSettings', { type: keyedType, retentionSeconds: 1 });
    await measure('sweeper: removal of a finished task (with its idempotency key)', async () => {
      polls = await removed(keyed);
      return TASKS;
    });
    const k = rows.at(-1)!;
    k.calls -= polls / TASKS;
    k.ops -= polls / TASKS;
    console.log(costTable(rows, 'case'));
  },
  { RETENTION_SWEEP_INTERVAL_MS: String(SWEEP_MS), IDEMPOTENCY_KEY_TTL_SECONDS: '1' },
);
