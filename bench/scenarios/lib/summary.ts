/** Headline rows shared by the end-to-end scenarios (ours and BullMQ). */
import type { ScenarioResult } from '../../e2e/figures.js';
import { spread, type Spread } from '../../store/measure.js';

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
