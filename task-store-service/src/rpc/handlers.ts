/** The JSON-RPC methods: each takes params already validated against its contracts schema. */
import type { MethodName, ParamsOf, ResultOf, Task, TaskSummary } from '@tasks/contracts';
import type { Collections } from '../store/collections.js';
import { dependencyResults } from '../store/flow-dependencies.js';
import type { StoreContext } from '../store/task-creation.js';
import { createTask, createTasks } from '../store/task-creation.js';
import { toSummary, toWire } from '../store/documents.js';
import * as lifecycle from '../store/task-lifecycle.js';
import { listUnpublished, markPublished } from '../store/outbox.js';
import { getTask, listExpiredLeases, listStale } from '../store/task-queries.js';
import { listTasks } from '../store/list-pages.js';
import { bulkAction } from '../store/bulk-actions.js';
import { readHistory } from '../store/task-history.js';
import { stats } from '../store/count-stats.js';
import type { CountKeeper } from '../store/count-keeper.js';
import { executorHeartbeat } from '../store/executors.js';
import { deadLetterToWire, listDeadLetters, recordDeadLetter } from '../store/dead-letters.js';
import type { TaskDoc } from '../store/documents.js';
import { createFlow } from '../store/flow-creation.js';
import { cancelFlow, flowToWire, getFlow, listFlows } from '../store/flows.js';
import { expireOverdue } from '../store/deadlines.js';
import { changedSince } from '../store/task-changes.js';
import { releaseAllowed } from '../store/type-keeper.js';
import { AppError } from '../app-error.js';
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  updateSchedule,
} from '../store/schedules.js';
import { claimDue, listDeliveries, recordAttempt, redeliver } from '../store/webhooks.js';

/** What a handler knows of its call beyond the params. */
export interface CallInfo {
  /** The W3C traceparent the call came with (docs/observability.md), kept on the tasks it creates. */
  traceparent?: string;
}

export type Handlers = {
  [M in MethodName]: (params: ParamsOf<M>, call: CallInfo) => Promise<ResultOf<M>>;
};

