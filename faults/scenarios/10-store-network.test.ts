import { expect } from 'chai';
import { freePort } from '@tasks/testkit';
import { startTcpProxy, type TcpProxy } from '@tasks/testkit';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { scenario, sleep } from '../support/scenario.js';

describe('fault 10: a slow and flaky network to the store', () => {
  let proxy: TcpProxy;
  scenario(
    'latency and resets between gateway/executors and the store',
    {
      load: '1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors; both reach the store through a TCP proxy; gateway STORE_TIMEOUT_MS=2000',
      fault: '150 ms added each way for 5 s; 30% of connections reset every 0.5 s for 5 s; a 3 s black hole',
    },
    async (defer) => {
      const storePort = await freePort();
      proxy = await startTcpProxy(storePort);
      defer(() => proxy.close());
      return { storePort, clientStorePort: proxy.port, gatewayEnv: { STORE_TIMEOUT_MS: '2000' } };
    },
    async ({ sys, node, load, runLog }) => {
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog, timeoutMs: 60_000 });
      await sleep(1_000);
      proxy.latency(150);
      await sleep(5_000);
      proxy.latency(0);
      let resets = 0;
      for (let i = 0; i < 10; i++) {
        resets += proxy.reset(0.3);
        await sleep(500);
      }
      proxy.stall();
      const t0 = Date.now();
      const during = await fetch(`${sys.gatewayUrl}/v1/tasks?limit=1`).then((r) => r.status);
      const answeredMs = Date.now() - t0;
      expect(during, 'a request while the store cannot answer').to.equal(503);
      expect(
        answeredMs,
        'answered within STORE_TIMEOUT_MS (2,000 ms), retries included, plus slack',
      ).to.be.below(4_000);
      await sleep(Math.max(0, 3_000 - answeredMs));
      proxy.cut();
      proxy.restore();
      await submitting;
      const answered5xx = [...load.refused].filter(([status]) => status >= 500 && status !== 503);
      expect(answered5xx, 'answers other than 503 among the failures').to.deep.equal([]);
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      return `${resets} connections reset; a list request during the black hole answered ${during} after ${(answeredMs / 1000).toFixed(1)} s; ${load.refused.get(503) ?? 0} POSTs answered 503 (not accepted); ${summary}`;
    },
  );
});
