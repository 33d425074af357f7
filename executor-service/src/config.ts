import { availableParallelism, hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ConfigError, envReader, readHttpLimits, httpLimitsEnvSchema } from '@tasks/service-runtime';
import { telemetryConfig, telemetryEnvSchema } from '@tasks/telemetry';

export { ConfigError };

/** Every variable the service reads, as JSON Schema (scripts/check-compose-env.ts reads it too). */
export const ENV_SCHEMA = {
  type: 'object',
  properties: {
    STORE_URL: { type: 'string', pattern: '^https?://', default: 'http://127.0.0.1:4001/rpc' },
    RPC_TOKEN: { type: 'string', minLength: 16 },
    AMQP_URL: { type: 'string', pattern: '^amqps?://', default: 'amqp://guest:guest@127.0.0.1:5672' },
    AMQP_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$', default: 'tasks' },
    CPU_WORKERS: { type: 'integer', minimum: 1, maximum: 256, default: availableParallelism() },
    CPU_WORKER_MAX_HEAP_MB: { type: 'integer', minimum: 16, maximum: 65_536, default: 1024 },
    IO_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
    LEASE_MS: { type: 'integer', minimum: 3_000, maximum: 3_600_000, default: 30_000 },
    STORE_BATCH_WINDOW_MS: { type: 'integer', minimum: 0, maximum: 1_000, default: 2 },
    STORE_BATCH_MAX_CALLS: { type: 'integer', minimum: 1, maximum: 10_000, default: 50 },
    SHUTDOWN_GRACE_MS: { type: 'integer', minimum: 0, maximum: 600_000, default: 10_000 },
    TASKS_DIR: { type: 'string', minLength: 1 },
    HTTP_ALLOW_HOSTS: { type: 'string', default: '' },
    METRICS_HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 9464 },
    // the ops server (/healthz, /readyz, /metrics) answers scrapers only: tighter limits than the public services'
    ...httpLimitsEnvSchema(
      {
        headersTimeoutMs: 5_000,
        requestTimeoutMs: 10_000,
        keepAliveTimeoutMs: 5_000,
        maxHeaderBytes: 8_192,
        maxHeadersCount: 50,
      },
      600_000,
    ),
    WORKER_ID: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' },
    WEBHOOK_SECRET: { type: 'string', minLength: 32 },
    WEBHOOK_POLL_MS: { type: 'integer', minimum: 50, maximum: 60_000, default: 1_000 },
    WEBHOOK_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
    WEBHOOK_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 60_000, default: 10_000 },
    // Tracing (docs/observability.md): the standard OpenTelemetry variables; off without an endpoint.
    ...telemetryEnvSchema('executor-service'),
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
  },
} as const;

const readEnv = envReader(ENV_SCHEMA);

/** The executor's configuration: its type is what loadConfig returns, each value typed by its variable's schema. */
export type Config = ReturnType<typeof loadConfig>;

/** Reads the environment once; throws one ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const v = readEnv(env);
  return Object.freeze({
    /** Tracing (docs/observability.md): off unless an OTLP endpoint is set. */
    telemetry: telemetryConfig(v),
    storeUrl: v.STORE_URL,
    rpcToken: v.RPC_TOKEN,
    amqpUrl: v.AMQP_URL,
    /** Names every exchange and queue (`<prefix>.work`, `<prefix>.cpu`, ...). */
    amqpPrefix: v.AMQP_PREFIX,
    cpuWorkers: v.CPU_WORKERS,
    /** Heap limit of each pool thread: a cpu task that allocates past it ends its thread, not the process. */
    cpuWorkerMaxHeapMb: v.CPU_WORKER_MAX_HEAP_MB,
    ioConcurrency: v.IO_CONCURRENCY,
    leaseMs: v.LEASE_MS,
    /** How long a claim or outcome waits for others to share one JSON-RPC batch; 0 = no batching. */
    storeBatchWindowMs: v.STORE_BATCH_WINDOW_MS,
    /** The most calls in one batch (at most the store's MAX_BATCH_CALLS). */
    storeBatchMaxCalls: v.STORE_BATCH_MAX_CALLS,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    tasksDir: v.TASKS_DIR,
    httpAllowHosts: Object.freeze(
      String(v.HTTP_ALLOW_HOSTS)
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    ),
    metricsHost: v.METRICS_HOST,
    metricsPort: v.METRICS_PORT,
    ...readHttpLimits(v),
    workerId: v.WORKER_ID ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    logLevel: v.LOG_LEVEL,
    /** Completion webhooks (docs/webhooks.md): without a secret this executor sends none. */
    webhookSecret: v.WEBHOOK_SECRET,
    webhookPollMs: v.WEBHOOK_POLL_MS,
    webhookConcurrency: v.WEBHOOK_CONCURRENCY,
    webhookTimeoutMs: v.WEBHOOK_TIMEOUT_MS,
  });
}
