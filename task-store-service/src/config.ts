import { ConfigError, envReader, readHttpLimits, type HttpLimits } from '@tasks/contracts';

export { ConfigError };

export interface Config extends HttpLimits {
  host: string;
  port: number;
  mongoUrl: string;
  mongoDb: string;
  /** Most connections to MongoDB at once. */
  mongoPoolSize: number;
  /** When set, every call must carry `Authorization: Bearer <token>`. */
  rpcToken: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  maxBodyBytes: number;
  /** Most calls in one JSON-RPC batch. */
  maxBatchCalls: number;
  shutdownGraceMs: number;
}

const schema = {
  type: 'object',
  properties: {
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 4001 },
    MONGO_URL: { type: 'string', pattern: '^mongodb(\\+srv)?://', default: 'mongodb://127.0.0.1:27017' },
    MONGO_DB: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,63}$', default: 'tasks' },
    MONGO_POOL_SIZE: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
    RPC_TOKEN: { type: 'string', minLength: 16 },
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    MAX_BODY_BYTES: { type: 'integer', minimum: 1024, maximum: 104_857_600, default: 5_242_880 },
    MAX_BATCH_CALLS: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
    SHUTDOWN_GRACE_MS: { type: 'integer', minimum: 0, maximum: 600_000, default: 10_000 },
    HEADERS_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600_000, default: 10_000 },
    REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 30_000 },
    KEEP_ALIVE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600_000, default: 65_000 },
    MAX_HEADER_BYTES: { type: 'integer', minimum: 1024, maximum: 65_536, default: 16_384 },
    MAX_HEADERS_COUNT: { type: 'integer', minimum: 10, maximum: 2000, default: 100 },
  },
} as const;

const readEnv = envReader(schema);

/** Reads the environment once; throws one ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const v = readEnv(env);
  return Object.freeze({
    host: v.HOST as string,
    port: v.PORT as number,
    mongoUrl: v.MONGO_URL as string,
    mongoDb: v.MONGO_DB as string,
    mongoPoolSize: v.MONGO_POOL_SIZE as number,
    rpcToken: v.RPC_TOKEN as string | undefined,
    logLevel: v.LOG_LEVEL as Config['logLevel'],
    maxBodyBytes: v.MAX_BODY_BYTES as number,
    maxBatchCalls: v.MAX_BATCH_CALLS as number,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS as number,
    ...readHttpLimits(v),
  });
}
