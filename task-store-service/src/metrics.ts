import type { Registry } from 'prom-client';
import { Counter, Histogram } from 'prom-client';
import { serviceRegistry } from '@tasks/service-runtime';

export interface Metrics {
  registry: Registry;
  rpcCalls: Counter<'method' | 'outcome'>;
  rpcDuration: Histogram<'method'>;
  /** POSTs to /rpc (kind "http", one per HTTP request, a batch included) and calls in them by method. */
  rpcRequests: Counter<'kind' | 'method'>;
  /** Every command the store sends to the database (MongoDB driver command monitoring). */
  dbCommands: Counter<'command' | 'collection'>;
  /** Schedule ticks this store's keeper handled, by what became of them (store/schedule-keeper.ts). */
  scheduleTicks: Counter<'outcome'>;
  /** Finished tasks the retention sweeper removed, by type (docs/retention.md). */
  tasksRemoved: Counter<'type'>;
  /** Expired idempotency keys the retention sweeper removed (tasks' and flows'). */
  idempotencyKeysRemoved: Counter;
}

/** A registry per server instance, so several can live in one process (tests). */
export function createMetrics(): Metrics {
  const registry = serviceRegistry('task-store');
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
    rpcRequests: new Counter({
      name: 'task_store_rpc_requests_total',
      help: 'HTTP requests to /rpc (kind="http", method="") and the JSON-RPC calls they carried (kind="call", by method)',
      labelNames: ['kind', 'method'],
      registers: [registry],
    }),
    dbCommands: new Counter({
      name: 'task_store_db_commands_total',
      help: 'Database commands the store issued, by command name and collection',
      labelNames: ['command', 'collection'],
      registers: [registry],
    }),
    scheduleTicks: new Counter({
      name: 'task_store_schedule_ticks_total',
      help: 'Schedule ticks this store handled: created (its task), existing (another try had created it), skipped (overlap), refused (lastError)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    tasksRemoved: new Counter({
      name: 'task_store_tasks_removed_total',
      help: 'Finished tasks removed by the retention sweeper, by type',
      labelNames: ['type'],
      registers: [registry],
    }),
    idempotencyKeysRemoved: new Counter({
      name: 'task_store_idempotency_keys_removed_total',
      help: 'Expired idempotency keys (of tasks and flows) removed by the retention sweeper',
      registers: [registry],
    }),
  };
}