export function handlers(ctx: StoreContext & { counts: CountKeeper }): Handlers {
  const { collections } = ctx;
  return {
    'tasks.create': async (p, call) => {
      const { doc, created } = await createTask(ctx, p, call.traceparent);
      return { task: toWire(doc), created };
    },
    'tasks.createMany': async (p, call) => ({
      tasks: (await createTasks(ctx, p.tasks, call.traceparent)).map(toWire),
    }),
    'tasks.get': async (p) => withResults(collections, await getTask(collections, p.id)),
    'tasks.list': async (p) => {
      const { docs, nextCursor } = await listTasks(collections, p);
      return { items: docs.map((d) => toSummary(d, p.fields)), nextCursor };
    },
    'tasks.history': (p) => readHistory(collections, p),
    'tasks.claim': async (p) => withResults(collections, await lifecycle.claim(collections, p)),
    'tasks.heartbeat': async (p) => toWire(await lifecycle.heartbeat(collections, p)),
    'tasks.complete': async (p) => {
      const moved: TaskDoc[] = [];
      return withDependents(toWire(await lifecycle.complete(collections, p, moved)), moved);
    },
    'tasks.fail': async (p) => {
      const moved: TaskDoc[] = [];
      return withDependents(toWire(await lifecycle.fail(collections, p, moved)), moved);
    },
    'tasks.release': async (p) => {
      const moved: TaskDoc[] = [];
      return withDependents(toWire(await lifecycle.release(collections, p, moved)), moved);
    },
    'tasks.cancel': async (p) => {
      const moved: TaskDoc[] = [];
      return withDependents(toWire(await lifecycle.cancel(collections, p, moved)), moved);
    },
    'tasks.retry': async (p) => {
      const moved: TaskDoc[] = [];
      const doc = await lifecycle.retry(collections, p, moved);
      return withDependents(await withResults(collections, doc), moved);
    },
    'tasks.bulkAction': async (p) => {
      const page = await bulkAction(collections, p);
      return withDependents(
        {
          matched: page.matched,
          changed: page.changed,
          nextCursor: page.nextCursor,
          tasks: page.tasks.map((d) => toSummary(d)),
        },
        page.dependents,
      );
    },
    'tasks.markPublished': async (p) => ({ marked: await markPublished(collections, p.tasks) }),
    'tasks.listUnpublished': async (p) => ({
      items: (await listUnpublished(collections, p.olderThanMs ?? 10_000, p.limit ?? 100)).map((d) =>
        toSummary(d),
      ),
    }),
    'tasks.listExpiredLeases': async (p) => ({
      items: (await listExpiredLeases(collections, p.limit ?? 100)).map((d) => toSummary(d)),
    }),
    'tasks.requeueExpired': async (p) => {
      const moved: TaskDoc[] = [];
      const items = await lifecycle.requeueExpired(
        collections,
        p.limit ?? 100,
        p.by ?? 'lease-sweeper',
        moved,
      );
      return withDependents({ items: items.map((d) => toSummary(d)) }, moved);
    },
    'tasks.listStale': async (p) => ({
      items: (await listStale(collections, p.type, p.olderThanMs ?? 60_000, p.limit ?? 100)).map((d) =>
        toSummary(d),
      ),
    }),
    'tasks.expireOverdue': async (p) => {
      const moved: TaskDoc[] = [];
      const items = await expireOverdue(collections, p.limit ?? 100, p.by ?? 'deadline-sweeper', moved);
      return withDependents({ items: items.map((d) => toSummary(d)) }, moved);
    },
    'tasks.changes': (p) =>
      changedSince(collections, {
        since: new Date(p.since),
        seen: new Set(p.seen ?? []),
        limit: p.limit ?? 1000,
        ...(p.type !== undefined && { type: p.type }),
        ...(p.status !== undefined && { status: p.status }),
      }),
    'tasks.stats': () => stats(collections),
    'tasks.recount': () => ctx.counts.recountNow(),
    'deadLetters.record': async (p) => {
      const { doc, task } = await recordDeadLetter(collections, p);
      return { deadLetter: deadLetterToWire(doc), task: task && toWire(task) };
    },
    'deadLetters.list': async (p) => {
      const { count, docs } = await listDeadLetters(collections, p.limit ?? 50);
      return { count, items: docs.map(deadLetterToWire) };
    },
    'taskTypes.register': async (p) => ({ registered: await ctx.registry.register(p.workerId, p.types) }),
    'taskTypes.list': async () => ({
      items: await ctx.registry.list(),
      retention: { ...collections.retention },
    }),
    'taskTypes.getSettings': async (p) => {
      await registered(ctx, p.type);
      return collections.settings.read(p.type);
    },
    'taskTypes.updateSettings': async (p) => {
      await registered(ctx, p.type);
      const { type, by, ...change } = p;
      const settings = await collections.settings.update(type, change, by ?? 'api');
      const released = await releaseAllowed(collections, settings, RELEASE_PAGE);
      return { settings, released: released.map((d) => toSummary(d)) };
    },
    'executors.heartbeat': (p) => executorHeartbeat(collections, p),
    'flows.create': async (p) => {
      const { flow, nodes, created, queued } = await createFlow(ctx, p);
      return { flow: flowToWire(flow, nodes), created, queued: queued.map((d) => toSummary(d)) };
    },
    'flows.get': (p) => getFlow(collections, p.id),
    'flows.list': (p) => listFlows(collections, p),
    'flows.cancel': async (p) => {
      const { flow, cancelled } = await cancelFlow(collections, p);
      return { flow, cancelled: cancelled.map((d) => toSummary(d)) };
    },
    'schedules.create': (p) => createSchedule(ctx, p),
    'schedules.get': (p) => getSchedule(collections, p.id),
    'schedules.list': async () => ({ items: await listSchedules(collections) }),
    'schedules.update': (p) => updateSchedule(ctx, p),
    'schedules.delete': async (p) => ({ deleted: await deleteSchedule(collections, p.id) }),
    'webhooks.claimDue': async (p) => ({
      items: await claimDue(collections, {
        owner: p.owner,
        limit: p.limit ?? 10,
        leaseMs: p.leaseMs ?? 30_000,
      }),
    }),
    'webhooks.recordAttempt': (p) => recordAttempt(collections, collections.webhookPolicy, p),
    'webhooks.list': async (p) => ({
      items: await listDeliveries(collections, collections.webhookPolicy, p.taskId),
    }),
    'webhooks.redeliver': (p) => redeliver(collections, collections.webhookPolicy, p.id),
  };
}

/** Held tasks released by a settings change in the call itself; the type keeper releases the rest. */
const RELEASE_PAGE = 500;

/** TASK_TYPE_NOT_FOUND (with the known types) unless the type is registered. */
async function registered(ctx: StoreContext, type: string): Promise<void> {
  try {
    await ctx.registry.get(type);
  } catch (err) {
    if (err instanceof AppError && err.type === 'UNKNOWN_TASK_TYPE')
      throw new AppError('TASK_TYPE_NOT_FOUND', err.message, err.data);
    throw err;
  }
}

/** The answer names the flow nodes whose status the change moved, if any (docs/flows.md). */
function withDependents<T extends object>(answer: T, moved: TaskDoc[]): T & { dependents?: TaskSummary[] } {
  return moved.length === 0 ? answer : { ...answer, dependents: moved.map((d) => toSummary(d)) };
}

/** A flow node once queued carries its dependencies' outcomes and results (read from them). */
async function withResults(collections: Collections, doc: TaskDoc): Promise<Task> {
  const results = await dependencyResults(collections, doc);
  return results ? { ...toWire(doc), dependencyResults: results } : toWire(doc);
}
