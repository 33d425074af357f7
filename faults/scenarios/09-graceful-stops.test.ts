import { expect } from 'chai';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { finishedCount, scenario, until } from '../support/scenario.js';

describe('fault 9: SIGTERM under load', () => {
  scenario(
    'SIGTERM to the gateway and to an executor under load',
    {
      load: '1,000 mixed cpu/io tasks, 16 clients POSTing with Idempotency-Keys, 2 executors',
      fault:
        'SIGTERM the gateway after 300 accepted (restarted on its port); SIGTERM an executor after 400 finished; start a third',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog, timeoutMs: 60_000, idempotent: true });
      await until('300 accepted', () => load.accepted.length >= 300, 120_000);
      sys.children.get('gateway')!.kill('SIGTERM');
      expect(await sys.exited('gateway'), 'gateway exit code').to.equal(0);
      await sys.restart('gateway');
      await until('400 tasks finished', async () => (await finishedCount(sys)) >= 400, 180_000);
      sys.children.get('executor-1')!.kill('SIGTERM');
      expect(await sys.exited('executor-1'), 'executor exit code').to.equal(0);
      await sys.addExecutor();
      await submitting;
      const answered5xx = [...load.refused].filter(([status]) => status >= 500);
      expect(answered5xx, 'requests answered 5xx').to.deep.equal([]);
      expect(
        load.accepted,
        `every task accepted in the end; refused: ${JSON.stringify([...load.refused])}`,
      ).to.have.length(1_000);
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog, {
        exactlyOnceRuns: true,
      });
      return `both exited 0; no 5xx; ${load.connectionsRefused} connection attempts refused while the gateway restarted and ${load.sentAgain} requests cut off at the stop (${JSON.stringify([...load.cutOff])}), all sent again with their Idempotency-Key; ${summary}; every io handler ran exactly once (in-flight work finished within the grace period)`;
    },
  );
});
