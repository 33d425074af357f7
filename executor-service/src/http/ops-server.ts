/** GET /healthz (alive), /readyz (broker connected and store answering), /metrics. */
import { createServer, type Server } from 'node:http';
import { type TaskStoreClient } from '@tasks/contracts';
import {
  answerClientErrors,
  applyHttpLimits,
  httpServerOptions,
  type HttpLimits,
} from '@tasks/service-runtime';
import type { Broker } from '@tasks/messaging';
import type { ExecutorMetrics } from '../metrics.js';
import type { CpuPool } from '../pool.js';

export function createOpsServer(deps: {
  /** False until task types are registered and consumers started. */
  isStarted: () => boolean;
  broker: Broker;
  store: TaskStoreClient;
  metrics: ExecutorMetrics;
  pool: CpuPool;
  limits: HttpLimits;
}): Server {
  const server = createServer(httpServerOptions(deps.limits), (req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: 'method not allowed' }));
    if (path === '/healthz') return send(200, JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      if (!deps.isStarted()) return send(503, JSON.stringify({ status: 'starting' }));
      deps.store.call('taskTypes.list', {}, { timeoutMs: 2_000 }).then(
        () =>
          send(
            deps.broker.connected ? 200 : 503,
            JSON.stringify({ broker: deps.broker.connected ? 'up' : 'down', store: 'up' }),
          ),
        () => send(503, JSON.stringify({ broker: deps.broker.connected ? 'up' : 'down', store: 'down' })),
      );
      return;
    }
    if (path === '/metrics') {
      deps.metrics.poolUtilization.set(deps.pool.utilization);
      deps.metrics.poolThreads.set(deps.pool.threadCount);
      deps.metrics.registry.metrics().then(
        (text) => send(200, text, deps.metrics.registry.contentType),
        () => send(500, JSON.stringify({ error: 'metrics failed' })),
      );
      return;
    }
    send(404, JSON.stringify({ error: 'not found' }));
  });
  answerClientErrors(server, (_status, message) => ({
    contentType: 'application/json',
    body: JSON.stringify({ error: message }),
  }));
  return applyHttpLimits(server, deps.limits);
}
