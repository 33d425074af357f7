/**
 * (1b) End to end with an empty store and with 30,000 stored: the same `noop` batches (C = 16,
 * 500 per request) on one system, first with the store (nearly) empty, then after 30,000 finished
 * tasks were written into its database (lib/history.ts), 3 runs each side. Then, at that size:
 * every list filter shape on its first page and five pages deep, get and stats
 * (e2e/read-latency.ts). Per side: CPU per task of every process, database operations and
 * JSON-RPC calls per task. These are the figures issue 13's targets are judged on.
 */
import { MongoClient } from 'mongodb';
import { runOurs } from '../lib/ours.js';
import { summarise, type RunFigures, type ScenarioResult, type ScenarioSpec } from '../lib/figures.js';
import { waitIdle } from '../lib/processes.js';
import { measureReads, readFigures, type ReadRow } from '../lib/read-latency.js';
import { round, spread } from '../lib/measure.js';
import { BUILTIN_TYPES, finishedTaskDoc, writeHistory, type HistoryWritten } from '../lib/history.js';
import type { RunContext, Scenario, ScenarioOutput } from '../lib/scenario.js';
import { e2eRow } from '../lib/e2e-summary.js';
import { service, tuneStoreDatabase } from '../lib/system.js';

const STORED = 30_000;
const BATCH = 500;
/** Tasks per run when time allows (what the outside check, bench/targets.ts, runs too). */
const N = 2_000;
/** Kept for the fill (about 6–20 s for 30,000 here) between the sides, and for the reads after them. */
const FILL_MS = 20_000;
const READS_MS = { full: 30_000, quick: 15_000 };
/** Longest wait for the database server to finish what the reads left running. */
const SETTLE_MS = 20_000;

function spec(n: number, prefilled?: number): ScenarioSpec {
  return {
    system: 'ours',
    path: 'batch',
    concurrency: 16,
    n,
    batchSize: BATCH,
    executors: 1,
    ...(prefilled !== undefined && { prefilled }),
  };
}

/** Medians over a side's runs of what the store and each process did per task. */
function perTask(r: ScenarioResult | undefined) {
  const runs = r?.runs ?? [];
  const med = (pick: (x: RunFigures) => number | null | undefined) => {
    const v = runs.map(pick).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return v.length === runs.length && v.length > 0 ? round(spread(v).median, 2) : null;
  };
  const roles = Object.keys(runs[0]?.cpuMsPerTask ?? {});
  return {
    runs: runs.length,
    cpuMsPerTask: Object.fromEntries(roles.map((role) => [role, med((x) => x.cpuMsPerTask[role])])),
    rpcCallsPerTask: med((x) => x.storeWork?.rpcCallsPerTask),
    rpcHttpRequestsPerTask: med((x) => x.storeWork?.rpcHttpRequestsPerTask),
    dbOpsPerTask: med((x) => x.storeWork?.dbOpsPerTask),
    dbOpsSource: runs[0]?.storeWork?.dbOpsSource ?? null,
    bestCompletedPerSec: runs.length > 0 ? Math.max(...runs.map((x) => x.completedPerSec)) : null,
    storedBefore: runs.map((x) => x.storedBefore ?? 0),
  };
}

export type SidePerTask = ReturnType<typeof perTask>;

