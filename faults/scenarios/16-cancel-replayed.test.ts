import amqplib from 'amqplib';
import { expect } from 'chai';
import { eventRoutingKey, TaskStoreClient, topology, type StatusEvent, type Task } from '@tasks/contracts';
import { api, type RunningSystem } from '@tasks/testkit';
import { checkInvariants } from '../support/checks.js';
import { submit, type Load } from '../support/load.js';
import { finishedCount, metric, scenario, until } from '../support/scenario.js';

const TARGETS = 8;
const RUN_MS = 5_000;

/** Cancelled runs the executors report (the abort of a running attempt by a cancel event). */
async function abortedByCancel(sys: RunningSystem): Promise<number> {
  let n = 0;
  for (const name of ['executor-1', 'executor-2'])
    n += await metric(sys.urlOf(name), 'executor_tasks_finished_total', { outcome: 'cancelled' });
  return n;
}

describe('fault 16: a cancel event replayed after a retry', () => {
  scenario(
    'a cancel event replayed after a retry',
    {
      load: `1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors; ${TARGETS} io tasks of ${RUN_MS / 1000} s among them`,
      fault:
        'the long tasks cancelled while running and retried; while the retried attempts run, their original cancel events are published again',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      const store = new TaskStoreClient({ url: sys.storeUrl, timeoutMs: 10_000 });
      const t = topology(sys.prefix);
      const type = 'faults.record';
      // The cancel events exactly as the gateway published them, to replay them byte for byte.
      const conn = await amqplib.connect(node.url);
      const ch = await conn.createConfirmChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
      await ch.bindQueue(queue, t.eventsExchange, eventRoutingKey('cancelled', type));
      const cancelEvents = new Map<string, Buffer>();
      await ch.consume(
        queue,
        (msg) => {
          if (msg) cancelEvents.set((JSON.parse(msg.content.toString()) as StatusEvent).taskId, msg.content);
        },
        { noAck: true },
      );

      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      await until('100 tasks finished', async () => (await finishedCount(sys)) >= 100, 180_000);
      const long: Load = { ...load, accepted: [] };
      await submit(sys.gatewayUrl, TARGETS, long, { runLog, ioMs: RUN_MS });
      load.accepted.push(...long.accepted);
      const targets = long.accepted;
      expect(targets).to.have.length(TARGETS);
      const get = (id: string): Promise<Task> => store.call('tasks.get', { id });
      const allRunning = async (attempt: number) =>
        (await Promise.all(targets.map(get))).every(
          (x) => x.status === 'running' && x.history.filter((h) => h.status === 'running').length === attempt,
        );

      await until('the long tasks running', () => allRunning(1), 60_000);
      const abortedBefore = await abortedByCancel(sys);
      for (const id of targets) {
        const res = await api(sys.gatewayUrl, `/v1/tasks/${id}`, {
          method: 'PATCH',
          json: { status: 'cancelled' },
        });
        expect(res.status, `cancel of ${id}`).to.equal(200);
      }
      await until('every cancel event seen', () => targets.every((id) => cancelEvents.has(id)), 10_000);
      await until(
        'the cancelled runs stopped by their executors',
        async () => (await abortedByCancel(sys)) - abortedBefore === TARGETS,
        30_000,
      );
      for (const id of targets) {
        const res = await api(sys.gatewayUrl, `/v1/tasks/${id}`, {
          method: 'PATCH',
          json: { status: 'queued' },
        });
        expect(res.status, `retry of ${id}`).to.equal(200);
      }
      await until('the retried attempts running', () => allRunning(2), 60_000);

      for (const id of targets)
        ch.publish(t.eventsExchange, eventRoutingKey('cancelled', type), cancelEvents.get(id)!, {
          contentType: 'application/json',
        });
      await ch.waitForConfirms();
      // Routed to the executors' event queues while every retried attempt still ran.
      const stillRunning = (await Promise.all(targets.map(get))).filter((x) => x.status === 'running');
      expect(stillRunning, 'retried attempts running when the replay was confirmed').to.have.length(TARGETS);
      await conn.close();

      await submitting;
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog, {
        exactlyOnceRuns: true,
      });
      for (const id of targets) {
        const statuses = (await get(id)).history.map((h) => h.status);
        expect(statuses, `history of ${id}`).to.deep.equal([
          'queued',
          'running',
          'cancelled',
          'queued',
          'running',
          'succeeded',
        ]);
      }
      const replayAborts = (await abortedByCancel(sys)) - abortedBefore - TARGETS;
      expect(replayAborts, 'runs aborted by the replayed cancels').to.equal(0);
      return (
        `${TARGETS} cancels stopped their runs; the ${TARGETS} replayed cancels aborted none of the retried attempts, ` +
        `each ended queued → running → cancelled → queued → running → succeeded; ${summary}`
      );
    },
  );
});
