import { Router } from '@koa/router';
import type { TaskStatus } from '@tasks/contracts';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';
import { eventsQuery } from '../schemas.js';
import { validated } from '../validation.js';
import { startStream } from './tasks.js';

/** GET /v1/events?type=&status= — every status change, for dashboards. */
export function eventRoutes(deps: AppDeps): Router<GatewayState> {
  const router = new Router<GatewayState>();
  router.get('all-events', '/v1/events', (ctx: GatewayContext) => {
    const q = validated<{ type?: string; status?: TaskStatus }>(eventsQuery, { ...ctx.query }, 'query');
    const sub = deps.hub.open((e, s) => {
      if ((q.type && e.type !== q.type) || (q.status && e.status !== q.status)) return;
      s.send('status', e, `${e.taskId}:${e.version}`);
    });
    sub.send('ready', {});
    startStream(ctx, sub.stream);
  });
  return router;
}
