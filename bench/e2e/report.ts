/** What the end-to-end scenarios sum up over their runs: ours ÷ BullMQ, store calls and PostgreSQL work per task. */
import { round, spread } from '../store/measure.js';
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
