import { Counter, Gauge, Histogram } from 'prom-client';
import { serviceRegistry } from '@tasks/service-runtime';

export type ExecutorMetrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = serviceRegistry('executor');
  return {
    registry,
    started: new Counter({
      name: 'executor_tasks_started_total',
      help: 'Tasks claimed and started, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    finished: new Counter({
      name: 'executor_tasks_finished_total',
      help: 'Task runs ended, by type and outcome (succeeded, failed, retried, timeout, cancelled, lease_lost, released)',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'executor_task_duration_seconds',
      help: 'Run time of a task attempt, by type',
      labelNames: ['type'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'executor_tasks_in_flight',
      help: 'Deliveries being processed, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    poolUtilization: new Gauge({
      name: 'executor_cpu_pool_utilization',
      help: 'Piscina pool utilisation (0..1)',
      registers: [registry],
    }),
    poolThreads: new Gauge({
      name: 'executor_cpu_pool_threads',
      help: 'Piscina threads alive (back to CPU_WORKERS after a thread dies)',
      registers: [registry],
    }),
    storeRetries: new Counter({
      name: 'executor_store_retries_total',
      help: 'Store calls repeated because the store was unreachable or busy, by method',
      labelNames: ['method'] as const,
      registers: [registry],
    }),
    storeBatchSize: new Histogram({
      name: 'executor_store_batch_calls',
      help: 'Claims and outcomes sent to the store per HTTP request (STORE_BATCH_WINDOW_MS)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    webhookAttempts: new Counter({
      name: 'executor_webhook_attempts_total',
      help: 'Webhook POSTs sent, by outcome (delivered: a 2xx answer; failed: anything else)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'executor_dead_lettered_total',
      help: 'Messages sent to the dead-letter queue by the executor, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
