/**
 * RabbitMQ alone: persistent messages (the size of a work message) published on a confirm
 * channel to a durable quorum queue, as the gateway publishes, and consumed with manual acks
 * and prefetch 100, as the executor consumes. The publisher keeps at most WINDOW unconfirmed
 * and at most 2 × WINDOW ahead of the consumer, so a run measures the pair's steady rate.
 * A run counts the messages consumed and acked within it.
 */
import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { pidsByName } from '../../lib/processes.js';
import { round } from '../../lib/measure.js';
import { meter, type Stage, type StageSession } from './stage.js';

const WINDOW = 500;
const PREFETCH = 100;

export function amqpStage(amqpUrl: string): Stage {
  return {
    name: 'amqplib publish (confirms) + consume (ack)',
    op: 'persistent message published with a confirm to a quorum queue, consumed and acked',
    async setup(): Promise<StageSession> {
      const queue = `bench-raw-${randomUUID()}`;
      const conn = await amqplib.connect(amqpUrl);
      const pub = await conn.createConfirmChannel();
      const sub = await conn.createChannel();
      await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await sub.prefetch(PREFETCH);
      let consumed = 0;
      await sub.consume(queue, (m) => {
        if (!m) return;
        consumed++;
        sub.ack(m);
      });
      const body = Buffer.from(
        JSON.stringify({ taskId: randomUUID(), type: 'noop', kind: 'io', version: 1 }),
      );
      const serverPids = pidsByName('beam.smp', 'rabbit boot');
      return {
        serverPids,
        async run(ms) {
          const cpu = meter(serverPids);
          const c0 = consumed;
          const t0 = performance.now();
          const end = t0 + ms;
          let published = 0;
          let unconfirmed = 0;
          let wake: (() => void) | undefined;
          let failed: Error | undefined;
          while (performance.now() < end && !failed) {
            // at most WINDOW unconfirmed, and at most 2 × WINDOW published but not yet consumed
            if (unconfirmed >= WINDOW || published - (consumed - c0) >= 2 * WINDOW) {
              if (unconfirmed < WINDOW) {
                await new Promise((r) => setTimeout(r, 1));
                continue;
              }
              await new Promise<void>((r) => (wake = r));
              continue;
            }
            unconfirmed++;
            published++;
            const ok = pub.publish(
              '',
              queue,
              body,
              { persistent: true, contentType: 'application/json' },
              (err) => {
                if (err) failed ??= err instanceof Error ? err : new Error(String(err));
                unconfirmed--;
                const w = wake;
                wake = undefined;
                w?.();
              },
            );
            if (!ok) await new Promise((r) => pub.once('drain', r));
            else if (published % 50 === 0) await new Promise((r) => setImmediate(r));
          }
          const seconds = (performance.now() - t0) / 1000;
          const ops = consumed - c0;
          const cpuUsed = cpu();
          await pub.waitForConfirms();
          if (failed) throw failed;
          // let the consumer catch up before the next run, so that runs do not overlap
          const drainBy = Date.now() + 10_000;
          while (consumed - c0 < published && Date.now() < drainBy)
            await new Promise((r) => setTimeout(r, 20));
          return {
            ops,
            seconds: round(seconds, 2),
            perSec: round(ops / seconds),
            cpu: cpuUsed,
            extra: {
              published,
              publishedPerSec: round(published / seconds),
              window: WINDOW,
              prefetch: PREFETCH,
            },
          };
        },
        async teardown() {
          await sub.close().catch(() => undefined);
          await pub.deleteQueue(queue).catch(() => undefined);
          await pub.close().catch(() => undefined);
          await conn.close().catch(() => undefined);
        },
      };
    },
  };
}
