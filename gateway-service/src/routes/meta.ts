/** Stats, health, metrics. */
import { Router } from '@koa/router';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';

export function metaRoutes(deps: AppDeps): Router<GatewayState> {
  const router = new Router<GatewayState>();
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
