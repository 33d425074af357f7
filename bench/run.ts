/**
 * The benchmark runner: every scenario under bench/scenarios/, one after the other, each within
 * its time budget and a hard timeout, each writing bench/results/<scenario>.json; then
 * BENCHMARKS.md and bench/results/chart.svg are rendered from all results files.
 *
 *   npx tsx --conditions=source bench/run.ts [--quick] [--only=e2e-ours,raw-limits] [--allow-busy]
 *
 * Full: at most ~13 minutes; --quick: at most ~3 minutes (smaller N, shorter runs; the files say
 * which mode wrote them). Needs RabbitMQ at 127.0.0.1:5672 (AMQP_URL), Redis at 127.0.0.1:6379
 * (REDIS_URL), and a MongoDB-wire server: MONGO_URL, else what provisionMongo() provides (here
 * FerretDB 1.24 on the local PostgreSQL). Every URL must point at the loopback interface. The
 * e2e-bullmq scenario also starts a private redis-server (with persistence) of its own.
 *
 * The 1-minute load average before anything starts is recorded in every results file; above 0.75
 * per core the run is a busy one (lib/busy.ts), and BENCHMARKS.md is not rewritten with it as
 * the headline unless --allow-busy (its figures are then marked "busy machine").
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqplib from 'amqplib';
import { Redis } from 'ioredis';
import { provisionMongo } from '@tasks/dev-mongo';
import { Cleanup, withTimeout } from './lib/cleanup.js';
import { PgStats } from './lib/pg-stats.js';
import { childPids, childPidsByName } from './lib/processes.js';
import { renderBenchmarks } from './render-benchmarks.js';
import { BusyRunError, BUSY_LOAD_PER_CORE } from './lib/busy.js';
import type { MongoInfo, RunContext, Scenario, ScenarioFile, ScenarioOutput } from './lib/scenario.js';
import { SCENARIOS } from './scenarios/index.js';
import { Budget, progress, round } from './lib/measure.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const args = process.argv.slice(2);
/** Before this process started anything: what other work loads the machine (lib/busy.ts). */
const loadBeforeRun = loadavg().map((x) => round(x, 2));
const quick = args.includes('--quick');
const allowBusy = args.includes('--allow-busy');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .filter(Boolean);
const command = `npx tsx --conditions=source bench/run.ts${args.length ? ` ${args.join(' ')}` : ''}`;
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL = process.env.FERRETDB_POSTGRESQL_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** For all scenarios together; what one leaves unused goes to the later ones. */
const TOTAL_SECONDS = quick ? 195 : 790;
/** After its budget, a scenario gets this long to stop what it started before it is cut off. */
const GRACE_SECONDS = quick ? 8 : 25;

const runner = new Budget(TOTAL_SECONDS * 1000);
const log = (line: string) => progress(runner, line);

function assertLoopback(name: string, url: string | undefined): void {
  if (url === undefined) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    throw new Error(`${name} points at ${host}: the benchmarks send traffic to 127.0.0.1 only`);
  }
}

