import amqplib from 'amqplib';
import { expect } from 'chai';
import { topology, type WorkMessage } from '@tasks/contracts';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { scenario } from '../support/scenario.js';

describe('fault 6: every message delivered twice', () => {
  scenario(
    'the same task delivered twice',
    {
      load: '1,000 mixed cpu/io tasks (batches of 100), 2 executors',
      fault: 'a second copy of every work message published straight to the exchange',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      await submit(sys.gatewayUrl, 1_000, load, { runLog, batchSize: 100 });
      expect(load.accepted).to.have.length(1_000);
      const conn = await amqplib.connect(node.url);
      const ch = await conn.createConfirmChannel();
      const t = topology(sys.prefix);
      for (const [taskId, c] of load.created) {
        const msg: WorkMessage = { taskId, type: c.type, kind: c.kind, version: c.version };
        ch.publish(t.workExchange, c.type, Buffer.from(JSON.stringify(msg)), {
          persistent: true,
          contentType: 'application/json',
          messageId: `${taskId}:${c.version}`,
        });
      }
      await ch.waitForConfirms();
      await conn.close();
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog, {
        exactlyOnceRuns: true,
      });
      return `${summary}; 1,000 duplicates absorbed: every io handler ran exactly once`;
    },
  );
});
