/** /v1/tasks/{id}/webhooks: a task's webhook deliveries, and sending one again (docs/webhooks.md). */
import { Router } from '@koa/router';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';
import { HttpProblem } from '../middleware/problem-details.js';
import { redeliverBody } from '../schemas.js';
import { validated } from '../validation.js';

export function webhookRoutes(deps: AppDeps): Router<GatewayState> {
  const { store } = deps;
  const router = new Router<GatewayState>({ prefix: '/v1/tasks/:id/webhooks' });

  router.get('list-webhook-deliveries', '/', async (ctx: GatewayContext) => {
    ctx.body = await store.call('webhooks.list', { taskId: taskId(ctx) }, { requestId: ctx.state.requestId });
  });

  router.post('redeliver-webhook', '/:deliveryId/redeliver', async (ctx: GatewayContext) => {
    validated(redeliverBody, ctx.request.body ?? {}, 'body');
    const id = taskId(ctx);
    const deliveryId = ctx.params.deliveryId ?? '';
    // A delivery id is `<taskId>:<version>`: one of another task is not found under this one.
    if (!deliveryId.startsWith(`${id}:`) || !/^[0-9]{1,15}$/.test(deliveryId.slice(id.length + 1)))
      throw new HttpProblem(
        'WEBHOOK_DELIVERY_NOT_FOUND',
        `no webhook delivery ${deliveryId.slice(0, 120)} of task ${id}`,
      );
    ctx.status = 202;
    ctx.body = await store.call('webhooks.redeliver', { id: deliveryId }, { requestId: ctx.state.requestId });
  });

  return router;
}

function taskId(ctx: GatewayContext): string {
  const id = ctx.params.id ?? '';
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(id))
    throw new HttpProblem('TASK_NOT_FOUND', `no task with id ${id.slice(0, 100)}`);
  return id;
}
