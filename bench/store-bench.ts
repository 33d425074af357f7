/**
 * Task store benchmark: (a) calls/s of tasks.create, tasks.claim and tasks.complete through the
 * real JSON-RPC client at C = 1 and 16, (b) tasks.list page latency at 10k and (budget allowing)
 * 1M stored tasks, (c) claim/complete cost of the oldest vs the newest stored task.
 * The store runs in a child process (startStoreService), the database server comes from
 * provisionMongo (MONGO_URL when set). Everything listens on 127.0.0.1.
 *
 * Usage (from the repository root): npx tsx --conditions=source bench/store-bench.ts [--quick]
 * --quick: about 2 minutes, writes bench/results/store-quick.json; otherwise about 10 minutes,
 * writes bench/results/store.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { provisionMongo } from '@tasks/dev-mongo';
import { runListLatency, type ListSettings } from './store/list-latency.js';
import { withTimeout } from './lib/cleanup.js';
import { Budget, progress, round } from './lib/measure.js';
import { contentionMeter, findChildServerPid } from './store/meters.js';
import { machine, markdownTables, type Results } from './store/report.js';
import { StoreHost } from './store/store-host.js';
import { runThroughput, type ThroughputSettings } from './store/throughput.js';

const quick = process.argv.includes('--quick');
const budget = new Budget(quick ? 120_000 : 600_000);
const command = `${process.env.MONGO_URL ? 'MONGO_URL=… ' : ''}npx tsx --conditions=source bench/store-bench.ts${quick ? ' --quick' : ''}`;

const throughputSettings: ThroughputSettings = {
  concurrency: [1, 16],
  calls: quick
    ? { 1: { warmup: 5, measured: 25 }, 16: { warmup: 16, measured: 48 } }
    : { 1: { warmup: 10, measured: 100 }, 16: { warmup: 32, measured: 160 } },
  repetitions: 3,
};
const listSettings: ListSettings = {
  sizes: [10_000, 1_000_000],
  samples: quick ? [3, 2] : [10, 3],
  warmup: [1, 0],
  types: 4,
  positionProbeSamples: quick ? 1 : 3,
  reserveMs: quick ? 8_000 : 20_000,
};

async function run(): Promise<void> {
  const cpu0 = process.cpuUsage();
  const machineInfo = machine();
  progress(budget, `store benchmark (${quick ? 'quick' : 'full'}), budget ${budget.totalMs / 1000} s`);
  // Our own FerretDB directory (used only if FerretDB is the server), removed by us: after a
  // terminal Ctrl-C FerretDB has already died of the signal, and handle.stop() may never settle.
  const dataDir = mkdtempSync(join(tmpdir(), 'store-bench-ferretdb-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  const handle = await provisionMongo({
    dataDir,
    log: (line) => progress(budget, `dev-mongo: ${line}`),
  }).catch((err: unknown) => {
    removeDataDir();
    throw err;
  });
  const mongoPid = handle.source === 'MONGO_URL' ? undefined : findChildServerPid();
  progress(
    budget,
    `database server: ${handle.server} (${handle.source}${mongoPid ? `, pid ${mongoPid}` : ''})`,
  );
  const mongo = new MongoClient(handle.url);
  const host = StoreHost.spawn();

  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      await host.close().catch(() => undefined);
      await mongo.close().catch(() => undefined);
      await withTimeout(handle.stop(), 15_000, 'stopping the database server').catch((err: unknown) =>
        progress(budget, err instanceof Error ? err.message : String(err)),
      );
      removeDataDir();
    })());
  // `on`, not `once`: tsx's wrapper may relay a second SIGINT, which must not kill us mid-cleanup.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress(budget, `${signal}: stopping the store and the database server`);
    void stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const deps = { host, mongoUrl: handle.url, mongo, mongoPid, budget };
    progress(
      budget,
      '(a) throughput: tasks.create / tasks.claim / tasks.complete at C=1 and C=16, 3 repetitions',
    );
    const pids = { store: host.pid, mongo: mongoPid };
    let busy = contentionMeter(pids);
    const throughput = await runThroughput(deps, throughputSettings);
    const contentionA = busy();
    progress(budget, `(a) other processes on this machine: ${JSON.stringify(contentionA)}`);
    progress(budget, '(b) list latency');
    busy = contentionMeter(pids);
    const listLatency = await runListLatency(deps, listSettings);
    const contentionB = busy();
    progress(budget, `(b) other processes on this machine: ${JSON.stringify(contentionB)}`);

    if (interrupted) return; // a run cut short writes no results
    const self = process.cpuUsage(cpu0);
    const wallMs = budget.elapsedMs();
    const results: Results = {
      benchmark: 'task-store',
      command,
      mode: quick ? 'quick' : 'full',
      date: new Date().toISOString(),
      durationSeconds: round(wallMs / 1000),
      budgetSeconds: budget.totalMs / 1000,
      versions: { node: process.version, mongoServer: handle.server, mongoSource: handle.source },
      machine: machineInfo,
      contention: { throughput: contentionA, listLatency: contentionB },
      settings: { throughput: throughputSettings, list: listSettings },
      throughput,
      listLatency,
      loadGenerator: {
        cpuUserMs: round(self.user / 1000),
        cpuSystemMs: round(self.system / 1000),
        wallMs,
        cpuPctOfOneCore: round(((self.user + self.system) / 1000 / wallMs) * 100),
      },
      notes: notes(listLatency),
    };
    const file = fileURLToPath(new URL(`./results/${quick ? 'store-quick' : 'store'}.json`, import.meta.url));
    mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${markdownTables(results)}\n`);
    progress(budget, `results written to ${file}`);
  } finally {
    await stopAll();
  }
}

function notes(list: Results['listLatency']): string[] {
  const out = [
    'The store runs in a child process started with startStoreService; "load generator CPU" is this process only (process.cpuUsage), store and db server CPU come from /proc.',
    'CPU percentages are of one core (the machine has os.cpus().length cores, so the sum can reach 100 x cores).',
    '(a) Each repetition uses a fresh database: the tasks collection holds only the tasks created in that repetition (warm-up + measured). claim and complete take the tasks in creation order.',
    '(b) All stored tasks are queued; types rotate over 4 types, so status+type matches 1/4 of them. p95 is nearest-rank: with fewer than 20 samples it is the maximum.',
  ];
  if (list.budgetNote) out.push(`(b) SIZE LIMIT: ${list.budgetNote}.`);
  const pushed = Object.values(list.explain?.queries ?? {}).some((q) => q.filterPushdown !== undefined);
  if (pushed) {
    out.push(
      '(explain) FerretDB reports filterPushdown/sortPushdown false for every list query and SQLite plans a full SCAN: the filter, the sort and the limit run in FerretDB over every document. See bench/README.md.',
    );
  }
  return out;
}

run().catch((err: unknown) => {
  process.stderr.write(`store-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
