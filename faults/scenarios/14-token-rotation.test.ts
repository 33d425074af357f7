import { expect } from 'chai';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { finishedCount, metric, scenario, sleep, until } from '../support/scenario.js';
import type { RunningSystem } from '@tasks/testkit';

const OLD_RPC = 'rotation-rpc-token-old-000001';
const NEW_RPC = 'rotation-rpc-token-new-000002';
const OLD_EXECUTOR = 'rotation-executor-token-old-01';
const NEW_EXECUTOR = 'rotation-executor-token-new-02';

/** SIGTERM, then the same service again with `env` (its port kept). */
async function restartWith(sys: RunningSystem, name: string, env: Record<string, string>): Promise<void> {
  sys.children.get(name)!.kill('SIGTERM');
  await sys.exited(name);
  await sys.restart(name, env);
}

describe('fault 14: RPC_TOKEN and EXECUTOR_TOKEN rotated under load', () => {
  scenario(
    'tokens rotated with the store accepting old and new, then only new; one executor left on the old token',
    {
      load: '1,000 mixed cpu/io tasks (batches of 100; 500 during the rotation, 500 once old tokens are retired), 2 executors',
      fault:
        'store restarted with new+old tokens; executor-1 and the gateway restarted with the new ones; ' +
        'store restarted with only the new ones while executor-2 still holds the old one (refused for 5 s); ' +
        'then executor-2 restarted with the new one',
    },
    {
      storeEnv: { RPC_TOKEN: OLD_RPC, EXECUTOR_TOKEN: OLD_EXECUTOR },
      gatewayEnv: { RPC_TOKEN: OLD_RPC },
      executorEnv: { RPC_TOKEN: OLD_EXECUTOR },
    },
    async ({ sys, node, load, runLog }) => {
      const submitted = submit(sys.gatewayUrl, 500, load, { runLog, batchSize: 100, idempotent: true });
      await until('100 tasks finished', async () => (await finishedCount(sys, OLD_RPC)) >= 100, 180_000);

      // 1. The store accepts the new tokens beside the old ones.
      await restartWith(sys, 'store', {
        RPC_TOKEN: `${NEW_RPC},${OLD_RPC}`,
        EXECUTOR_TOKEN: `${NEW_EXECUTOR},${OLD_EXECUTOR}`,
      });
      // 2. Clients move to the new tokens, one at a time (executor-2 is forgotten).
      await restartWith(sys, 'executor-1', { RPC_TOKEN: NEW_EXECUTOR });
      await restartWith(sys, 'gateway', { RPC_TOKEN: NEW_RPC });
      await submitted;
      expect(load.accepted).to.have.length(500);
      // 3. The old tokens are retired while executor-2 still sends one: its calls are refused.
      const retriesBefore = await metric(sys.urlOf('executor-2'), 'executor_store_retries_total');
      await restartWith(sys, 'store', { RPC_TOKEN: NEW_RPC, EXECUTOR_TOKEN: NEW_EXECUTOR });
      // The second half arrives while executor-2 is refused, so it has messages to hold.
      await submit(sys.gatewayUrl, 500, load, { runLog, batchSize: 100, idempotent: true });
      expect(load.accepted).to.have.length(1_000);
      let heldUnacked = 0;
      for (let i = 0; i < 10; i++) {
        await sleep(500);
        for (const q of (await node.queues(sys.prefix)).values())
          heldUnacked = Math.max(heldUnacked, q.unacked);
      }
      const refusedRetries =
        (await metric(sys.urlOf('executor-2'), 'executor_store_retries_total')) - retriesBefore;
      const deadLettered = await metric(sys.urlOf('executor-2'), 'executor_dead_lettered_total');
      expect(refusedRetries, 'store calls executor-2 retried while its token was refused').to.be.greaterThan(
        0,
      );
      expect(deadLettered, 'messages executor-2 dead-lettered').to.equal(0);
      // 4. The forgotten executor gets the new token; what it held runs.
      await restartWith(sys, 'executor-2', { RPC_TOKEN: NEW_EXECUTOR });
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog, {
        storeToken: NEW_RPC,
      });
      return (
        `${summary}; while its token was refused executor-2 retried ${refusedRetries} store calls, ` +
        `up to ${heldUnacked} messages held unacked, none dead-lettered`
      );
    },
  );
});
