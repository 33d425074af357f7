import { expect } from 'chai';
import { TaskStoreClient } from '@tasks/contracts';
import { checkInvariants } from '../support/checks.js';
import { freshRunsOf, submit, type Load } from '../support/load.js';
import { finishedCount, metric, scenario, sleep, until } from '../support/scenario.js';

const FROZEN = 'frozen-executor';
const LONG_MS = 4_000;

describe('fault 8: an executor frozen past its lease', () => {
  scenario(
    'executor SIGSTOPped beyond its lease, then SIGCONT',
    {
      load: `1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors, LEASE_MS=5000; 20 io tasks of ${LONG_MS / 1000} s among the load`,
      fault:
        'SIGSTOP one executor for 15 s while it is in the middle of long io runs (started under 2 s before), then SIGCONT',
    },
    { executors: 1 },
    async ({ sys, node, load, runLog }) => {
      const name = await sys.addExecutor({ WORKER_ID: FROZEN });
      const frozen = sys.urlOf(name);
      const store = new TaskStoreClient({ url: sys.storeUrl, timeoutMs: 10_000 });
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      await until('200 tasks finished', async () => (await finishedCount(sys)) >= 200, 180_000);
      // Runs of 4 s among the load, so that the executor is frozen in the middle of some.
      const long: Load = { ...load, accepted: [] };
      await submit(sys.gatewayUrl, 20, long, { runLog, ioMs: LONG_MS });
      load.accepted.push(...long.accepted);
      const longIds = new Set(long.accepted);
      // Its own long runs, started in the last 2 s: each still has most of its run ahead when the
      // freeze comes, so its lease expires mid-run (a run whose outcome was already on its way to
      // the store would only be replayed after the thaw, not refused).
      let held: string[] = [];
      await until(
        'the executor to be frozen in the middle of long runs',
        async () => (held = await freshRunsOf(store, longIds, FROZEN)).length > 0,
        60_000,
      );
      sys.children.get(name)!.kill('SIGSTOP');
      await sleep(15_000);
      sys.children.get(name)!.kill('SIGCONT');
      await submitting;
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      // What the thawed executor did with the runs it held: each was refused by the store
      // (discarded) or stopped when its heartbeat learned the lease was gone (lease_lost).
      let late = 0;
      await until(
        'the thawed executor to report its refused runs',
        async () => {
          late =
            (await metric(frozen, 'executor_tasks_finished_total', { outcome: 'discarded' })) +
            (await metric(frozen, 'executor_tasks_finished_total', { outcome: 'lease_lost' }));
          return late > 0;
        },
        15_000,
      );
      expect(sys.children.get(name)!.exitCode, 'the thawed executor still runs').to.equal(null);
      return `${summary}; frozen in the middle of ${held.length} long runs; once thawed, ${late} of its runs were refused by the store or stopped on a lost lease`;
    },
  );
});
