/** /v1/flows: create a DAG of tasks, show one, list them, cancel one, follow one (docs/flows.md). */
import { Router } from '@koa/router';
import type { CreateFlowParams, Flow } from '@tasks/contracts';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';
import { followFlow } from '../events/event-hub.js';
import { HttpProblem } from '../middleware/problem-details.js';
import { createFlowBody, flowListQuery, flowPatchBody } from '../schemas.js';
import { checkScheduleBound, validated } from '../validation.js';
import { idempotencyKeyOf, startStream } from './tasks.js';

export function flowRoutes(deps: AppDeps): Router<GatewayState> {
  const { store, publisher } = deps;
  const router = new Router<GatewayState>({ prefix: '/v1/flows' });

  router.post('create-flow', '/', async (ctx: GatewayContext) => {
    const body = validated<Omit<CreateFlowParams, 'idempotencyKey'>>(
      createFlowBody,
      ctx.request.body,
      'body',
    );
    checkScheduleBound(body.nodes, (i) => `/nodes/${i}`);
    const key = idempotencyKeyOf(ctx);
    const { requestId, log } = ctx.state;
    const { flow, created, queued } = await store.call(
      'flows.create',
      { ...body, ...(key !== undefined && { idempotencyKey: key }) },
      { requestId, idempotent: key !== undefined },
    );
    // The nodes without dependencies are due now; the others are published as they become due.
    if (queued.length > 0) {
      await publisher.publish(queued, requestId, log, 'request');
      for (const t of queued) void publisher.emit(t, log);
    }
    ctx.status = created ? 201 : 200;
    ctx.set('location', `/v1/flows/${flow.id}`);
    ctx.body = flow;
  });

  router.get('list-flows', '/', async (ctx: GatewayContext) => {
    const { limit, cursor } = validated<{ limit?: string; cursor?: string }>(
      flowListQuery,
      { ...ctx.query },
      'query',
    );
    if (limit !== undefined && Number(limit) > 200) {
      throw new HttpProblem('VALIDATION_FAILED', 'limit must be at most 200', {
        fields: [{ path: '?/limit', message: 'must be <= 200' }],
      });
    }
    ctx.body = await store.call(
      'flows.list',
      { ...(limit !== undefined && { limit: Number(limit) }), ...(cursor !== undefined && { cursor }) },
      { requestId: ctx.state.requestId },
    );
  });

  router.get('get-flow', '/:id', async (ctx: GatewayContext) => {
    ctx.body = await store.call('flows.get', { id: flowId(ctx) }, { requestId: ctx.state.requestId });
  });

  router.patch('update-flow', '/:id', async (ctx: GatewayContext) => {
    validated<{ status: 'cancelled' }>(flowPatchBody, ctx.request.body, 'body');
    const { requestId, log } = ctx.state;
    const { flow, cancelled } = await store.call(
      'flows.cancel',
      { id: flowId(ctx), by: ctx.state.client ?? 'api' },
      { requestId },
    );
    // Executors running a cancelled node listen for these and stop it.
    await Promise.all(cancelled.map((t) => publisher.emit(t, log)));
    ctx.body = flow;
  });

  router.get('follow-flow', '/:id/events', async (ctx: GatewayContext) => {
    const id = flowId(ctx);
    const load = (): Promise<Flow> => store.call('flows.get', { id }, { requestId: ctx.state.requestId });
    await load(); // 404 before the stream starts
    startStream(ctx, followFlow(deps.hub, id, load).stream);
  });

  return router;
}

function flowId(ctx: GatewayContext): string {
  const id = ctx.params.id ?? '';
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(id))
    throw new HttpProblem('FLOW_NOT_FOUND', `no flow with id ${id.slice(0, 100)}`);
  return id;
}
