/**
 * Builds the Koa app without listening, so tests can drive `app.callback()`.
 * Middleware order: request id + logger → problem details → metrics → auth → rate limit →
 * content type → body parser → nesting depth → routes.
 */
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import ratelimit from 'koa-ratelimit';
import type { Router } from '@koa/router';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '@tasks/contracts';
import { apiKeyAuth } from './middleware/auth.js';
import { HttpProblem, problemDetails } from './middleware/problem-details.js';
import { requestContext } from './middleware/request-context.js';
import { requireJson } from './middleware/require-json.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { docsRoutes } from './routes/docs.js';
import { eventRoutes } from './routes/events.js';
import { metaRoutes } from './routes/meta.js';
import { operationsRoutes } from './routes/operations.js';
import { taskRoutes } from './routes/tasks.js';
import { taskActionRoutes } from './routes/task-actions.js';
import { webhookRoutes } from './routes/webhooks.js';
import { flowRoutes } from './routes/flows.js';
import { taskTypeRoutes } from './routes/task-types.js';
import { scheduleRoutes } from './routes/schedules.js';
import type { AppDeps, GatewayContext, GatewayState } from './app-context.js';

export type { AppDeps, GatewayContext, GatewayState } from './app-context.js';

const CLIENT_GONE = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export function createApp(deps: AppDeps): { app: Koa<GatewayState>; routers: Router<GatewayState>[] } {
  const app = new Koa<GatewayState>({ proxy: false });
  const routers = [
    taskActionRoutes(deps),
    taskRoutes(deps),
    webhookRoutes(deps),
    flowRoutes(deps),
    taskTypeRoutes(deps),
    scheduleRoutes(deps),
    eventRoutes(deps),
    metaRoutes(deps),
    operationsRoutes(deps),
    docsRoutes(),
    dashboardRoutes(),
  ];

  // Errors Koa meets outside the middleware chain (a response stream failing). A client closing
  // its SSE stream or dropping the connection is routine; anything else is worth a log line.
  app.on('error', (err: NodeJS.ErrnoException, ctx?: GatewayContext) => {
    const log = ctx?.state.log ?? deps.log;
    if (CLIENT_GONE.has(err.code ?? '')) log.debug({ code: err.code }, 'client went away mid-response');
    else log.error({ err }, 'response failed');
  });

  app.use(requestContext(deps.log));
  app.use(problemDetails);
  app.use(async (ctx, next) => {
    const stop = deps.metrics.duration.startTimer();
    try {
      await next();
    } finally {
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      stop({ route, method: ctx.method });
      deps.metrics.requests.inc({ route, method: ctx.method, status: String(ctx.status) });
    }
  });
  app.use(apiKeyAuth(deps.config.apiKeys));
  if (deps.config.rateLimitPerMinute > 0) {
    app.use(
      ratelimit({
        driver: 'memory',
        db: new Map(),
        duration: 60_000,
        max: deps.config.rateLimitPerMinute,
        id: (ctx) => (ctx.state as GatewayState).client ?? ctx.ip,
        whitelist: (ctx) => !ctx.path.startsWith('/v1'),
        throw: true,
        errorMessage: 'rate limit exceeded',
      }),
    );
  }
  app.use(requireJson);
  app.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: deps.config.maxBodyBytes,
      encoding: 'utf-8',
      onError: (err) => {
        throw err;
      },
    }),
  );
  app.use(async (ctx, next) => {
    // Bodies become JSON-RPC params one level down; deeper ones would overflow recursive code.
    if (jsonDepthExceeds(ctx.request.body, MAX_JSON_DEPTH - 2)) {
      throw new HttpProblem(
        'VALIDATION_FAILED',
        `request body nests deeper than ${MAX_JSON_DEPTH - 2} levels`,
        {
          fields: [{ path: '/', message: `nests deeper than ${MAX_JSON_DEPTH - 2} levels` }],
        },
      );
    }
    await next();
  });
  for (const r of routers) {
    app.use(r.routes());
    app.use(
      r.allowedMethods({
        throw: true,
        methodNotAllowed: () => new HttpProblem('METHOD_NOT_ALLOWED', 'method not allowed on this resource'),
        notImplemented: () => new HttpProblem('METHOD_NOT_ALLOWED', 'method not implemented'),
      }),
    );
  }
  return { app, routers };
}
