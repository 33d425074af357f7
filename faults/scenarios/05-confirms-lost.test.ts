import { expect } from 'chai';
import { startTcpProxy, type TcpProxy } from '@tasks/testkit';
import { checkInvariants, outboxSize } from '../support/checks.js';
import { submit } from '../support/load.js';
import { rabbit } from '../support/suite.js';
import { metric, scenario, sleep, until } from '../support/scenario.js';

describe('fault 5: publisher confirms lost', () => {
  let proxy: TcpProxy;
  scenario(
    'connection cut while publisher confirms are outstanding',
    {
      load: '1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors; PUBLISH_TIMEOUT_MS=1000',
      fault:
        'broker→gateway bytes dropped for 4 s (messages arrive, confirms do not), then the connection cut',
    },
    async (defer) => {
      proxy = await startTcpProxy(Number(new URL(rabbit().url).port));
      defer(() => proxy.close());
      return {
        gatewayEnv: { AMQP_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}`, PUBLISH_TIMEOUT_MS: '1000' },
      };
    },
    async ({ sys, node, load, runLog }) => {
      const slowest = { ms: 0 };
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      await sleep(2_000);
      proxy.stall('toClient');
      // A POST during the stall: its publish waits for a confirm that never comes, and must give up.
      const t0 = Date.now();
      const r = await fetch(`${sys.gatewayUrl}/v1/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'primes.count', payload: { upTo: 1000 } }),
      });
      slowest.ms = Date.now() - t0;
      expect(r.status, 'accepted though its confirm never came').to.equal(201);
      load.accepted.push(((await r.json()) as { id: string }).id);
      await sleep(Math.max(0, 4_000 - slowest.ms));
      proxy.cut();
      proxy.restore();
      await submitting;
      expect(load.accepted).to.have.length(1_001);
      expect(slowest.ms, 'a POST whose confirm is lost answers within the publish timeout').to.be.below(
        5_000,
      );
      // The tasks whose confirms were lost stay unmarked until published again (REPUBLISH_AFTER_MS).
      await until('the outbox empty', async () => (await outboxSize(sys.storeUrl)) === 0, 120_000);
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog, {
        exactlyOnceRuns: true,
      });
      const republished = await metric(sys.gatewayUrl, 'gateway_publish_total', {
        source: 'dispatcher',
        outcome: 'confirmed',
      });
      expect(republished, 'tasks republished by the dispatcher').to.be.greaterThan(0);
      return `a POST during the stall answered 201 in ${slowest.ms} ms (publish timeout 1,000 ms); the dispatcher republished ${republished}; ${summary}; every io handler ran exactly once (duplicates absorbed)`;
    },
  );
});
