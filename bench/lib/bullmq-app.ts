/**
 * The BullMQ counterpart of our gateway's submit routes, as thin as a real service would be:
 * POST /jobs → queue.add, POST /jobs/batch → queue.addBulk, 201 with the job ids. It checks the
 * body's shape (as our gateway validates its own) and does nothing else: no auth, no request
 * log, no rate limit, no idempotency store. Built without listening (bullmq-server.ts listens).
 */
import Koa from 'koa';
import type { Queue } from 'bullmq';

const MAX_BODY_BYTES = 1_048_576;

interface JobBody {
  name: string;
  data?: unknown;
}

function isJobBody(v: unknown): v is JobBody {
  return typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string';
}

async function readJson(req: NodeJS.ReadableStream): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(b);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw Object.assign(new Error('body is not JSON'), { status: 400 });
  }
}

export function bullmqApp(queue: Queue): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || (ctx.path !== '/jobs' && ctx.path !== '/jobs/batch')) {
      ctx.status = 404;
      return;
    }
    const body = await readJson(ctx.req);
    if (ctx.path === '/jobs') {
      if (!isJobBody(body)) {
        ctx.status = 400;
        ctx.body = { error: 'expected {name, data}' };
        return;
      }
      const job = await queue.add(body.name, body.data ?? {});
      ctx.status = 201;
      ctx.body = { id: job.id };
      return;
    }
    const jobs = (body as { jobs?: unknown }).jobs;
    if (!Array.isArray(jobs) || jobs.length > 1000 || !jobs.every(isJobBody)) {
      ctx.status = 400;
      ctx.body = { error: 'expected {jobs: [{name, data}, …]} with at most 1,000 jobs' };
      return;
    }
    const added = await queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data ?? {} })));
    ctx.status = 201;
    ctx.body = { items: added.map((j) => ({ id: j.id })) };
  });
  return app;
}
