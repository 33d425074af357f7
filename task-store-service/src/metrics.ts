import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  rpcCalls: Counter<'method' | 'outcome'>;
  rpcDuration: Histogram<'method'>;
}

/** A registry per server instance, so several can live in one process (tests). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'task-store' });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    rpcCalls: new Counter({
      name: 'task_store_rpc_calls_total',
      help: 'JSON-RPC calls by method and outcome (ok or the error type)',
      labelNames: ['method', 'outcome'],
      registers: [registry],
    }),
    rpcDuration: new Histogram({
      name: 'task_store_rpc_duration_seconds',
      help: 'JSON-RPC call latency by method',
      labelNames: ['method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
