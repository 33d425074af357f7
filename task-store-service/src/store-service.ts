/**
 * Builds the whole store (MongoDB connection, indexes, JSON-RPC server, HTTP server) without
 * reading the environment, so tests and main.ts start it the same way.
 */
import type { AddressInfo } from 'node:net';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { runShutdownSteps, SHUTDOWN_CLOSE_ALLOWANCE_MS } from '@tasks/service-runtime';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createHttpServer } from './http/http-server.js';
import { createMetrics, type Metrics } from './metrics.js';
import { handlers } from './rpc/handlers.js';
import { createRpcServer } from './rpc/rpc-server.js';
import { backfillBuckets } from './store/bucket-backfill.js';
import { markNewDatabase } from './store/finished-hour-backfill.js';
import { openCollections, ensureIndexes } from './store/collections.js';
import { CountKeeper } from './store/count-keeper.js';
import { finishFlowWork } from './store/flow-keeper.js';
import { keepTypes } from './store/type-keeper.js';
import { fireDueSchedules } from './store/schedule-keeper.js';
import { FenceSweeper } from './store/fence-sweep.js';
import { RetentionSweeper } from './store/retention.js';
import { sweepWebhookClaims } from './store/webhooks.js';
import { TaskTypeRegistry } from './store/task-type-registry.js';

export interface StoreService {
  /** The JSON-RPC endpoint, e.g. http://127.0.0.1:4001/rpc */
  url: string;
  port: number;
  /**
   * Stops taking requests, lets in-flight ones finish (up to the grace period), closes MongoDB;
   * rejects with a ShutdownIncomplete (naming what did not finish) after grace + close allowance.
   */
  close(): Promise<void>;
}

const FENCE_SWEEP_INTERVAL_MS = 60_000;
/** How often the flow keeper looks for flow work a crash left half done (store/flow-keeper.ts). */
const FLOW_KEEPER_INTERVAL_MS = 2_000;
/** How often the type keeper releases held tasks and frees slots (store/type-keeper.ts). */
const TYPE_KEEPER_INTERVAL_MS = 2_000;

/** How often the schedule keeper fires due ticks (store/schedule-keeper.ts): a tick fires this late at most. */
const SCHEDULE_KEEPER_INTERVAL_MS = 1_000;

