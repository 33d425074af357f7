/** The JSON-RPC methods: each takes params already validated against its contracts schema. */
import type { MethodName, ParamsOf, ResultOf, TaskSummary } from '@tasks/contracts';
import type { StoreContext } from '../store/task-creation.js';
import { createTask, createTasks } from '../store/task-creation.js';
import { toSummary, toWire } from '../store/documents.js';
import * as lifecycle from '../store/task-lifecycle.js';
import { listUnpublished, markPublished } from '../store/outbox.js';
import { getTask, listExpiredLeases, listStale } from '../store/task-queries.js';
import { listTasks } from '../store/list-pages.js';
import { stats } from '../store/count-stats.js';
import type { CountKeeper } from '../store/count-keeper.js';
import { executorHeartbeat } from '../store/executors.js';
import { deadLetterToWire, listDeadLetters, recordDeadLetter } from '../store/dead-letters.js';
import type { TaskDoc } from '../store/documents.js';
import { cancelFlow, createFlow, flowToWire, getFlow, listFlows } from '../store/flows.js';

export type Handlers = { [M in MethodName]: (params: ParamsOf<M>) => Promise<ResultOf<M>> };

export function handlers(ctx: StoreContext & { counts: CountKeeper }): Handlers {
  const { c } = ctx;
  return {
    'tasks.create': async (p) => {
      const { doc, created } = await createTask(ctx, p);
      return { task: toWire(doc), created };
    },
    'tasks.createMany': async (p) => ({ tasks: (await createTasks(ctx, p.tasks)).map(toWire) }),
    'tasks.get': async (p) => toWire(await getTask(c, p.id)),
    'tasks.list': async (p) => {
      const { docs, nextCursor } = await listTasks(c, p);
      return { items: docs.map((d) => toSummary(d, p.fields)), nextCursor };
    },
    'tasks.claim': async (p) => toWire(await lifecycle.claim(c, p)),
    'tasks.heartbeat': async (p) => toWire(await lifecycle.heartbeat(c, p)),
    'tasks.complete': async (p) => {
      const queued: TaskDoc[] = [];
      return withDependents(toWire(await lifecycle.complete(c, p, queued)), queued);
    },
    'tasks.fail': async (p) => {
      const queued: TaskDoc[] = [];
      return withDependents(toWire(await lifecycle.fail(c, p, queued)), queued);
    },
    'tasks.release': async (p) => toWire(await lifecycle.release(c, p)),
    'tasks.cancel': async (p) => toWire(await lifecycle.cancel(c, p)),
    'tasks.retry': async (p) => toWire(await lifecycle.retry(c, p)),
    'tasks.markPublished': async (p) => ({ marked: await markPublished(c, p.tasks) }),
    'tasks.listUnpublished': async (p) => ({
      items: (await listUnpublished(c, p.olderThanMs ?? 10_000, p.limit ?? 100)).map((d) => toSummary(d)),
    }),
    'tasks.listExpiredLeases': async (p) => ({
      items: (await listExpiredLeases(c, p.limit ?? 100)).map((d) => toSummary(d)),
    }),
    'tasks.requeueExpired': async (p) => ({
      items: (await lifecycle.requeueExpired(c, p.limit ?? 100, p.by ?? 'lease-sweeper')).map((d) =>
        toSummary(d),
      ),
    }),
    'tasks.listStale': async (p) => ({
      items: (await listStale(c, p.type, p.olderThanMs ?? 60_000, p.limit ?? 100)).map((d) => toSummary(d)),
    }),
    'tasks.stats': () => stats(c),
    'tasks.recount': () => ctx.counts.recountNow(),
    'deadLetters.record': async (p) => {
      const { doc, task } = await recordDeadLetter(c, p);
      return { deadLetter: deadLetterToWire(doc), task: task && toWire(task) };
    },
    'deadLetters.list': async (p) => {
      const { count, docs } = await listDeadLetters(c, p.limit ?? 50);
      return { count, items: docs.map(deadLetterToWire) };
    },
    'taskTypes.register': async (p) => ({ registered: await ctx.registry.register(p.workerId, p.types) }),
    'taskTypes.list': async () => ({ items: await ctx.registry.list() }),
    'executors.heartbeat': (p) => executorHeartbeat(c, p),
    'flows.create': async (p) => {
      const { flow, nodes, created, queued } = await createFlow(ctx, p);
      return { flow: flowToWire(flow, nodes), created, queued: queued.map((d) => toSummary(d)) };
    },
    'flows.get': (p) => getFlow(c, p.id),
    'flows.list': (p) => listFlows(c, p),
    'flows.cancel': async (p) => {
      const { flow, cancelled } = await cancelFlow(c, p);
      return { flow, cancelled: cancelled.map((d) => toSummary(d)) };
    },
  };
}

/** An outcome's answer names the flow nodes it made due, if any (the caller publishes them). */
function withDependents<T extends object>(
  task: T,
  queued: TaskDoc[],
): T & { dependentsQueued?: TaskSummary[] } {
  return queued.length === 0 ? task : { ...task, dependentsQueued: queued.map((d) => toSummary(d)) };
}
