/**
 * Child process: a BullMQ Worker that completes every job at once with `{}` (like our `noop`),
 * with the concurrency of our executor's io prefetch. Forked by bullmq.ts; says "ready" over IPC
 * and stops when the parent disconnects.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [queueName, redisUrl, concurrency] = process.argv.slice(2);
if (!queueName || !redisUrl || !concurrency) {
  throw new Error('usage: bullmq-worker.ts <queue> <redis url> <concurrency>');
}

const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const worker = new Worker(queueName, () => Promise.resolve({}), {
  connection,
  concurrency: Number(concurrency),
});
worker.on('error', (err) => process.stderr.write(`bullmq-worker: ${err.message}\n`));
await worker.waitUntilReady();
process.send?.({ ready: true });

process.on('SIGINT', () => undefined);
process.on('disconnect', () => {
  worker
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0))
    .catch(() => process.exit(1));
});