function packageVersion(pkg: string): string {
  try {
    const file = fileURLToPath(new URL(`../node_modules/${pkg}/package.json`, import.meta.url));
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

async function serverVersions(mongo: MongoInfo, pg: PgStats | undefined): Promise<Record<string, string>> {
  const versions: Record<string, string> = {
    node: process.version,
    amqplib: packageVersion('amqplib'),
    mongodbDriver: packageVersion('mongodb'),
    bullmq: packageVersion('bullmq'),
    ioredis: packageVersion('ioredis'),
    koa: packageVersion('koa'),
    jayson: packageVersion('jayson'),
    autocannon: packageVersion('autocannon'),
    piscina: packageVersion('piscina'),
    mongoWireServer: mongo.server,
    mongoSource: mongo.source,
  };
  const conn = await amqplib.connect(AMQP_URL);
  const p = conn.connection.serverProperties;
  versions.rabbitmq = `${String(p.product ?? 'AMQP')} ${String(p.version ?? '?')}`;
  await conn.close();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const info = await redis.info('server');
    versions.redis = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    versions.redisSave = JSON.stringify((await redis.config('GET', 'save'))[1] ?? '?');
    versions.redisAppendonly = String((await redis.config('GET', 'appendonly'))[1] ?? '?');
  } finally {
    redis.disconnect();
  }
  const s = await pg?.settings();
  if (s) {
    versions.postgres = s.version;
    versions.postgresFsync = s.fsync;
    versions.postgresSynchronousCommit = s.synchronousCommit;
  }
  return versions;
}

function machine(mongo: MongoInfo): Record<string, unknown> {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()} ${process.arch}`,
    node: process.version,
    mongoWireServer: `${mongo.server} (${mongo.source})`,
  };
}

/** SIGKILL to every direct child still alive (every command line holds ''): the last resort when the process exits. */
function killChildren(): void {
  for (const pid of childPids('')) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

function readPrevious(name: string): ScenarioFile | undefined {
  const file = join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ScenarioFile;
  } catch {
    return undefined;
  }
}

async function runScenario(
  s: Scenario,
  budgetSeconds: number,
  shared: Omit<RunContext, 'budget' | 'cleanup' | 'log'>,
  versions: Record<string, string>,
  mongo: MongoInfo,
): Promise<ScenarioFile> {
  const budget = new Budget(budgetSeconds * 1000);
  const cleanup = new Cleanup();
  const ctx: RunContext = {
    ...shared,
    budget,
    cleanup,
    log: (line) => progress(budget, `${s.name}: ${line}`),
  };
  const load0 = loadavg().map((x) => round(x, 2));
  const cpu0 = process.cpuUsage();
  const date = new Date().toISOString();
  log(`scenario ${s.name} (${s.title}): budget ${budgetSeconds} s, load average ${load0.join(' ')}`);
  let output: ScenarioOutput | undefined;
  let error: string | undefined;
  try {
    output = await withTimeout(s.run(ctx), (budgetSeconds + GRACE_SECONDS) * 1000, `scenario ${s.name}`);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    log(`scenario ${s.name} FAILED: ${error}`);
  }
  await cleanup.runAll((err) =>
    log(`${s.name} cleanup: ${err instanceof Error ? err.message : String(err)}`),
  );
  const self = process.cpuUsage(cpu0);
  const wallMs = budget.elapsedMs();
  return {
    scenario: s.name,
    title: s.title,
    mode: quick ? 'quick' : 'full',
    command,
    date,
    durationSeconds: round(wallMs / 1000),
    budgetSeconds,
    ...(error !== undefined && { error }),
    versions,
    machine: {
      ...machine(mongo),
      loadBeforeRun,
      loadAverageAtStart: load0,
      loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
    },
    loadGenerator: {
      cpuUserMs: round(self.user / 1000),
      cpuSystemMs: round(self.system / 1000),
      wallMs: round(wallMs),
      cpuPctOfOneCore: round(((self.user + self.system) / 1000 / wallMs) * 100),
    },
    ...output,
  };
}

async function main(): Promise<void> {
  for (const [name, url] of [
    ['AMQP_URL', AMQP_URL],
    ['REDIS_URL', REDIS_URL],
    ['MONGO_URL', process.env.MONGO_URL],
    ['FERRETDB_POSTGRESQL_URL', PG_URL],
  ] as const) {
    assertLoopback(name, url);
  }
  const unknown = (only ?? []).filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  const chosen = SCENARIOS.filter((s) => !only || only.includes(s.name));
  log(
    `${quick ? 'quick' : 'full'} run of ${chosen.map((s) => s.name).join(', ')}; ` +
      `at most ${TOTAL_SECONDS} s of scenarios; load average before the run ${loadBeforeRun.join(' ')}` +
      (loadBeforeRun[0]! > BUSY_LOAD_PER_CORE * cpus().length
        ? ` — a busy machine (above ${BUSY_LOAD_PER_CORE * cpus().length}): ${allowBusy ? 'its figures will be marked so' : 'BENCHMARKS.md will not be rewritten without --allow-busy'}`
        : ''),
  );
  // The services get our environment (startSystem): the gateway's per-client rate limit would cap
  // the load generator, which is one client.
  process.env.RATE_LIMIT_PER_MINUTE = '0';

  const global = new Cleanup();
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= global.runAll((err) =>
      log(`cleanup: ${err instanceof Error ? err.message : String(err)}`),
    ));
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping everything the benchmark started`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killChildren);

  try {
    // FerretDB on PostgreSQL gets a database of its own (dropped at the end), for its counters.
    const pgOwn =
      process.env.MONGO_URL || process.env.DEV_MONGO_FERRETDB_HANDLER === 'sqlite'
        ? undefined
        : await PgStats.create(PG_URL);
    if (pgOwn) {
      global.add(() => pgOwn.drop());
      process.env.FERRETDB_POSTGRESQL_URL = pgOwn.url;
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-ferretdb-'));
    global.add(() => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })));
    const handle = await provisionMongo({ dataDir, log: (line) => log(`dev-mongo: ${line}`) });
    global.add(() => withTimeout(handle.stop(), 15_000, 'stopping the MongoDB-wire server'));
    process.env.MONGO_URL = handle.url;
    const mongo: MongoInfo = {
      url: handle.url,
      server: handle.server,
      source: handle.source,
      ferretPid: handle.source === 'MONGO_URL' ? undefined : childPidsByName('ferretdb')[0],
      realMongod: handle.server.startsWith('MongoDB'),
      postgresqlUrl: handle.postgresqlUrl,
    };
    const pg = mongo.server.endsWith('on PostgreSQL') ? pgOwn : undefined;
    log(`MongoDB-wire server: ${mongo.server} (${mongo.source})`);
    const versions = await serverVersions(mongo, pg);
    log(`versions: ${JSON.stringify(versions)}`);

    const done = new Map<string, ScenarioFile>();
    const shared = {
      quick,
      mongo,
      pg,
      amqpUrl: AMQP_URL,
      redisUrl: REDIS_URL,
      previous: (name: string) => done.get(name) ?? readPrevious(name),
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    for (const [i, s] of chosen.entries()) {
      const mode = quick ? 'quick' : 'full';
      const nominal = s.budgetSeconds[mode];
      const rest = chosen.slice(i).reduce((sum, x) => sum + x.budgetSeconds[mode], 0);
      const left = runner.remainingMs() / 1000;
      // What earlier scenarios left unused is shared out in proportion (at most 1.5× a budget);
      // the last scenario takes whatever is left.
      const budgetSeconds = Math.round(
        i === chosen.length - 1
          ? Math.max(left, nominal / 2)
          : Math.max(nominal / 2, nominal * Math.min(1.5, left / rest)),
      );
      const file = await runScenario(s, budgetSeconds, shared, versions, mongo);
      done.set(s.name, file);
      const path = join(RESULTS_DIR, `${s.name}.json`);
      writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
      log(
        `scenario ${s.name} ${file.error ? 'failed' : 'done'} in ${file.durationSeconds} s; written to ${path}`,
      );
    }
  } finally {
    await stopAll();
  }
  let rendered: string[];
  try {
    rendered = renderBenchmarks({ allowBusy });
  } catch (err) {
    if (!(err instanceof BusyRunError)) throw err;
    log(`not rendered: ${err.message}; the figures are in ${RESULTS_DIR}`);
    process.exitCode = 3;
    return;
  }
  // renderBenchmarks formats the page itself, as `make lint` checks it.
  log(`rendered ${rendered.join(', ')}`);
  log(`done in ${round(runner.elapsedMs() / 1000)} s`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(
      `bench/run.ts: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
