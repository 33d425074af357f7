import { expect } from 'chai';
import { checkInvariants } from '../support/checks.js';
import { submit, type Load } from '../support/load.js';
import { finishedCount, metric, scenario, sleep, until } from '../support/scenario.js';

describe('fault 8: an executor frozen past its lease', () => {
  scenario(
    'executor SIGSTOPped beyond its lease, then SIGCONT',
    {
      load: '1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors, LEASE_MS=5000',
      fault:
        'SIGSTOP one executor in the middle of runs (6 io tasks of 4 s among the load) for 15 s, then SIGCONT',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      const ex1 = sys.urlOf('executor-1');
      await until('200 tasks finished', async () => (await finishedCount(sys)) >= 200, 180_000);
      // Runs of 4 s among the load, so that the executor is frozen in the middle of some.
      const long: Load = { ...load, accepted: [] };
      await submit(sys.gatewayUrl, 6, long, { runLog, ioMs: 4_000 });
      load.accepted.push(...long.accepted);
      const running = async () =>
        (await metric(ex1, 'executor_tasks_started_total')) -
        (await metric(ex1, 'executor_tasks_finished_total'));
      await until('executor-1 in the middle of a run', async () => (await running()) > 0, 60_000);
      const frozenRuns = await running();
      sys.children.get('executor-1')!.kill('SIGSTOP');
      await sleep(15_000);
      sys.children.get('executor-1')!.kill('SIGCONT');
      await submitting;
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      // What the thawed executor did with the runs it held: each was refused by the store
      // (discarded) or stopped when its heartbeat learned the lease was gone (lease_lost).
      let late = 0;
      await until(
        'the thawed executor to report its refused runs',
        async () => {
          late =
            (await metric(ex1, 'executor_tasks_finished_total', { outcome: 'discarded' })) +
            (await metric(ex1, 'executor_tasks_finished_total', { outcome: 'lease_lost' }));
          return late > 0;
        },
        15_000,
      );
      expect(sys.children.get('executor-1')!.exitCode, 'the thawed executor still runs').to.equal(null);
      return `${summary}; frozen with ${frozenRuns} runs in progress; once thawed, ${late} of its runs were refused by the store or stopped on a lost lease`;
    },
  );
});
