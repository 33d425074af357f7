/**
 * (1) End to end, ours: `noop` tasks through POST /v1/tasks with C = 16 and C = 64 closed-loop
 * clients and through POST /v1/tasks/batch, then single POSTs in open loop at 25/50/75 % of the
 * highest completion rate just measured. Latency is submit-to-done from the tasks' own
 * timestamps (closed loop: createdAt → finishedAt; open loop: scheduled send → finishedAt).
 * Built on lib/ours.ts (startSystem, closed/open-loop generators, status-event done detection).
 */
import { runOurs, type OursOptions } from '../lib/ours.js';
import { summarise, type ScenarioResult, type ScenarioSpec } from '../lib/figures.js';
import { e2eRow, postgresPerTask, storeCallsPerTask } from '../lib/e2e-summary.js';
import { round } from '../lib/measure.js';
import type { RunContext, Scenario, ScenarioOutput } from '../lib/scenario.js';
import { tuneStoreDatabase } from '../lib/system.js';

const BRIEF_N = 20_000;
const SHARES = [25, 50, 75];
/** Per measured run, time that is not the tasks themselves (read-back, metrics, CPU meters). */
const RUN_OVERHEAD_MS = 1_000;
/** Share of the warm-up rates N is sized for: on a shared machine a later round can run at half speed. */
const MARGIN = 0.65;

function closedSpecs(n: number): ScenarioSpec[] {
  return [
    { system: 'ours', path: 'single', concurrency: 16, n, batchSize: 1, executors: 1 },
    { system: 'ours', path: 'single', concurrency: 64, n, batchSize: 1, executors: 1 },
    { system: 'ours', path: 'batch', concurrency: 16, n, batchSize: 500, executors: 1 },
  ];
}

/** The highest median completion rate of the single-POST path (what the open loop sends). */
export function measuredMax(results: ScenarioResult[]): number | undefined {
  const rates = results
    .filter((r) => r.spec.path === 'single' && r.summary)
    .map((r) => r.summary!.completedPerSec.median);
  return rates.length > 0 ? Math.max(...rates) : undefined;
}

