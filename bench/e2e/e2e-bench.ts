/**
 * End-to-end throughput and latency: `noop` tasks through our whole system (gateway → store →
 * RabbitMQ → executor → store) against BullMQ (Koa → queue.add → Redis → Worker), same machine,
 * same run, same closed-loop load generator. See bench/E2E.md for what each figure means.
 *
 * Usage (from the repository root):
 *   npx tsx --conditions=source bench/e2e/e2e-bench.ts [--quick] [--ours-n=N] [--bullmq-n=N]
 *     [--store-pool=N] [--out=FILE]
 * --store-pool: the store's MONGO_POOL_SIZE (its MongoDB driver pool; the store's default
 * otherwise, which stays below the 50 concurrent updates that deadlock FerretDB on PostgreSQL).
 * --quick: at most ~2 minutes, writes $TMPDIR/e2e-quick.json (so a smoke run never replaces the
 * recorded results); otherwise at most ~10 minutes, writes bench/results/e2e.json. Needs RabbitMQ at 127.0.0.1:5672 (AMQP_URL) and Redis
 * at 127.0.0.1:6379 (REDIS_URL); the MongoDB-wire server comes from provisionMongo().
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { provisionMongo } from '@tasks/dev-mongo';
import { Budget, progress, round } from '../store/measure.js';
import { machine } from '../store/report.js';
import { runBullmq } from './bullmq.js';
import { Cleanup, withTimeout } from './cleanup.js';
import { summarise, type ScenarioResult } from './figures.js';
import { runOurs } from './ours.js';
import { PgStats, type PgSettings } from './pg-stats.js';
import { childPidsByName } from './processes.js';
import {
  gatewayRoutes,
  markdownTables,
  postgresPerTask,
  ratios,
  storeCallsPerTask,
  type E2eResults,
} from './report.js';
import { settings } from './settings.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const numberArg = (name: string) => {
  const v = args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  return v === undefined ? undefined : Number(v);
};
const oursN = numberArg('ours-n');
const out = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
const outFile = out === undefined ? undefined : resolve(out);
const RESULTS_FILE = fileURLToPath(new URL('../results/e2e.json', import.meta.url));
const bullmqN = numberArg('bullmq-n');
const storePoolArg = numberArg('store-pool');
const s = settings(quick, { oursN, bullmqN });
const budget = new Budget(s.budgetMs);
const command = `npx tsx --conditions=source bench/e2e/e2e-bench.ts${args.length ? ` ${args.join(' ')}` : ''}`;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// dev-mongo's default for FerretDB's PostgreSQL backend (only read when that backend was chosen)
const PG_URL = process.env.FERRETDB_POSTGRESQL_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// The benchmark measures throughput: the gateway's per-client limit (6,000/min) would cap it.
// startSystem passes our environment on to the services.
process.env.RATE_LIMIT_PER_MINUTE = '0';

const DURABILITY = {
  ours:
    'Every accepted task and every state change is a write to the MongoDB-wire server (here FerretDB on SQLite) ' +
    'before it is acknowledged; work messages are persistent, on quorum queues, published with publisher confirms, ' +
    'and acked only after the outcome is recorded in the store. An accepted task survives a killed executor, ' +
    'a store restart and a broker outage.',
  bullmq:
    'Jobs live only in Redis memory: this Redis runs with save "" and appendonly no, i.e. no persistence at all; ' +
    'a Redis restart or crash loses every queued, active and finished job. BullMQ does not wait for any disk write.',
};

function version(pkg: string): string {
  const file = fileURLToPath(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

async function run(): Promise<void> {
  const cpu0 = process.cpuUsage();
  const machineInfo = machine();
  const cleanup = new Cleanup();
  progress(budget, `e2e benchmark (${s.mode}), budget ${s.budgetMs / 1000} s, load average ${loadavg()[0]}`);
  // FerretDB on PostgreSQL gets a database of its own, so that PostgreSQL's share can be measured.
  const pgOwn =
    process.env.MONGO_URL || process.env.DEV_MONGO_FERRETDB_HANDLER === 'sqlite'
      ? undefined
      : await PgStats.create(PG_URL);
  const unregisterPg = pgOwn ? cleanup.add(() => pgOwn.drop()) : undefined;
  if (pgOwn) process.env.FERRETDB_POSTGRESQL_URL = pgOwn.url;
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-bench-ferretdb-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  const mongo = await provisionMongo({
    dataDir,
    log: (line) => progress(budget, `dev-mongo: ${line}`),
  }).catch(async (err: unknown) => {
    removeDataDir();
    await pgOwn?.drop();
    throw err;
  });
  // The data directory goes even when the server does not stop in time (or was already gone).
  cleanup.add(() => withTimeout(mongo.stop(), 15_000, 'stopping the database server').finally(removeDataDir));
  const ferretPid = mongo.source === 'MONGO_URL' ? undefined : childPidsByName('ferretdb')[0];
  progress(
    budget,
    `database server: ${mongo.server} (${mongo.source}${ferretPid ? `, pid ${ferretPid}` : ''})`,
  );
  const pg = mongo.server.endsWith('on PostgreSQL') ? pgOwn : undefined;
  if (pgOwn && !pg) {
    unregisterPg?.();
    await pgOwn.drop();
  }
  // startSystem hands our environment to the services.
  process.env.MONGO_URL = mongo.url;
  if (storePoolArg !== undefined) process.env.MONGO_POOL_SIZE = String(storePoolArg);
  const storePool = process.env.MONGO_POOL_SIZE ?? "the store's default";
  progress(budget, `store's MongoDB pool (MONGO_POOL_SIZE): ${storePool}`);
  const pgSettings: PgSettings | null = (await pg?.settings()) ?? null;
  if (pg && pgSettings) {
    progress(budget, `PostgreSQL behind FerretDB: database ${pg.database}, ${JSON.stringify(pgSettings)}`);
  }

  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= cleanup.runAll((err) =>
      progress(budget, `cleanup: ${err instanceof Error ? err.message : String(err)}`),
    ));
  const onSignal = (signal: NodeJS.Signals) => {
    progress(budget, `${signal}: stopping everything this benchmark started`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    progress(budget, 'BullMQ scenarios');
    const bull = await runBullmq({
      redisUrl: REDIS_URL,
      concurrency: s.workerConcurrency,
      scenarios: s.bullmq.scenarios,
      repetitions: s.repetitions,
      warmupN: s.bullmq.warmupN,
      budget,
      reserveMs: s.bullmq.reserveMs,
      maxRunMs: s.bullmq.maxRunMs,
      cleanup,
    });
    for (const r of bull.results) r.summary = summarise(r.runs);

    const ours: E2eResults['ours'] = [];
    let rabbitmq = '?';
    for (const sys of s.ours.systems) {
      // A system start, a warm-up and one run of each scenario must fit, or we do not start it.
      const lastRun = ours
        .at(-1)
        ?.scenarios.flatMap((x) => x.runs)
        .at(-1);
      const needMs = lastRun ? lastRun.cpu.wallMs * sys.scenarios.length * (s.repetitions + 0.5) + 20_000 : 0;
      if (budget.remainingMs() < needMs) {
        ours.push({
          executors: sys.executors,
          startSeconds: null,
          scenarios: sys.scenarios.map((spec) => ({ spec, label: '', warmup: [], runs: [] })),
          skipped: `not run: ${round(budget.remainingMs() / 1000)} s of the budget left, about ${round(needMs / 1000)} s needed`,
        });
        progress(budget, `ours with ${sys.executors} executors: ${ours.at(-1)!.skipped}`);
        continue;
      }
      progress(budget, `ours with ${sys.executors} executor(s)`);
      const outcome = await runOurs({
        executors: sys.executors,
        executorEnv: s.ours.executorEnv,
        scenarios: sys.scenarios,
        repetitions: s.repetitions,
        warmupN: s.ours.warmupN,
        ferretPid,
        pg,
        budget,
        reserveMs: 15_000,
        maxRunMs: s.ours.maxRunMs,
        cleanup,
      });
      for (const r of outcome.results) r.summary = summarise(r.runs);
      rabbitmq = outcome.rabbitmq;
      ours.push({
        executors: sys.executors,
        startSeconds: round(outcome.startSeconds),
        scenarios: outcome.results,
      });
    }

    const self = process.cpuUsage(cpu0);
    const wallMs = budget.elapsedMs();
    const oneExecutor: ScenarioResult[] = ours.filter((x) => x.executors === 1).flatMap((x) => x.scenarios);
    const results: E2eResults = {
      benchmark: 'e2e',
      command,
      mode: s.mode,
      date: new Date().toISOString(),
      durationSeconds: round(wallMs / 1000),
      budgetSeconds: s.budgetMs / 1000,
      versions: {
        node: process.version,
        mongoServer: mongo.server,
        mongoSource: mongo.source,
        rabbitmq,
        redis: bull.redis.version,
        redisSave: bull.redis.save,
        redisAppendonly: bull.redis.appendonly,
        bullmq: version('bullmq'),
        ioredis: version('ioredis'),
        koa: version('koa'),
        ...(pgSettings && {
          postgres: pgSettings.version,
          postgresFsync: pgSettings.fsync,
          postgresSynchronousCommit: pgSettings.synchronousCommit,
          postgresWalSyncMethod: pgSettings.walSyncMethod,
        }),
      },
      machine: machineInfo,
      machineLoad: {
        loadAverageAtStart: machineInfo.loadAverageAtStart,
        loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
      },
      settings: { ...s, storeMongoPoolSize: storePool },
      durability: {
        ...DURABILITY,
        ours:
          DURABILITY.ours +
          (pgSettings
            ? ` FerretDB keeps the data in PostgreSQL ${pgSettings.version} with fsync ${pgSettings.fsync}, synchronous_commit ${pgSettings.synchronousCommit} (${pgSettings.walSyncMethod}): a commit returns after its WAL is flushed to disk.`
            : ''),
      },
      ours,
      bullmq: { queue: bull.queue, scenarios: bull.results },
      ratios: ratios(oneExecutor, bull.results),
      storeCallsPerTask: storeCallsPerTask(oneExecutor),
      gatewayRoutes: gatewayRoutes(oneExecutor),
      ...(pg && { postgresPerTask: postgresPerTask(oneExecutor) }),
      loadGenerator: {
        cpuUserMs: round(self.user / 1000),
        cpuSystemMs: round(self.system / 1000),
        wallMs,
        cpuPctOfOneCore: round(((self.user + self.system) / 1000 / wallMs) * 100),
      },
      notes: [
        `Every figure of ours is on ${mongo.server} (${mongo.source}), the development fallback MongoDB-wire server — not a real mongod.`,
        'CPU is in percent of one core over each run (first submit until every task ended); the machine has 2 cores. "other processes" is all busy CPU on the machine minus the processes listed (other engineers\' tests, the kernel).',
        'RabbitMQ and Redis are shared servers: their CPU includes whatever else used them during the run.',
        `The store's MongoDB pool (MONGO_POOL_SIZE): ${storePool}. FerretDB 1.24 on PostgreSQL deadlocks when 50 update commands run at once (50 pooled PostgreSQL connections; each update holds one for its read and waits for a second to write): a pool of 50 or more lets the executor's 100 concurrent claims get there.`,
        quick
          ? 'ours (quick): one system (store, gateway, executor) for all scenarios; every scenario gets a warm-up run, then the measured runs go in rounds over the scenarios, so the collection grows during the run (storedBefore per run).'
          : 'ours: a fresh system (store, gateway, executors; empty database) per scenario: a warm-up run, then the measured runs; the collection grows by N per run (storedBefore per run).',
        "Latency is submit-to-done from the tasks' own timestamps (ours: createdAt → finishedAt; BullMQ: job.timestamp → job.finishedOn); p95/p99 are nearest-rank over the tasks of a run.",
      ],
    };
    const file = outFile ?? (quick ? join(tmpdir(), 'e2e-quick.json') : RESULTS_FILE);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${markdownTables(results)}\n`);
    progress(budget, `results written to ${file}`);
  } finally {
    await stopAll();
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`e2e-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
