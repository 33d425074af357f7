import { expect } from 'chai';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { finishedCount, scenario, sleep, until } from '../support/scenario.js';

describe('fault 3: the store down while tasks finish', () => {
  scenario(
    'store SIGKILLed for 10 s while tasks finish, then restarted',
    {
      load: '1,000 mixed cpu/io tasks (batches of 100), 2 executors',
      fault: 'SIGKILL the store after 200 finished; restart it 10 s later',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      await submit(sys.gatewayUrl, 1_000, load, { runLog, batchSize: 100 });
      expect(load.accepted).to.have.length(1_000);
      await until('200 tasks finished', async () => (await finishedCount(sys)) >= 200, 180_000);
      sys.children.get('store')!.kill('SIGKILL');
      await sys.exited('store');
      // While the store is away, finished runs cannot be recorded, so their messages stay unacked.
      let heldUnacked = 0;
      for (let i = 0; i < 20; i++) {
        await sleep(500);
        for (const q of (await node.queues(sys.prefix)).values())
          heldUnacked = Math.max(heldUnacked, q.unacked);
      }
      expect(heldUnacked, 'messages held unacked while outcomes cannot be recorded').to.be.greaterThan(0);
      await sys.restart('store');
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      return `${summary}; up to ${heldUnacked} messages held unacked during the outage`;
    },
  );
});
