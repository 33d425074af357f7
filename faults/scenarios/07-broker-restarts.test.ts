import { expect } from 'chai';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { finishedCount, scenario, sleep, until } from '../support/scenario.js';

describe('fault 7: the broker drops every connection, then stops and starts', () => {
  scenario(
    'close_all_connections during submission and processing, then stop_app/start_app',
    {
      load: '1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors',
      fault:
        '`rabbitmqctl close_all_connections` after 200 accepted and again after 300 finished; `stop_app`, 3 s, `start_app`',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      await until('200 accepted', () => load.accepted.length >= 200, 120_000);
      await node.closeAllConnections();
      await until('300 tasks finished', async () => (await finishedCount(sys)) >= 300, 180_000);
      await node.closeAllConnections();
      await sleep(1_000);
      await node.stopApp();
      await sleep(3_000);
      await node.startApp();
      const back = Date.now();
      const reconnectedMs: Record<string, number> = {};
      for (const name of ['gateway', 'executor-1', 'executor-2']) {
        await until(`${name} ready again`, async () => (await fetch(`${sys.urlOf(name)}/readyz`)).ok, 60_000);
        reconnectedMs[name] = Date.now() - back;
      }
      await submitting;
      expect(load.refused.size, `refused: ${JSON.stringify([...load.refused])}`).to.equal(0);
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      const slowest = Math.max(...Object.values(reconnectedMs));
      return `every service ready again ≤ ${(slowest / 1000).toFixed(1)} s after start_app, by itself; ${summary}`;
    },
  );
});
