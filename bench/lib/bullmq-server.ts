/**
 * Child process: the Koa submit service of bullmq-app.ts on a free port of 127.0.0.1, in its
 * own process like our gateway, so its CPU is measured apart from the load generator's.
 * Forked by bullmq.ts with the queue name as argument; reports its port over IPC and stops
 * when the parent disconnects.
 */
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullmqApp } from './bullmq-app.js';

const [queueName, redisUrl] = process.argv.slice(2);
if (!queueName || !redisUrl) throw new Error('usage: bullmq-server.ts <queue> <redis url>');

const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(queueName, { connection });
await queue.waitUntilReady();
const server = bullmqApp(queue)
  .listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  })
  .on('error', (err) => {
    process.stderr.write(`bullmq-server: ${err.message}\n`);
    process.exit(1);
  });
server.keepAliveTimeout = 65_000;

// A terminal Ctrl-C reaches the whole process group: the benchmark decides when we stop.
process.on('SIGINT', () => undefined);
process.on('disconnect', () => {
  server.close();
  server.closeAllConnections();
  queue
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0))
    .catch(() => process.exit(1));
});
