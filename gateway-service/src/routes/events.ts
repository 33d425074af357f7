import { Router } from '@koa/router';
import type { TaskStatus } from '@tasks/contracts';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';
import { openEventStream } from '../events/resume.js';
import { eventsQuery } from '../schemas.js';
import { validated } from '../validation.js';
import { startStream } from './tasks.js';

/** GET /v1/events?type=&status= — every status change, for dashboards; resumable with Last-Event-ID. */
export function eventRoutes(deps: AppDeps): Router<GatewayState> {
  const router = new Router<GatewayState>();
  router.get('all-events', '/v1/events', (ctx: GatewayContext) => {
    const q = validated<{ type?: string; status?: TaskStatus }>(eventsQuery, { ...ctx.query }, 'query');
    const lastEventId = ctx.get('last-event-id') || undefined;
    const sub = openEventStream(deps.hub, deps.store, q, lastEventId, ctx.state.log);
    startStream(ctx, sub.stream);
  });
  return router;
}
