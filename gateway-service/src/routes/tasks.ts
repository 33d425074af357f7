/** /v1/tasks: create (one or a batch), show, list, cancel/retry, follow, page through a task's history. */
import { Router } from '@koa/router';
import {
  HISTORY_PAGE_LIMITS,
  type CreateTaskParams,
  type ListParams,
  type TaskDetailField,
  type TaskStatus,
  type TaskSummary,
} from '@tasks/contracts';
import type { Logger } from 'pino';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';
import { followTask } from '../events/event-hub.js';
import { HttpProblem } from '../middleware/problem-details.js';
import { batchBody, createTaskBody, historyQuery, listQuery, patchBody } from '../schemas.js';
import { publicTask, type TaskPublisher } from '../task-publisher.js';
import { checkScheduleBound, validated } from '../validation.js';

/** The store takes the body as it is (delayMs included, so an idempotent repeat hashes the same). */
type CreateBody = Omit<CreateTaskParams, 'kind' | 'idempotencyKey'>;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export function taskRoutes(deps: AppDeps): Router<GatewayState> {
  const { store, publisher } = deps;
  const router = new Router<GatewayState>({ prefix: '/v1/tasks' });

  router.post('create-task', '/', async (ctx: GatewayContext) => {
    const body = validated<CreateBody>(createTaskBody, ctx.request.body, 'body');
    checkScheduleBound([body], () => '');
    const key = idempotencyKeyOf(ctx);
    const { requestId, log } = ctx.state;
    const { task, created } = await store.call(
      'tasks.create',
      { ...body, ...(key !== undefined && { idempotencyKey: key }) },
      { requestId, idempotent: key !== undefined },
    );
    if (created) {
      await publisher.publish([task], requestId, log, 'request');
      void publisher.emit(task, log);
    }
    ctx.status = created ? 201 : 200;
    ctx.set('location', `/v1/tasks/${task.id}`);
    ctx.body = publicTask(task);
  });

  router.post('create-tasks', '/batch', async (ctx: GatewayContext) => {
    const body = validated<{ tasks: CreateBody[] }>(batchBody, ctx.request.body, 'body');
    checkScheduleBound(body.tasks, (i) => `/tasks/${i}`);
    const { requestId, log } = ctx.state;
    const { tasks } = await store.call('tasks.createMany', { tasks: body.tasks }, { requestId });
    await publisher.publish(tasks, requestId, log, 'request');
    for (const t of tasks) void publisher.emit(t, log);
    ctx.status = 201;
    ctx.body = { items: tasks.map(publicTask) };
  });

  router.get('list-tasks', '/', async (ctx: GatewayContext) => {
    const { limit, fields, tag, ...rest } = validated<
      Omit<ListParams, 'limit' | 'fields' | 'tags' | 'metadata'> & {
        limit?: string;
        fields?: string;
        tag?: string | string[];
      } & Record<`metadata.${string}`, string>
    >(listQuery, { ...ctx.query }, 'query');
    const q: Record<string, unknown> = {};
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(rest)) {
      if (name.startsWith('metadata.')) metadata[name.slice('metadata.'.length)] = value;
      else q[name] = value;
    }
    const params: ListParams = {
      ...(q as Omit<ListParams, 'limit' | 'fields' | 'tags' | 'metadata'>),
      ...(tag !== undefined && { tags: typeof tag === 'string' ? [tag] : tag }),
      ...(Object.keys(metadata).length > 0 && { metadata }),
      ...(limit !== undefined && { limit: Number(limit) }),
      // The schema admits only detail field names; a repeated one counts once.
      ...(fields !== undefined && { fields: [...new Set(fields.split(','))] as TaskDetailField[] }),
    };
    if (params.limit !== undefined && params.limit > 500) {
      throw new HttpProblem('VALIDATION_FAILED', 'limit must be at most 500', {
        fields: [{ path: '?/limit', message: 'must be <= 500' }],
      });
    }
    const page = await store.call('tasks.list', params, { requestId: ctx.state.requestId });
    ctx.body = { items: page.items.map(publicTask), nextCursor: page.nextCursor };
  });

  router.get('get-task', '/:id', async (ctx: GatewayContext) => {
    ctx.body = publicTask(
      await store.call('tasks.get', { id: taskId(ctx) }, { requestId: ctx.state.requestId }),
    );
  });

  // Every change of the task, oldest first (docs/history.md): the store's page as it is.
  router.get('task-history', '/:id/history', async (ctx: GatewayContext) => {
    const { limit, cursor } = validated<{ limit?: string; cursor?: string }>(
      historyQuery,
      { ...ctx.query },
      'query',
    );
    if (limit !== undefined && Number(limit) > HISTORY_PAGE_LIMITS.max) {
      throw new HttpProblem('VALIDATION_FAILED', `limit must be at most ${HISTORY_PAGE_LIMITS.max}`, {
        fields: [{ path: '?/limit', message: `must be <= ${HISTORY_PAGE_LIMITS.max}` }],
      });
    }
    const page = await store.call(
      'tasks.history',
      {
        id: taskId(ctx),
        ...(limit !== undefined && { limit: Number(limit) }),
        ...(cursor !== undefined && { cursor }),
      },
      { requestId: ctx.state.requestId },
    );
    ctx.body = { items: page.items, nextCursor: page.nextCursor };
  });

  router.patch('update-task', '/:id', async (ctx: GatewayContext) => {
    const body = validated<{ status: Extract<TaskStatus, 'cancelled' | 'queued'>; reason?: string }>(
      patchBody,
      ctx.request.body,
      'body',
    );
    const { requestId, log } = ctx.state;
    const id = taskId(ctx);
    const by = ctx.state.client ?? 'api';
    if (body.status === 'cancelled') {
      const task = await store.call(
        'tasks.cancel',
        { id, by, ...(body.reason && { reason: body.reason }) },
        { requestId },
      );
      await publisher.emit(task, log); // executors running it listen for this and stop
      await announceDependents(publisher, task.dependents, requestId, log);
      ctx.body = publicTask(withoutDependents(task));
    } else {
      const task = await store.call('tasks.retry', { id, by }, { requestId });
      // A flow node may wait for its dependencies again instead (docs/flows.md).
      if (task.status === 'queued') await publisher.publish([task], requestId, log, 'request');
      void publisher.emit(task, log);
      await announceDependents(publisher, task.dependents, requestId, log);
      ctx.body = publicTask(withoutDependents(task));
    }
  });

  router.get('follow-task', '/:id/events', async (ctx: GatewayContext) => {
    const id = taskId(ctx);
    const load = () => store.call('tasks.get', { id }, { requestId: ctx.state.requestId });
    await load(); // 404 before the stream starts
    // Resuming: the client has every version up to Last-Event-ID (our ids are versions).
    const last = /^\d{1,12}$/.test(ctx.get('last-event-id')) ? Number(ctx.get('last-event-id')) : 0;
    const sub = followTask(deps.hub, id, load, publicTask, last);
    startStream(ctx, sub.stream);
  });

  return router;
}

