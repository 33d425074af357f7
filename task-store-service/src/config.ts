import { RETENTION_BOUNDS } from '@tasks/contracts';
import {
  ConfigError,
  envReader,
  isLoopbackHost,
  readHttpLimits,
  httpLimitsEnvSchema,
  secretList,
} from '@tasks/service-runtime';
import { telemetryConfig, telemetryEnvSchema } from '@tasks/telemetry';

export { ConfigError };

/** Every variable the service reads, as JSON Schema (scripts/check-compose-env.ts reads it too). */
export const ENV_SCHEMA = {
  type: 'object',
  properties: {
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 4001 },
    MONGO_URL: { type: 'string', pattern: '^mongodb(\\+srv)?://', default: 'mongodb://127.0.0.1:27017' },
    MONGO_DB: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,63}$', default: 'tasks' },
    MONGO_POOL_SIZE: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
    MONGO_WRITE_CONCERN: { type: 'string', pattern: '^(majority|[0-9]{1,2})$', default: 'majority' },
    MONGO_JOURNAL: { type: 'boolean', default: true },
    // Comma-separated lists (16+ characters each); no default: unset means no auth on loopback.
    RPC_TOKEN: { type: 'string' },
    EXECUTOR_TOKEN: { type: 'string' },
    ALLOW_UNAUTHENTICATED: { type: 'boolean', default: false },
    // Tracing (docs/observability.md): the standard OpenTelemetry variables; off without an endpoint.
    ...telemetryEnvSchema('task-store-service'),
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    MAX_BODY_BYTES: { type: 'integer', minimum: 1024, maximum: 104_857_600, default: 5_242_880 },
    MAX_BATCH_CALLS: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
    SHUTDOWN_GRACE_MS: { type: 'integer', minimum: 0, maximum: 600_000, default: 10_000 },
    STATS_DEAD_WRITER_MS: { type: 'integer', minimum: 1_000, maximum: 3_600_000, default: 15_000 },
    TASK_RETENTION_SECONDS: {
      type: 'integer',
      minimum: RETENTION_BOUNDS.minSeconds,
      maximum: RETENTION_BOUNDS.maxSeconds,
      default: 604_800,
    },
    IDEMPOTENCY_KEY_TTL_SECONDS: {
      type: 'integer',
      minimum: RETENTION_BOUNDS.minSeconds,
      maximum: RETENTION_BOUNDS.maxSeconds,
      default: 86_400,
    },
    RETENTION_SWEEP_INTERVAL_MS: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 60_000 },
    RETENTION_SWEEP_PAGE: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 },
    WEBHOOK_MAX_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 20, default: 8 },
    WEBHOOK_RETRY_BASE_MS: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 10_000 },
    ...httpLimitsEnvSchema(),
  },
} as const;

const readEnv = envReader(ENV_SCHEMA);

/** The task store's configuration: its type is what loadConfig returns, each value typed by its variable's schema. */
export type Config = ReturnType<typeof loadConfig>;

/** Reads the environment once; throws one ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const v = readEnv(env);
  const rpcTokens = secretList(v.RPC_TOKEN, 'RPC_TOKEN');
  const executorTokens = secretList(v.EXECUTOR_TOKEN, 'EXECUTOR_TOKEN');
  const allowUnauthenticated = v.ALLOW_UNAUTHENTICATED;
  const host = v.HOST;
  if (
    !isLoopbackHost(host) &&
    !allowUnauthenticated &&
    (rpcTokens.length === 0 || executorTokens.length === 0)
  )
    throw new ConfigError(
      `invalid configuration: HOST ${host} is not a loopback address, so RPC_TOKEN and EXECUTOR_TOKEN ` +
        'must both be set (ALLOW_UNAUTHENTICATED=true turns this check off, for development only)',
    );
  const w = v.MONGO_WRITE_CONCERN;
  return Object.freeze({
    /** Tracing (docs/observability.md): off unless an OTLP endpoint is set. */
    telemetry: telemetryConfig(v),
    host,
    port: v.PORT,
    mongoUrl: v.MONGO_URL,
    mongoDb: v.MONGO_DB,
    /** Most connections to MongoDB at once. */
    mongoPoolSize: v.MONGO_POOL_SIZE,
    /** Write concern of every write: `w` ('majority' or a number of members) and the journal flag. */
    mongoWriteConcern: Object.freeze({
      w: w === 'majority' ? ('majority' as const) : Number(w),
      journal: v.MONGO_JOURNAL,
    }),
    /**
     * Bearer tokens accepted for every method but taskTypes.register (several while rotating).
     * With none of these nor executorTokens, auth is off.
     */
    rpcTokens,
    /** Bearer tokens accepted for every method, taskTypes.register included (executors). */
    executorTokens,
    /** Development only: listen on a non-loopback HOST without tokens. */
    allowUnauthenticated,
    logLevel: v.LOG_LEVEL,
    maxBodyBytes: v.MAX_BODY_BYTES,
    /** Most calls in one JSON-RPC batch. */
    maxBatchCalls: v.MAX_BATCH_CALLS,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    /** A store's counts document unchanged this long means its store died: the others recount (docs/stats.md). */
    statsDeadWriterMs: v.STATS_DEAD_WRITER_MS,
    /** Retention of finished tasks and idempotency keys, and the sweeper's pace (docs/retention.md). */
    retention: Object.freeze({
      /** Finished tasks of a type without its own retentionSeconds are removed this long after they ended. */
      defaultSeconds: v.TASK_RETENTION_SECONDS,
      /** An idempotency key older than this is treated as absent, and removed. */
      idempotencyKeyTtlSeconds: v.IDEMPOTENCY_KEY_TTL_SECONDS,
      /** Pause between sweeper passes. */
      sweepIntervalMs: v.RETENTION_SWEEP_INTERVAL_MS,
      /** Most tasks (and most keys) one pass reads. */
      sweepPage: v.RETENTION_SWEEP_PAGE,
    }),
    /** Webhook retries (docs/webhooks.md): attempts per delivery before it is failed, and the first delay. */
    webhookMaxAttempts: v.WEBHOOK_MAX_ATTEMPTS,
    webhookRetryBaseMs: v.WEBHOOK_RETRY_BASE_MS,
    ...readHttpLimits(v),
  });
}
