import { expect } from 'chai';
import { TaskStoreClient } from '@tasks/contracts';
import { checkInvariants, untilStatsMatchCount } from '../support/checks.js';
import { submit } from '../support/load.js';
import { finishedCount, scenario, until } from '../support/scenario.js';

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
      const ms = await untilStatsMatchCount(store);
      return `${summary}; stats equal a count of every task ${ms} ms after the invariants held`;
    },
  );
});
