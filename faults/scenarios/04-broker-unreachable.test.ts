import { expect } from 'chai';
import { startTcpProxy, type TcpProxy } from '@tasks/testkit';
import { checkInvariants, outboxSize } from '../support/checks.js';
import { submit } from '../support/load.js';
import { rabbit } from '../support/suite.js';
import { metric, scenario, until } from '../support/scenario.js';

describe('fault 4: the broker unreachable from the gateway at submission', () => {
  let proxy: TcpProxy;
  scenario(
    'broker unreachable while tasks are submitted',
    {
      load: '1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors',
      fault: "the gateway's broker connection cut (TCP proxy) for the whole submission",
    },
    async (defer) => {
      proxy = await startTcpProxy(Number(new URL(rabbit().url).port));
      defer(() => proxy.close());
      return { gatewayEnv: { AMQP_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}` } };
    },
    async ({ sys, node, load, runLog }) => {
      proxy.cut();
      const t0 = Date.now();
      await submit(sys.gatewayUrl, 1_000, load, { runLog });
      const submitS = (Date.now() - t0) / 1000;
      expect(load.accepted, 'every POST accepted while the broker is away').to.have.length(1_000);
      const waiting = (await outboxSize(sys.storeUrl)) ?? 0;
      expect(waiting, 'tasks waiting in the outbox').to.be.greaterThan(900);
      const deferred = await metric(sys.gatewayUrl, 'gateway_publish_total', {
        source: 'request',
        outcome: 'deferred',
      });
      expect(deferred, 'publishes left to the dispatcher instead of waiting for a confirm').to.be.at.least(
        1_000,
      );
      proxy.restore();
      const publishedMs = await until(
        'every task published after the broker returned',
        async () => (await outboxSize(sys.storeUrl)) === 0,
        120_000,
      );
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      return `1,000 accepted in ${submitS.toFixed(1)} s with the broker away (${waiting} in the outbox); all published ${(publishedMs / 1000).toFixed(1)} s after it returned; ${summary}`;
    },
  );
});
