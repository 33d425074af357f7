import { expect } from 'chai';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { finishedCount, scenario, until } from '../support/scenario.js';

describe('fault 1: an executor killed mid-run', () => {
  scenario(
    'executor SIGKILLed mid-run, another started',
    {
      load: '1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors',
      fault: 'SIGKILL one executor after 300 tasks finished; start a third',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      await until('300 tasks finished', async () => (await finishedCount(sys)) >= 300, 180_000);
      sys.children.get('executor-1')!.kill('SIGKILL');
      expect(await sys.exited('executor-1')).to.equal('SIGKILL');
      await sys.addExecutor();
      await submitting;
      expect(load.accepted, 'every POST accepted').to.have.length(1_000);
      return checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
    },
  );
});
