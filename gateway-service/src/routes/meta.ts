/** Task types, stats, health, metrics. */
import { Router } from '@koa/router';
import type { TaskType } from '@tasks/contracts';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';

/** taskTypes.list, cached for TYPES_CACHE_MS (types change only when executors start). */
export function typesCache(deps: Pick<AppDeps, 'store' | 'config'>) {
  let cached: { at: number; items: TaskType[] } | undefined;
  return async (requestId: string): Promise<TaskType[]> => {
    if (cached && Date.now() - cached.at < deps.config.typesCacheMs) return cached.items;
    const { items } = await deps.store.call('taskTypes.list', {}, { requestId });
    cached = { at: Date.now(), items };
    return items;
  };
}

export function metaRoutes(deps: AppDeps): Router<GatewayState> {
  const router = new Router<GatewayState>();
  const types = typesCache(deps);

  router.get('task-types', '/v1/task-types', async (ctx: GatewayContext) => {
    ctx.body = { items: await types(ctx.state.requestId) };
  });

  router.get('stats', '/v1/stats', async (ctx: GatewayContext) => {
    ctx.body = await deps.store.call('tasks.stats', {}, { requestId: ctx.state.requestId });
  });

  router.get('healthz', '/healthz', (ctx: GatewayContext) => {
    ctx.body = { status: 'ok' };
  });

  router.get('readyz', '/readyz', async (ctx: GatewayContext) => {
    const store = await deps.store.call('taskTypes.list', {}, { timeoutMs: 2_000, idempotent: false }).then(
      () => 'up',
      () => 'down',
    );
    const broker = deps.broker.connected ? 'up' : 'down';
    const stopping = deps.isDraining?.() ?? false;
    ctx.status = store === 'up' && broker === 'up' && !stopping ? 200 : 503;
    ctx.body = { store, broker, ...(stopping && { stopping }) };
  });

  router.get('metrics', '/metrics', async (ctx: GatewayContext) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  return router;
}
