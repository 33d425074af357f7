/**
 * /v1/task-types: the registered types, and what an operator sets per type at run time
 * (docs/flow-control.md): pause and resume, concurrency and rate limits; and how long its
 * finished tasks are kept (docs/retention.md). The settings live in
 * the store; a change that lets held tasks start answers the first of them, published here.
 */
import { Router } from '@koa/router';
import { rateBurst, type RetentionDefaults, type TaskType, type TypeSettings } from '@tasks/contracts';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';
import { typeLimitsBody, typePatchBody } from '../schemas.js';
import { validated } from '../validation.js';

/** taskTypes.list, cached for TYPES_CACHE_MS (types change only when executors start), dropped on a change made here. */
export function typesCache(deps: Pick<AppDeps, 'store' | 'config'>) {
  let cached: { at: number; list: { items: TaskType[]; retention: RetentionDefaults } } | undefined;
  const list = async (requestId: string) => {
    if (cached && Date.now() - cached.at < deps.config.typesCacheMs) return cached.list;
    const fresh = await deps.store.call('taskTypes.list', {}, { requestId });
    cached = { at: Date.now(), list: fresh };
    return fresh;
  };
  const read = async (requestId: string): Promise<TaskType[]> => (await list(requestId)).items;
  return Object.assign(read, { list, drop: () => (cached = undefined) });
}

/** The settings as REST shows them: with the burst a rate limit allows. */
function withBurst(s: TypeSettings) {
  return { ...s, rateBurst: s.ratePerSecond === null ? null : rateBurst(s.ratePerSecond) };
}

export function taskTypeRoutes(deps: AppDeps): Router<GatewayState> {
  const { store, publisher } = deps;
  const router = new Router<GatewayState>({ prefix: '/v1/task-types' });
  const types = typesCache(deps);

  /** Changes the settings, then publishes the held tasks the change let start. */
  async function update(
    ctx: GatewayContext,
    change: Partial<Omit<TypeSettings, 'type' | 'updatedAt' | 'updatedBy' | 'retention'>>,
  ) {
    const { requestId, log } = ctx.state;
    const { settings, released } = await store.call(
      'taskTypes.updateSettings',
      { type: ctx.params.type!, ...change, by: ctx.state.client ?? 'api' },
      { requestId },
    );
    types.drop();
    if (released.length > 0) {
      await publisher.publish(released, requestId, log, 'request');
      log.info({ type: settings.type, released: released.length }, 'held tasks released');
    }
    log.info({ settings }, 'task type settings changed');
    return settings;
  }

  router.get('task-types', '/', async (ctx: GatewayContext) => {
    // `retention`: the store's defaults, for types without their own (docs/retention.md).
    ctx.body = await types.list(ctx.state.requestId);
  });

  router.get('task-type', '/:type', async (ctx: GatewayContext) => {
    const settings = await store.call(
      'taskTypes.getSettings',
      { type: ctx.params.type! },
      { requestId: ctx.state.requestId },
    );
    const item = (await types(ctx.state.requestId)).find((t) => t.type === settings.type);
    ctx.body = { ...item, ...withBurst(settings) };
  });

  router.patch('update-task-type', '/:type', async (ctx: GatewayContext) => {
    const body = validated<{ paused?: boolean; retentionSeconds?: number | null }>(
      typePatchBody,
      ctx.request.body,
      'body',
    );
    ctx.body = withBurst(await update(ctx, body));
  });

  router.get('task-type-limits', '/:type/limits', async (ctx: GatewayContext) => {
    ctx.body = withBurst(
      await store.call(
        'taskTypes.getSettings',
        { type: ctx.params.type! },
        { requestId: ctx.state.requestId },
      ),
    );
  });

  router.put('set-task-type-limits', '/:type/limits', async (ctx: GatewayContext) => {
    const body = validated<{ concurrency?: number | null; ratePerSecond?: number | null }>(
      typeLimitsBody,
      ctx.request.body,
      'body',
    );
    ctx.body = withBurst(await update(ctx, body));
  });

  return router;
}
