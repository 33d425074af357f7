/**
 * What completion webhooks cost the store per task (docs/webhooks.md): JSON-RPC calls and database
 * operations for create → claim → complete without and with a webhook, and then for sending the
 * delivery as an executor does (webhooks.claimDue in pages of 10, one webhooks.recordAttempt each).
 * Counted as in cost-harness.ts; the table goes to stdout, and docs/webhooks.md holds the last one.
 *
 *   npx tsx --conditions=source bench/store/webhook-costs.ts [--tasks=200]
 */
import type { Task } from '@tasks/contracts';
import { costTable, withCostHarness } from './cost-harness.js';
import { BENCH_TYPE } from './throughput.js';

const TASKS = Number(/^--tasks=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 200);
const type = BENCH_TYPE.type;
const webhook = { url: 'https://hooks.example.com/tasks' };

await withCostHarness('webhook_costs', async ({ call, measure, rows }) => {
  const claim = (id: string) => call('tasks.claim', { id, type, workerId: 'bench', leaseMs: 60_000 });
  const complete = (t: Task) => call('tasks.complete', { id: t.id, leaseId: t.leaseId! });
  const oneByOne = async (extra: object = {}) => {
    for (let i = 0; i < TASKS; i++)
      await complete(await claim((await call('tasks.create', { type, payload: {}, ...extra })).task.id));
    return TASKS;
  };
  /** Sends every due delivery as a sender would, each answered 2xx. */
  const sendAll = async () => {
    let sent = 0;
    for (;;) {
      const { items } = await call('webhooks.claimDue', { owner: 'bench', limit: 10, leaseMs: 30_000 });
      if (items.length === 0) return sent;
      for (const d of items)
        await call('webhooks.recordAttempt', { id: d.id, leaseId: d.leaseId, statusCode: 204, ms: 1 });
      sent += items.length;
    }
  };

  // Warms the store up (type registry, count writer) so that the rows compare like with like.
  await oneByOne();
  await measure('no webhook: create, claim, complete', () => oneByOne());
  await measure('webhook: create, claim, complete (the delivery written)', () => oneByOne({ webhook }));
  await measure('no webhook again (the same store, after the webhook rows)', () => oneByOne());
  await measure('webhook: sending it (claimDue by 10, recordAttempt 2xx)', sendAll);
  console.log(costTable(rows, 'case'));
});
