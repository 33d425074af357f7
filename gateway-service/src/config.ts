import {
  ConfigError,
  envReader,
  isLoopbackHost,
  readHttpLimits,
  httpLimitsEnvSchema,
} from '@tasks/service-runtime';
import { telemetryConfig, telemetryEnvSchema } from '@tasks/telemetry';

export { ConfigError };

/** Every variable the service reads, as JSON Schema (scripts/check-compose-env.ts reads it too). */
export const ENV_SCHEMA = {
  type: 'object',
  properties: {
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    STORE_URL: { type: 'string', pattern: '^https?://', default: 'http://127.0.0.1:4001/rpc' },
    RPC_TOKEN: { type: 'string', minLength: 16 },
    STORE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600_000, default: 5000 },
    AMQP_URL: { type: 'string', pattern: '^amqps?://', default: 'amqp://guest:guest@127.0.0.1:5672' },
    AMQP_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$', default: 'tasks' },
    API_KEYS: { type: 'string', default: '' },
    ALLOW_UNAUTHENTICATED: { type: 'boolean', default: false },
    // Tracing (docs/observability.md): the standard OpenTelemetry variables; off without an endpoint.
    ...telemetryEnvSchema('gateway-service'),
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    MAX_BODY_BYTES: { type: 'integer', minimum: 1024, maximum: 104_857_600, default: 1_048_576 },
    RATE_LIMIT_PER_MINUTE: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 6000 },
    DISPATCH_INTERVAL_MS: { type: 'integer', minimum: 100, maximum: 600_000, default: 1000 },
    DISPATCH_BATCH: { type: 'integer', minimum: 1, maximum: 1000, default: 500 },
    REPUBLISH_AFTER_MS: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 5000 },
    RECONCILE_INTERVAL_MS: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 30_000 },
    RECONCILE_AFTER_MS: { type: 'integer', minimum: 1_000, maximum: 86_400_000, default: 60_000 },
    PUBLISH_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 60_000, default: 2000 },
    TYPES_CACHE_MS: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 5000 },
    SSE_MAX_BUFFER_BYTES: { type: 'integer', minimum: 1024, maximum: 104_857_600, default: 1_048_576 },
    SHUTDOWN_GRACE_MS: { type: 'integer', minimum: 0, maximum: 600_000, default: 10_000 },
    ...httpLimitsEnvSchema(),
  },
} as const;

const readEnv = envReader(ENV_SCHEMA);

/** The gateway's configuration: its type is what loadConfig returns, each value typed by its variable's schema. */
export type Config = ReturnType<typeof loadConfig>;

/** Reads the environment once; throws one ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const v = readEnv(env);
  const apiKeys = String(v.API_KEYS)
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (apiKeys.some((k) => k.length < 16))
    throw new ConfigError('invalid configuration: API_KEYS must each be at least 16 characters');
  const host = v.HOST;
  const allowUnauthenticated = v.ALLOW_UNAUTHENTICATED;
  if (!isLoopbackHost(host) && apiKeys.length === 0 && !allowUnauthenticated)
    throw new ConfigError(
      `invalid configuration: HOST ${host} is not a loopback address, so API_KEYS must be set ` +
        '(ALLOW_UNAUTHENTICATED=true turns this check off, for development only)',
    );
  return Object.freeze({
    /** Tracing (docs/observability.md): off unless an OTLP endpoint is set. */
    telemetry: telemetryConfig(v),
    host,
    port: v.PORT,
    storeUrl: v.STORE_URL,
    rpcToken: v.RPC_TOKEN,
    /** How long a request waits for the store (retries included) before answering 503. */
    storeTimeoutMs: v.STORE_TIMEOUT_MS,
    amqpUrl: v.AMQP_URL,
    amqpPrefix: v.AMQP_PREFIX,
    /** Bearer keys accepted on /v1; empty means auth is off. */
    apiKeys: Object.freeze(apiKeys),
    /** Development only: listen on a non-loopback HOST without API_KEYS. */
    allowUnauthenticated,
    logLevel: v.LOG_LEVEL,
    maxBodyBytes: v.MAX_BODY_BYTES,
    /** Requests per client (API key, else IP) per minute on /v1; 0 turns the limit off. */
    rateLimitPerMinute: v.RATE_LIMIT_PER_MINUTE,
    dispatchIntervalMs: v.DISPATCH_INTERVAL_MS,
    dispatchBatch: v.DISPATCH_BATCH,
    /** A queued task not confirmed as published after this long is published by the dispatcher. */
    republishAfterMs: v.REPUBLISH_AFTER_MS,
    /** How often the reconciler compares queued tasks with the broker's queues. */
    reconcileIntervalMs: v.RECONCILE_INTERVAL_MS,
    /** A queued task due and untouched this long, with its type's queue empty, is published again. */
    reconcileAfterMs: v.RECONCILE_AFTER_MS,
    publishTimeoutMs: v.PUBLISH_TIMEOUT_MS,
    typesCacheMs: v.TYPES_CACHE_MS,
    /** Bytes an SSE client may fall behind before its stream is closed. */
    sseMaxBufferBytes: v.SSE_MAX_BUFFER_BYTES,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    ...readHttpLimits(v),
  });
}