/**
 * The flow nodes a change moved (docs/flows.md): the queued ones are published, all announced
 * (a node cancelled because its dependency was is followed like any other task).
 */
export async function announceDependents(
  publisher: TaskPublisher,
  moved: TaskSummary[] | undefined,
  requestId: string,
  log: Logger,
): Promise<void> {
  if (!moved || moved.length === 0) return;
  const queued = moved.filter((t) => t.status === 'queued');
  if (queued.length > 0) await publisher.publish(queued, requestId, log, 'request');
  for (const t of moved) void publisher.emit(t, log);
}

function withoutDependents<T extends { dependents?: unknown }>(task: T): Omit<T, 'dependents'> {
  const rest: Partial<T> = { ...task };
  delete rest.dependents;
  return rest as Omit<T, 'dependents'>;
}

/** The Idempotency-Key header, when sent (POST /v1/tasks and /v1/flows). */
export function idempotencyKeyOf(ctx: GatewayContext): string | undefined {
  const key = ctx.get('idempotency-key') || undefined;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new HttpProblem('VALIDATION_FAILED', 'Idempotency-Key must be 1-200 visible ASCII characters', {
      fields: [{ path: 'header:Idempotency-Key', message: 'must be 1-200 visible ASCII characters' }],
    });
  }
  return key;
}

function taskId(ctx: GatewayContext): string {
  const id = ctx.params.id ?? '';
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(id))
    throw new HttpProblem('TASK_NOT_FOUND', `no task with id ${id.slice(0, 100)}`);
  return id;
}

export function startStream(ctx: GatewayContext, stream: NodeJS.ReadableStream): void {
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.set({ 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  ctx.type = 'text/event-stream';
  ctx.status = 200;
  ctx.body = stream;
}
