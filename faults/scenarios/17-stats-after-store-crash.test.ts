import { expect } from 'chai';
import { TaskStoreClient, TASK_STATUSES, type Stats } from '@tasks/contracts';
import { allTasks, checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { finishedCount, scenario, sleep, until } from '../support/scenario.js';

/** byStatus and byType counted task by task through tasks.list. */
async function bruteForce(store: TaskStoreClient): Promise<Pick<Stats, 'byStatus' | 'byType'>> {
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Stats['byStatus'];
  const byType: Stats['byType'] = {};
  for (const t of (await allTasks(store)).values()) {
    byStatus[t.status] += 1;
    const row = (byType[t.type] ??= {});
    row[t.status] = (row[t.status] ?? 0) + 1;
  }
  return { byStatus, byType };
}

describe('fault 17: stats after the store is killed', () => {
  scenario(
    'store SIGKILLed while tasks run, restarted: stats exact after the recount',
    {
      load: '1,000 mixed cpu/io tasks (batches of 100), 2 executors',
      fault: 'SIGKILL the store after 300 finished (unflushed count deltas lost); restart it at once',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      await submit(sys.gatewayUrl, 1_000, load, { runLog, batchSize: 100 });
      expect(load.accepted).to.have.length(1_000);
      await until('300 tasks finished', async () => (await finishedCount(sys)) >= 300, 180_000);
      sys.children.get('store')!.kill('SIGKILL');
      await sys.exited('store');
      await sys.restart('store', { LOG_LEVEL: 'info' });
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      // The dead store's writer document is noticed after STATS_DEAD_WRITER_MS (15 s), then recounted.
      const store = new TaskStoreClient({ url: sys.storeUrl, timeoutMs: 30_000 });
      let last = '';
      const ms = await until(
        'stats equal a count of every task',
        async () => {
          const [s, want] = [await store.call('tasks.stats', {}), await bruteForce(store)];
          last = JSON.stringify({ stats: s.byStatus, count: want.byStatus });
          try {
            expect({ byStatus: s.byStatus, byType: s.byType }).to.deep.equal(want);
            return true;
          } catch {
            await sleep(400);
            return false;
          }
        },
        90_000,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; last: ${last}`);
      });
      return `${summary}; stats equal a count of every task ${ms} ms after the invariants held`;
    },
  );
});
