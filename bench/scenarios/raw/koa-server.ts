/**
 * Helper process: a bare Koa app with one route, POST /tasks → 201 {id}, reading and parsing the
 * JSON body as any submit route must, and nothing else (no router, validation, auth, logging).
 * The ceiling of a Koa HTTP hop on this machine. Listens on 127.0.0.1, reports its port over IPC.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/tasks') {
    ctx.status = 404;
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: unknown };
  ctx.status = 201;
  ctx.body = { id: randomUUID(), type: body.type ?? null, status: 'queued' };
});
const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
server.keepAliveTimeout = 65_000;
process.on('SIGINT', () => undefined);
process.on('disconnect', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