export async function startStoreService(config: Readonly<Config>, log: Logger): Promise<StoreService> {
  // A bounded pool: FerretDB 1.24 on PostgreSQL deadlocks when ~50 updates run at once (each
  // holds one PostgreSQL connection of its 50 while waiting for a second); 20 stays clear of it.
  const client = new MongoClient(config.mongoUrl, {
    serverSelectionTimeoutMS: 5_000,
    appName: 'task-store',
    maxPoolSize: config.mongoPoolSize,
    // One code path for MongoDB and FerretDB: both accept this (docs/consistency.md).
    writeConcern: { ...config.mongoWriteConcern },
    // Counted in task_store_db_commands_total: the database operations per task are a cost we report.
    monitorCommands: true,
  });
  const metrics = createMetrics();
  client.on('commandStarted', (e) => metrics.dbCommands.inc(commandLabels(e)));
  await client.connect();
  const db = client.db(config.mongoDb);
  const collections = openCollections(
    db,
    {},
    {
      defaultSeconds: config.retention.defaultSeconds,
      idempotencyKeyTtlSeconds: config.retention.idempotencyKeyTtlSeconds,
    },
    { maxAttempts: config.webhookMaxAttempts, retryBaseMs: config.webhookRetryBaseMs },
  );
  const indexes = await ensureIndexes(collections, db);
  if (indexes.created.length > 0 || indexes.dropped.length > 0)
    log.info(indexes, 'indexes: created the missing ones (MongoDB), dropped the unusable ones (FerretDB)');
  // Before serving: tasks from before list buckets would be missing from list pages.
  await backfillBuckets(collections, log);
  // A new database needs no finishedHour backfill: the retention sweeper may start at once.
  await markNewDatabase(collections);

  if (config.rpcTokens.length > 0 && config.executorTokens.length === 0)
    log.warn('EXECUTOR_TOKEN is not set: every RPC_TOKEN holder may register task types');
  if (config.allowUnauthenticated && config.rpcTokens.length === 0)
    log.warn(
      { host: config.host },
      'ALLOW_UNAUTHENTICATED: the JSON-RPC API is open to anyone who can reach it',
    );
  const counts = new CountKeeper(collections, log, { deadWriterMs: config.statsDeadWriterMs });
  counts.start();
  const registry = new TaskTypeRegistry(collections);
  const rpc = createRpcServer(handlers({ collections, registry, counts }), metrics);
  const server = createHttpServer({
    rpc,
    db,
    metrics,
    log,
    tokens: config,
    maxBodyBytes: config.maxBodyBytes,
    maxBatchCalls: config.maxBatchCalls,
    limits: config,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const fenceSweeper = new FenceSweeper(collections.fences);
  const sweeper = setInterval(() => {
    fenceSweeper.sweep().catch((err: unknown) => log.warn({ err }, 'fence sweep failed'));
    sweepWebhookClaims(collections).catch((err: unknown) => log.warn({ err }, 'webhook claim sweep failed'));
  }, FENCE_SWEEP_INTERVAL_MS);
  sweeper.unref();
  const flowKeeper = every(FLOW_KEEPER_INTERVAL_MS, () =>
    finishFlowWork(collections, log).catch((err: unknown) => log.warn({ err }, 'flow keeper pass failed')),
  );
  const typeKeeper = every(TYPE_KEEPER_INTERVAL_MS, () =>
    keepTypes(collections, log).catch((err: unknown) => log.warn({ err }, 'type keeper pass failed')),
  );
  const retention = new RetentionSweeper(collections, {
    page: config.retention.sweepPage,
    flushCounts: () => counts.flush(),
  });
  const retentionKeeper = every(config.retention.sweepIntervalMs, () =>
    sweepRetention(retention, metrics, log).catch((err: unknown) =>
      log.warn({ err }, 'retention sweep failed; it tries again'),
    ),
  );
  const scheduleKeeper = every(SCHEDULE_KEEPER_INTERVAL_MS, () =>
    fireDueSchedules(
      { collections, registry },
      { log, onTick: (outcome) => metrics.scheduleTicks.inc({ outcome }) },
    ).catch((err: unknown) => log.warn({ err }, 'schedule keeper pass failed')),
  );

  return {
    url: `http://${config.host}:${port}/rpc`,
    port,
    async close() {
      clearInterval(sweeper);
      const keepersStopped = Promise.all([
        flowKeeper.stop(),
        typeKeeper.stop(),
        scheduleKeeper.stop(),
        retentionKeeper.stop(),
      ]);
      let grace: NodeJS.Timeout | undefined;
      // Bounded: with the database gone (or black-holed) requests and MongoClient.close can hang.
      await runShutdownSteps(
        [
          {
            name: 'drain HTTP requests',
            run: async () => {
              const closed = new Promise<void>((resolve) => server.close(() => resolve()));
              server.closeIdleConnections();
              grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
              await closed;
            },
          },
          { name: 'finish the keepers’ passes', run: () => keepersStopped },
          // The last deltas, marked stopped so that another store folds them in (docs/stats.md).
          { name: 'flush task counts', run: () => counts.stop() },
          { name: 'close MongoDB client', run: () => client.close() },
        ],
        config.shutdownGraceMs + SHUTDOWN_CLOSE_ALLOWANCE_MS,
      ).finally(() => clearTimeout(grace));
    },
  };
}

/**
 * Runs `pass` every `ms`, never two at once; `stop` also waits for a pass under way, so that none
 * writes after the MongoDB client is closed.
 */
function every(ms: number, pass: () => Promise<unknown>): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= pass().finally(() => (running = null));
  }, ms);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** The command's name and the collection it names (getMore names it apart; ping names none). */
function commandLabels(e: CommandStartedEvent): { command: string; collection: string } {
  const named: unknown = e.commandName === 'getMore' ? e.command.collection : e.command[e.commandName];
  return { command: e.commandName, collection: typeof named === 'string' ? named : '' };
}

/** One retention pass, its metrics and its progress line (docs/retention.md). */
async function sweepRetention(sweeper: RetentionSweeper, metrics: Metrics, log: Logger): Promise<void> {
  const t0 = Date.now();
  const r = await sweeper.sweep();
  if (r.backfilled !== undefined)
    log.info({ written: r.backfilled, ms: Date.now() - t0 }, 'retention: finishedHour backfill done');
  let removed = 0;
  for (const [type, n] of Object.entries(r.removed)) {
    metrics.tasksRemoved.inc({ type }, n);
    removed += n;
  }
  metrics.idempotencyKeysRemoved.inc(r.keys);
  const line = { removed, byType: r.removed, keys: r.keys, read: r.read, ms: Date.now() - t0 };
  if (removed > 0 || r.keys > 0) log.info(line, 'retention sweep');
  else log.debug(line, 'retention sweep');
}
