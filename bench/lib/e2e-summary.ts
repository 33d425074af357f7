/**
 * What the end-to-end scenarios (ours, BullMQ, stored) sum up over their runs for their results
 * files and BENCHMARKS.md: one headline row per scenario, ours ÷ BullMQ, store calls and
 * PostgreSQL work per task.
 */
import { round, spread, type Spread } from './measure.js';
import type { ScenarioResult } from './figures.js';
import type { PgSnapshot } from './pg-stats.js';

export interface Ratio {
  ours: string;
  bullmq: string;
  /** ours / BullMQ, medians. Below 1: ours is slower (throughput) or faster (p99). */
  completedPerSec: number;
  submittedPerSec: number;
  p99: number;
}

export function ratios(ours: ScenarioResult[], bullmq: ScenarioResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const o of ours) {
    const b = bullmq.find(
      (x) =>
        x.spec.path === o.spec.path && x.spec.concurrency === o.spec.concurrency && x.spec.n === o.spec.n,
    );
    if (!o.summary || !b?.summary) continue;
    out.push({
      ours: o.label,
      bullmq: b.label,
      completedPerSec: round(o.summary.completedPerSec.median / b.summary.completedPerSec.median, 4),
      submittedPerSec: round(o.summary.submittedPerSec.median / b.summary.submittedPerSec.median, 4),
      p99: round(o.summary.p99Ms.median / b.summary.p99Ms.median, 1),
    });
  }
  return out;
}

/** Store JSON-RPC calls per task and their mean latency, over every measured run of ours. */
export type StoreCallsPerTask = Record<string, { callsPerTask: number; meanMs: number; errors: number }>;

export function storeCallsPerTask(scenarios: ScenarioResult[]): StoreCallsPerTask {
  const sums = new Map<string, { calls: number; totalMs: number; errors: number }>();
  let tasks = 0;
  for (const r of scenarios.flatMap((s) => s.runs)) {
    tasks += r.accepted;
    for (const [method, m] of Object.entries(r.storeRpc ?? {})) {
      const s = sums.get(method) ?? { calls: 0, totalMs: 0, errors: 0 };
      s.calls += m.calls;
      s.totalMs += m.calls * m.meanMs;
      s.errors += m.errors;
      sums.set(method, s);
    }
  }
  return Object.fromEntries(
    [...sums]
      .sort((a, b) => b[1].totalMs - a[1].totalMs)
      .map(([method, s]) => [
        method,
        {
          callsPerTask: round(s.calls / Math.max(1, tasks), 2),
          meanMs: round(s.totalMs / s.calls),
          errors: s.errors,
        },
      ]),
  );
}

/** PostgreSQL work per task over the runs (median of the runs), when it is FerretDB's backend. */
export function postgresPerTask(scenarios: ScenarioResult[]): PgSnapshot | undefined {
  const runs = scenarios
    .flatMap((x) => x.runs)
    .flatMap((r) => (r.postgresPerTask ? [r.postgresPerTask] : []));
  if (runs.length === 0) return undefined;
  const med = (k: keyof PgSnapshot) => round(spread(runs.map((r) => r[k])).median);
  return {
    commits: med('commits'),
    seqRowsRead: med('seqRowsRead'),
    indexRowsFetched: med('indexRowsFetched'),
    walRecords: med('walRecords'),
    walBytes: med('walBytes'),
    walSyncs: med('walSyncs'),
  };
}

export interface E2eRow {
  label: string;
  path: string;
  concurrency: number;
  n: number;
  runs: number;
  submittedPerSec: Spread | null;
  completedPerSec: Spread | null;
  p50Ms: Spread | null;
  p95Ms: Spread | null;
  p99Ms: Spread | null;
  /** CPU ms per task of the whole system under test (without the load generator), median. */
  systemCpuMsPerTask: number | null;
  loadGeneratorCpuPct: number | null;
  /** Open loop: requested rate, its share of the measured maximum, and how late sends left (p99 over runs). */
  ratePerSec?: number;
  pctOfMax?: number;
  sendLagP99Ms?: Spread;
  note?: string;
}

export function e2eRow(r: ScenarioResult): E2eRow {
  const s = r.summary;
  const lags = r.runs.flatMap((x) => (x.openLoop ? [x.openLoop.sendLagMs.p99] : []));
  return {
    label: r.label,
    path: r.spec.path,
    concurrency: r.spec.concurrency,
    n: r.spec.n,
    runs: s?.runs ?? 0,
    submittedPerSec: s?.submittedPerSec ?? null,
    completedPerSec: s?.completedPerSec ?? null,
    p50Ms: s?.p50Ms ?? null,
    p95Ms: s?.p95Ms ?? null,
    p99Ms: s?.p99Ms ?? null,
    systemCpuMsPerTask: s?.cpuMsPerTask.system ?? null,
    loadGeneratorCpuPct: s?.cpuPct.loadGenerator ?? null,
    ...(r.spec.ratePerSec !== undefined && { ratePerSec: r.spec.ratePerSec }),
    ...(r.spec.pctOfMax !== undefined && { pctOfMax: r.spec.pctOfMax }),
    ...(lags.length > 0 && { sendLagP99Ms: spread(lags) }),
    ...(r.note !== undefined && { note: r.note }),
  };
}
