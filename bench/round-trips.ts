/**
 * Round trips per task: `noop` tasks end to end (gateway → store → RabbitMQ → executor → store),
 * counting what each task costs on the way rather than how fast it goes: HTTP requests to the
 * store and the JSON-RPC calls they carry (per client, by method), the database commands the
 * store sends (by name), and PostgreSQL's committed transactions under FerretDB.
 *
 * Counting happens outside the services, so any checkout can be measured the same way: an HTTP
 * proxy in front of the store for the gateway and one for the executor (lib/rpc-counter.ts), a TCP
 * proxy in front of the MongoDB-wire server (lib/wire-counter.ts), and pg_stat_database (lib/pg-stats.ts)
 * for a FerretDB of our own on a PostgreSQL database of our own. Where the store has them, its
 * own counters (task_store_rpc_requests_total, task_store_db_commands_total) are read too.
 *
 * Usage (from the repository root):
 *   npx tsx --conditions=source bench/round-trips.ts [--n=1000] [--batch-size=500] [--out=FILE]
 * Scenarios, one system, in this order: one batch of 1,000 on the empty store (its HTTP status and
 * time), N single POSTs (C=16), N tasks in batches of --batch-size (C=2). Writes
 * $TMPDIR/round-trips.json unless --out is given. Needs RabbitMQ (AMQP_URL) and PostgreSQL at
 * 127.0.0.1:5432 for the commit counts; the figures do not depend on the machine's load, times do.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { topology, type Task } from '@tasks/contracts';
import { provisionMongo } from '@tasks/dev-mongo';
import { AMQP_URL, freePort, startSystem } from '@tasks/testkit';
import { Budget, progress, round } from './lib/measure.js';
import { batchSizes, closedLoop, type LoadResult } from './lib/http-load.js';
import { PgStats, type PgSnapshot } from './lib/pg-stats.js';
import { counterDelta, scrape } from './lib/prom-metrics.js';
import { RpcCounter } from './lib/rpc-counter.js';
import { TerminalEvents } from './lib/terminal-events.js';
import { WireCounter } from './lib/wire-counter.js';

const args = process.argv.slice(2);
const numberArg = (name: string, fallback: number) => {
  const v = args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  return v === undefined ? fallback : Number(v);
};
const N = numberArg('n', 1000);
const BATCH_SIZE = numberArg('batch-size', 500);
const outFile =
  args.find((a) => a.startsWith('--out='))?.slice('--out='.length) ?? join(tmpdir(), 'round-trips.json');
const PG_URL = process.env.FERRETDB_POSTGRESQL_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const budget = new Budget(30 * 60_000);
process.env.RATE_LIMIT_PER_MINUTE = '0';

interface Counts {
  gateway: { httpRequests: number; calls: Map<string, number> };
  executor: { httpRequests: number; calls: Map<string, number> };
  db: Map<string, number>;
  pg: PgSnapshot | null;
  storeMetrics: Map<string, number>;
}

function perTask(before: Map<string, number>, after: Map<string, number>, tasks: number) {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d <= 0) continue;
    out[k] = round(d / tasks, 3);
    total += d;
  }
  return { total: round(total / tasks, 3), byName: out };
}

async function run(): Promise<void> {
  const commit = execSync('git rev-parse --short HEAD').toString().trim();
  progress(
    budget,
    `round trips per task at ${commit}, n=${N}, batches of ${BATCH_SIZE}, load ${loadavg()[0]}`,
  );
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const pg = await PgStats.create(PG_URL);
    if (pg) {
      stops.push(() => pg.drop());
      process.env.FERRETDB_POSTGRESQL_URL = pg.url;
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'round-trips-ferretdb-'));
    const mongo = await provisionMongo({ dataDir, log: (l) => progress(budget, `dev-mongo: ${l}`) });
    stops.push(async () => {
      await mongo.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const wire = await WireCounter.start(mongo.url);
    stops.push(() => wire.stop());
    const storePort = await freePort();
    const viaGateway = await RpcCounter.start(storePort);
    const viaExecutor = await RpcCounter.start(storePort);
    stops.push(
      () => viaGateway.stop(),
      () => viaExecutor.stop(),
    );
    const system = await startSystem({
      storePort,
      mongoUrl: wire.url,
      gatewayEnv: { STORE_URL: `http://127.0.0.1:${viaGateway.port}/rpc` },
      executorEnv: { STORE_URL: `http://127.0.0.1:${viaExecutor.port}/rpc`, IO_CONCURRENCY: '100' },
    });
    stops.unshift(() => system.stop());
    const events = await TerminalEvents.open(AMQP_URL, topology(system.prefix).eventsExchange);
    stops.unshift(() => events.close());
    const metricsUrl = system.storeUrl.replace(/\/rpc$/, '/metrics');

    const counts = async (): Promise<Counts> => ({
      gateway: viaGateway.snapshot(),
      executor: viaExecutor.snapshot(),
      db: wire.snapshot(),
      pg: (await pg?.snapshot()) ?? null,
      storeMetrics: await scrape(metricsUrl),
    });

    const task = { type: 'noop', payload: {} };
    const scenarios: { name: string; submit: () => Promise<LoadResult> }[] = [
      {
        name: 'one batch of 1,000 (empty store)',
        submit: () =>
          closedLoop({
            url: `${system.gatewayUrl}/v1/tasks/batch`,
            concurrency: 1,
            requests: 1,
            body: () => ({ tasks: Array.from({ length: 1000 }, () => task) }),
            ids: (json) => (json as { items: Task[] }).items.map((t) => t.id),
          }),
      },
      {
        name: `${N} single POSTs, C=16`,
        submit: () =>
          closedLoop({
            url: `${system.gatewayUrl}/v1/tasks`,
            concurrency: 16,
            requests: N,
            body: () => task,
            ids: (json) => [(json as Task).id],
          }),
      },
      {
        name: `${N} in batches of ${BATCH_SIZE}, C=2`,
        submit: () => {
          const sizes = batchSizes(N, BATCH_SIZE);
          return closedLoop({
            url: `${system.gatewayUrl}/v1/tasks/batch`,
            concurrency: 2,
            requests: sizes.length,
            body: (i) => ({ tasks: Array.from({ length: sizes[i]! }, () => task) }),
            ids: (json) => (json as { items: Task[] }).items.map((t) => t.id),
          });
        },
      },
    ];

    const results = [];
    for (const s of scenarios) {
      const before = await counts();
      const load = await s.submit();
      const ended = await events.waitFor(
        load.ids,
        Date.now() + 10 * 60_000,
        () => Promise.resolve(new Map<string, string>()),
        () => undefined,
      );
      // The gateway's coalesced markPublished calls trail the last outcome a little.
      await new Promise((r) => setTimeout(r, 1_500));
      const after = await counts();
      const tasks = load.ids.length;
      const storeHttp = after.gateway.httpRequests + after.executor.httpRequests;
      const storeHttpBefore = before.gateway.httpRequests + before.executor.httpRequests;
      const result = {
        scenario: s.name,
        tasks,
        allEnded: ended,
        httpStatuses: load.statuses,
        requestMs: {
          median: round(
            load.requestLatenciesMs.sort((a, b) => a - b)[Math.floor(load.requestLatenciesMs.length / 2)] ??
              NaN,
          ),
          max: round(Math.max(...load.requestLatenciesMs)),
        },
        firstError: load.firstError,
        perTask: {
          storeHttpRequests: round((storeHttp - storeHttpBefore) / Math.max(tasks, 1), 3),
          gatewayHttpRequests: round(
            (after.gateway.httpRequests - before.gateway.httpRequests) / Math.max(tasks, 1),
            3,
          ),
          executorHttpRequests: round(
            (after.executor.httpRequests - before.executor.httpRequests) / Math.max(tasks, 1),
            3,
          ),
          rpcCalls: {
            gateway: perTask(before.gateway.calls, after.gateway.calls, Math.max(tasks, 1)),
            executor: perTask(before.executor.calls, after.executor.calls, Math.max(tasks, 1)),
          },
          dbCommands: perTask(before.db, after.db, Math.max(tasks, 1)),
          dbCommandsByStoreMetric: after.storeMetrics.size
            ? round(
                counterDelta(before.storeMetrics, after.storeMetrics, 'task_store_db_commands_total') /
                  Math.max(tasks, 1),
                3,
              )
            : null,
          postgresCommits:
            before.pg && after.pg
              ? round((after.pg.commits - before.pg.commits) / Math.max(tasks, 1), 2)
              : null,
        },
      };
      results.push(result);
      const p = result.perTask;
      progress(
        budget,
        `${s.name}: ${tasks} tasks, statuses ${JSON.stringify(load.statuses)}, request median/max ${result.requestMs.median}/${result.requestMs.max} ms; ` +
          `per task: store HTTP ${p.storeHttpRequests} (gateway ${p.gatewayHttpRequests}, executor ${p.executorHttpRequests}), ` +
          `JSON-RPC calls ${round(p.rpcCalls.gateway.total + p.rpcCalls.executor.total, 3)}, DB commands ${p.dbCommands.total}, PG commits ${p.postgresCommits}`,
      );
    }
    const report = {
      commit,
      command: `npx tsx --conditions=source bench/round-trips.ts${args.length ? ` ${args.join(' ')}` : ''}`,
      loadAverage: loadavg().map((x) => round(x, 2)),
      mongoServer: mongo.server,
      notes: [
        'Per task = counted over the scenario (submit until every task ended, plus 1.5 s for trailing marks) divided by the tasks accepted; the gateway dispatcher and reconciler, the executor heartbeats and the store sweeps running meanwhile are included.',
        'DB commands exclude hello/isMaster (connection handshakes and server monitoring).',
      ],
      results,
    };
    writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
    progress(budget, `written to ${outFile}`);
  } finally {
    for (const stop of stops)
      await stop().catch((err: unknown) => progress(budget, `cleanup: ${String(err)}`));
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`round-trips: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