export const e2eOurs: Scenario = {
  name: 'e2e-ours',
  title: 'End to end, ours: REST submit → store → RabbitMQ → executor → store',
  budgetSeconds: { full: 215, quick: 46 },
  async run(ctx: RunContext): Promise<ScenarioOutput> {
    // Open loop: seconds of sending per run, and what each run adds (drain, read-back, meters).
    const openSeconds = ctx.quick ? 1 : 8;
    const openTailMs = ctx.quick ? 1_000 : 2_500;
    // Full mode starts a fresh system for the open loop (~10 s) and warms it up (3 × ~2.5 s).
    const openNeedMs = 9 * (openSeconds * 1000 + openTailMs) + (ctx.quick ? 0 : 17_500);
    const stopMs = 3_000;
    let sizing: Record<string, unknown> = {};
    const sizeRuns = (warmups: ScenarioResult[]): number => {
      // Runs go in rounds over the scenarios: a round of N tasks each takes N × Σ 1/rate_i.
      const rates = warmups.map((r) => {
        const w = r.warmup.at(-1);
        return w && Number.isFinite(w.completedPerSec) && w.completedPerSec > 0 ? w.completedPerSec : 20;
      });
      const rate = rates[0]!;
      const secondsPerTaskPerRound = rates.reduce((sum, r) => sum + 1 / r, 0);
      const runs = 3 * warmups.length;
      const closedMs = ctx.budget.remainingMs() - stopMs - openNeedMs;
      const perRunMs = closedMs / runs - RUN_OVERHEAD_MS;
      const roundMs = Math.max(0, closedMs / 3 - warmups.length * RUN_OVERHEAD_MS);
      const fit = Math.floor((roundMs / 1000 / secondsPerTaskPerRound) * MARGIN);
      const n = Math.max(20, Math.min(BRIEF_N, Math.floor(fit / 10) * 10));
      sizing = {
        n,
        warmupRatePerSec: rate,
        warmupRatesPerSec: rates,
        measuredRuns: runs,
        secondsForClosedLoop: round(closedMs / 1000),
        secondsPerRun: round(perRunMs / 1000, 1),
        reason:
          n >= BRIEF_N
            ? `N = ${BRIEF_N.toLocaleString('en')} as asked`
            : `N = ${n} instead of the asked ${BRIEF_N.toLocaleString('en')}: on ${ctx.mongo.server} the warm-ups completed ` +
              `${rates.join(' / ')} tasks/s (C=16 / C=64 / batch); after the system start and the warm-ups, the ${runs} closed-loop ` +
              `runs had about ${round(Math.max(closedMs, 0) / 1000)} s of this scenario's ${round(ctx.budget.totalMs / 1000)} s budget ` +
              `(the open-loop runs need the rest), and N is ${MARGIN * 100} % of what one round of the three fits at those rates` +
              `${fit < 20 ? ' (raised to the minimum of 20)' : ''}. One run of ${BRIEF_N.toLocaleString('en')} at ${rate} tasks/s ` +
              `would take about ${Math.round(BRIEF_N / rate / 60)} minutes.`,
      };
      ctx.log(`N per run: ${sizing.reason as string}`);
      return n;
    };
    let openSizing: Record<string, unknown> = {};
    const openSpecs = (results: ScenarioResult[], leftMs: number): ScenarioSpec[] => {
      const max = measuredMax(results) ?? (sizing.warmupRatePerSec as number);
      const fitS = (leftMs - (ctx.quick ? 0 : 7_500)) / 9 / 1000 - openTailMs / 1000;
      const durationS = Math.max(1, Math.min(openSeconds, round(fitS, 1)));
      openSizing = { measuredMaxPerSec: max, durationSeconds: durationS, shares: SHARES, warmup: !ctx.quick };
      ctx.log(`open loop: max ${max}/s measured; ${durationS} s per run at ${SHARES.join('/')} %`);
      return SHARES.map((pct) => {
        const ratePerSec = round((max * pct) / 100, 1);
        return {
          system: 'ours',
          path: 'open',
          concurrency: 0,
          n: Math.max(5, Math.round(ratePerSec * durationS)),
          batchSize: 1,
          executors: 1,
          ratePerSec,
          pctOfMax: pct,
        };
      });
    };
    const base: Omit<OursOptions, 'scenarios' | 'reserveMs'> = {
      executors: 1,
      // the service default lease (testkit's startSystem gives tests 5 s)
      executorEnv: { LEASE_MS: '30000' },
      repetitions: 3,
      warmupN: ctx.quick ? 15 : 50,
      ferretPid: ctx.mongo.ferretPid,
      pg: ctx.pg,
      budget: ctx.budget,
      maxRunMs: ctx.quick ? 20_000 : 60_000,
      cleanup: ctx.cleanup,
      prepare: () => tuneStoreDatabase(ctx),
    };
    // the closed loop's runs must leave the open loop its time (sizeRuns sizes N to fit)
    const closedReserve = openNeedMs + stopMs;
    let results: ScenarioResult[];
    let rabbitmq: string;
    const startSeconds: number[] = [];
    if (ctx.quick) {
      // One system for both parts: a second start would not fit 2 minutes.
      const out = await runOurs({
        ...base,
        scenarios: closedSpecs(BRIEF_N),
        reserveMs: closedReserve,
        sizeRuns,
        extend: (res) => {
          for (const r of res) r.summary = summarise(r.runs);
          return {
            scenarios: openSpecs(res, ctx.budget.remainingMs() - stopMs),
            reserveMs: stopMs,
            warmup: false,
          };
        },
      });
      results = out.results;
      rabbitmq = out.rabbitmq;
      startSeconds.push(round(out.startSeconds));
    } else {
      const closed = await runOurs({
        ...base,
        scenarios: closedSpecs(BRIEF_N),
        reserveMs: closedReserve,
        sizeRuns,
      });
      for (const r of closed.results) r.summary = summarise(r.runs);
      // A fresh system (empty collection) for the open loop: on FerretDB a task's cost grows
      // with the tasks stored, so the rates must meet the system the maximum was measured on.
      const open = await runOurs({
        ...base,
        scenarios: openSpecs(closed.results, ctx.budget.remainingMs() - 10_000 - stopMs),
        reserveMs: stopMs,
      });
      results = [...closed.results, ...open.results];
      rabbitmq = closed.rabbitmq;
      startSeconds.push(round(closed.startSeconds), round(open.startSeconds));
    }
    for (const r of results) r.summary = summarise(r.runs);
    const closedRows = results.filter((r) => r.spec.path !== 'open').map(e2eRow);
    const openRows = results.filter((r) => r.spec.path === 'open').map(e2eRow);
    const single = results.filter((r) => r.spec.path === 'single');
    return {
      settings: {
        nPerRun: sizing.n,
        nReason: sizing.reason,
        sizing,
        openLoop: openSizing,
        executors: 1,
        executorEnv: base.executorEnv,
        storeDatabase: 'tuned as make start tunes it (dev-mongo prepareDatabase)',
        ioPrefetch: 100,
        gatewayRateLimit: 'off (RATE_LIMIT_PER_MINUTE=0)',
        systemStartSeconds: startSeconds,
        systems: ctx.quick
          ? 'one system for the closed and the open loop'
          : 'one for the closed loop, a fresh one for the open loop',
      },
      summary: {
        nPerRun: sizing.n,
        nReason: sizing.reason,
        maxCompletedPerSec: measuredMax(results) ?? null,
        closedLoop: closedRows,
        openLoop: openRows,
        storeCallsPerTask: storeCallsPerTask(single),
        ...(ctx.pg && { postgresPerTask: postgresPerTask(single) }),
        rabbitmq,
      },
      details: results,
      notes: [
        `Every figure is on ${ctx.mongo.server} (${ctx.mongo.source})${ctx.mongo.realMongod ? '' : ' — the development fallback, not a real mongod'}.`,
        'Closed loop: each client sends its next request when the previous answer arrived. Throughput: submitted/s = accepted ÷ (first request → last answer); completed/s = ended ÷ (first request → last finishedAt).',
        "Open loop: requests leave on a timer at the given rate whatever the answers; latency counts from each request's scheduled send time (no coordinated omission); sendLagP99Ms says how late the generator itself was.",
        'Runs go in rounds over the scenarios; the collection grows during the run (storedBefore per run in details) and on FerretDB every task gets dearer with it.',
        'The machine has 2 cores shared by the load generator, the services, FerretDB, PostgreSQL and RabbitMQ, and by other people\'s work: see loadAverage and "other processes" CPU per run.',
      ],
    };
  },
};
