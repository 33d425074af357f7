import { Counter, Gauge, Histogram } from 'prom-client';
import { serviceRegistry } from '@tasks/service-runtime';

export type GatewayMetrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = serviceRegistry('gateway');
  return {
    registry,
    requests: new Counter({
      name: 'gateway_http_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route', 'method'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    publishes: new Counter({
      name: 'gateway_publish_total',
      help: 'Work messages published, by source (request, dispatcher) and outcome (confirmed, failed, deferred: broker disconnected, left to the dispatcher)',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'gateway_outbox_backlog',
      help: 'Unpublished queued tasks the dispatcher found on its last pass (capped by DISPATCH_BATCH)',
      registers: [registry],
    }),
    requeuedLeases: new Counter({
      name: 'gateway_requeued_leases_total',
      help: 'Expired leases the dispatcher handed back to the queue (or failed)',
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'gateway_dead_letters_total',
      help: 'Dead-lettered messages recorded in the store, by outcome (failed: its task was failed DEAD_LETTERED; recorded: the task had moved on, or none)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    reconciled: new Counter({
      name: 'gateway_reconciled_total',
      help: 'Queued tasks published again by the reconciler because they waited, due and unclaimed, with an empty queue',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    unservedTypes: new Gauge({
      name: 'gateway_unserved_types',
      help: 'Task types with messages waiting and no executor consuming them, on the reconciler’s last pass',
      registers: [registry],
    }),
    sseClients: new Gauge({
      name: 'gateway_sse_clients',
      help: 'Open Server-Sent Events streams',
      registers: [registry],
    }),
  };
}
