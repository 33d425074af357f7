/** /v1/schedules: cron schedules that create tasks (docs/schedules.md). The store fires them. */
import { Router } from '@koa/router';
import type { CreateScheduleParams } from '@tasks/contracts';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';
import { HttpProblem } from '../middleware/problem-details.js';
import { createScheduleBody, schedulePatchBody } from '../schemas.js';
import { validated } from '../validation.js';

export function scheduleRoutes(deps: AppDeps): Router<GatewayState> {
  const { store } = deps;
  const router = new Router<GatewayState>({ prefix: '/v1/schedules' });

  // The store checks the cron, timezone, type and payload (one parser, in the one place that
  // fires them); its refusals come back as the same problems, naming the field.
  router.post('create-schedule', '/', async (ctx: GatewayContext) => {
    const body = validated<CreateScheduleParams>(createScheduleBody, ctx.request.body, 'body');
    const schedule = await store.call('schedules.create', body, { requestId: ctx.state.requestId });
    ctx.status = 201;
    ctx.set('location', `/v1/schedules/${schedule.id}`);
    ctx.body = schedule;
  });

  router.get('list-schedules', '/', async (ctx: GatewayContext) => {
    ctx.body = await store.call('schedules.list', {}, { requestId: ctx.state.requestId });
  });

  router.get('get-schedule', '/:id', async (ctx: GatewayContext) => {
    ctx.body = await store.call('schedules.get', { id: scheduleId(ctx) }, { requestId: ctx.state.requestId });
  });

  router.patch('update-schedule', '/:id', async (ctx: GatewayContext) => {
    const body = validated<Partial<CreateScheduleParams>>(schedulePatchBody, ctx.request.body, 'body');
    ctx.body = await store.call(
      'schedules.update',
      { ...body, id: scheduleId(ctx) },
      { requestId: ctx.state.requestId },
    );
  });

  router.delete('delete-schedule', '/:id', async (ctx: GatewayContext) => {
    const id = scheduleId(ctx);
    const { deleted } = await store.call('schedules.delete', { id }, { requestId: ctx.state.requestId });
    if (!deleted) throw notFound(id);
    ctx.status = 204;
  });

  return router;
}

function scheduleId(ctx: GatewayContext): string {
  const id = ctx.params.id ?? '';
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(id)) throw notFound(id.slice(0, 100));
  return id;
}

function notFound(id: string): HttpProblem {
  return new HttpProblem('SCHEDULE_NOT_FOUND', `no schedule with id ${id}`);
}