export const e2eStored: Scenario = {
  name: 'e2e-stored',
  title: 'End to end with an empty store and with 30,000 stored; list, get and stats at that size',
  budgetSeconds: { full: 170, quick: 70 },
  async run(ctx: RunContext): Promise<ScenarioOutput> {
    const readsMs = ctx.quick ? READS_MS.quick : READS_MS.full;
    const budgetEnd = () => ctx.budget.startedAt + ctx.budget.totalMs;
    const after = FILL_MS + readsMs + SETTLE_MS / 2;
    let sizing = `N = ${N.toLocaleString('en')} per run`;
    let reads: ReadRow[] = [];
    let fill: HistoryWritten | undefined;
    let storedAtReads = 0;
    let storedAfterFill = 0;
    /** runOurs's results, which the stored side is appended to. */
    let resultsOfRun: ScenarioResult[] = [];
    let settled: { seconds: number; idle: boolean } | undefined;
    /** Ids of history tasks, old and new, for the gets. */
    const sampleIds: string[] = [];
    const out = await runOurs({
      executors: 1,
      executorEnv: { LEASE_MS: '30000' },
      scenarios: [spec(N)],
      repetitions: 3,
      warmupN: ctx.quick ? 100 : 500,
      ferretPid: ctx.mongo.ferretPid,
      pg: ctx.pg,
      budget: ctx.budget,
      // the empty side leaves half of what is left after the fill and the reads to the stored side
      reserveMs: after + (ctx.budget.totalMs - after) / 2,
      maxRunMs: 60_000,
      cleanup: ctx.cleanup,
      prepare: () => tuneStoreDatabase(ctx),
      sizeRuns: (warmups) => {
        const rate = warmups[0]?.warmup.at(-1)?.completedPerSec;
        const perSideMs = (ctx.budget.remainingMs() - after) / 2;
        // 3 runs a side, each with ~1.5 s of read-back and meters, at 70 % of the warm-up rate
        const fit = rate ? Math.floor((((perSideMs / 3 - 1_500) / 1000) * rate * 0.7) / BATCH) * BATCH : N;
        const n = Math.max(BATCH, Math.min(N, fit));
        if (n < N) {
          sizing = `N = ${n.toLocaleString('en')} instead of ${N.toLocaleString('en')}: at the warm-up's ${rate} tasks/s, 6 runs of ${N.toLocaleString('en')} would not fit the ${Math.round(ctx.budget.totalMs / 1000)} s budget`;
        }
        ctx.log(sizing);
        return n;
      },
      extend: async (results) => {
        const empty = results[0]!;
        resultsOfRun = results;
        const dbName = service('task-store-service/src/main.ts').env.MONGO_DB!;
        const client = new MongoClient(ctx.mongo.url, { maxPoolSize: 4 });
        const unregister = ctx.cleanup.add(() => client.close(true));
        try {
          const db = client.db(dbName);
          const before = await db.collection('tasks').estimatedDocumentCount();
          const endMs = Date.now() - 60_000;
          fill = await writeHistory(db, 0, STORED, (i) => {
            const doc = finishedTaskDoc(i, STORED, { types: BUILTIN_TYPES, endMs, spanMs: 24 * 3600_000 });
            if (i % 997 === 0) sampleIds.push(doc._id);
            return doc;
          });
          storedAfterFill = before + STORED;
          ctx.log(
            `${STORED.toLocaleString('en')} finished tasks written in ${fill.seconds} s (${fill.tasksPerSec}/s); ${storedAfterFill.toLocaleString('en')} stored`,
          );
        } finally {
          unregister();
          await client.close();
        }
        return {
          scenarios: [spec(empty.spec.n, STORED)],
          reserveMs: readsMs + 15_000,
          warmup: true,
          stored: STORED,
        };
      },
      // The reads last: a list page the gateway gave up on (503) still runs in the database
      // server, and would slow the runs after it.
      finish: async (system) => {
        const storedSide = resultsOfRun[1];
        // what the fill left, plus what the stored side's warm-up and runs added
        storedAtReads =
          storedAfterFill +
          (storedSide?.warmup ?? []).concat(storedSide?.runs ?? []).reduce((n, r) => n + r.accepted, 0);
        reads = await measureReads({
          gatewayUrl: system.gatewayUrl,
          samples: ctx.quick ? 3 : 5,
          type: 'noop',
          // within the scenario's budget, whatever the runs left of it; a call the gateway does
          // not answer within 10 s counts as failed (it answers 503 after STORE_TIMEOUT_MS)
          deadline: Math.min(Date.now() + readsMs, budgetEnd() - 12_000),
          timeoutMs: 10_000,
          ids: sampleIds,
          log: (line) => ctx.log(line),
        });
        // Leave the database server as idle as we found it for the next scenario.
        settled = await waitIdle(
          async () => [
            ...(ctx.mongo.ferretPid === undefined ? [] : [ctx.mongo.ferretPid]),
            ...((await ctx.pg?.backendPids()) ?? []),
          ],
          Math.max(0, Math.min(SETTLE_MS, budgetEnd() - Date.now() - 3_000)),
        );
        ctx.log(`database server ${settled.idle ? 'idle' : 'still busy'} after ${settled.seconds} s`);
      },
    });
    for (const r of out.results) r.summary = summarise(r.runs);
    const [emptyResult, storedResult] = out.results;
    const empty = perTask(emptyResult);
    const stored = perTask(storedResult);
    const ratio =
      empty.bestCompletedPerSec && stored.bestCompletedPerSec
        ? round(stored.bestCompletedPerSec / empty.bestCompletedPerSec, 3)
        : null;
    return {
      settings: {
        sizing,
        stored: STORED,
        history:
          '80 % succeeded, 15 % failed, 5 % cancelled; noop, sleep, primes.count, hash in turn; created over the last 24 hours',
        batchSize: BATCH,
        concurrency: 16,
        executors: 1,
        storeDatabase: 'tuned as make start tunes it (dev-mongo prepareDatabase)',
        fill: fill ?? null,
        settledAfterReads: settled ?? null,
      },
      summary: {
        rows: out.results.map(e2eRow),
        empty,
        stored,
        storedAtReads,
        throughputRatio: ratio,
        reads,
        readFigures: readFigures(reads),
        rabbitmq: out.rabbitmq,
      },
      details: out.results,
      notes: [
        "Both sides run on one system, one after the other: the empty side first (its own runs add a few thousand tasks), then 30,000 finished tasks are written straight into the store's database and the same runs are repeated.",
        'The throughput ratio compares the best of the 3 runs of each side (completed tasks ÷ first request → last task finished), as the outside check does; medians are in the rows.',
        'Reads run alone after the stored side (nothing submitted meanwhile): one untimed call, then the samples, one at a time. They come last because a list page the gateway gave up on (503) still runs in the database server; the scenario then waits (at most 20 s) until FerretDB and its PostgreSQL backends are idle again. The stored side warms up before its runs.',
        `CPU per task is utime+stime from /proc over each run ÷ tasks accepted; "services" is the store, the gateway and the executor together. Database operations per task: ${empty.dbOpsSource ?? 'not available'}.`,
      ],
    };
  },
};
