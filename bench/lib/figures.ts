/**
 * What one run measured, and how the runs of a scenario are summarised (median and range).
 * Latency is taken from the tasks' own timestamps (ours: createdAt → finishedAt written by the
 * store; BullMQ: job.timestamp → job.finishedOn), throughput from the load generator's clock
 * (first request sent) to the last finish timestamp. All clocks are this machine's.
 */
import { percentile, round, spread, type Spread } from './measure.js';
import type { LoadResult } from './http-load.js';
import type { PgSnapshot } from './pg-stats.js';
import type { CpuReport } from './processes.js';
import type { StoreWork } from './prom-metrics.js';

/** `open`: single POSTs sent on a fixed schedule (open loop), independent of the answers. */
export type Path = 'single' | 'batch' | 'open';

export interface ScenarioSpec {
  system: 'ours' | 'bullmq';
  path: Path;
  /** Concurrent HTTP clients (closed loop). */
  concurrency: number;
  /** Tasks per measured run. */
  n: number;
  /** Tasks per request (1 for the single path). */
  batchSize: number;
  executors?: number;
  /** Open loop only: sends per second, and the share of the measured maximum it stands for. */
  ratePerSec?: number;
  pctOfMax?: number;
  /** Ours: history tasks written into the store before these runs (e2e-stored). */
  prefilled?: number;
}

export function scenarioLabel(s: ScenarioSpec): string {
  const path =
    s.path === 'single'
      ? 'POST single'
      : s.path === 'batch'
        ? `POST batch×${s.batchSize}`
        : `open loop ${s.ratePerSec}/s${s.pctOfMax === undefined ? '' : ` (${s.pctOfMax}% of max)`}`;
  const ex = s.system === 'ours' ? `, ${s.executors ?? 1} executor${(s.executors ?? 1) > 1 ? 's' : ''}` : '';
  const c = s.path === 'open' ? '' : `C=${s.concurrency}, `;
  const stored = s.prefilled === undefined ? '' : `, ${s.prefilled.toLocaleString('en')} stored`;
  return `${s.system === 'ours' ? 'ours' : 'BullMQ'}: ${path}, ${c}N=${s.n.toLocaleString('en')}${ex}${stored}`;
}

export interface Timing {
  id: string;
  status: string;
  createdMs: number;
  finishedMs: number | null;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RunFigures {
  rep: number;
  warmup: boolean;
  requested: number;
  /** Tasks the server confirmed (201/200). */
  accepted: number;
  succeeded: number;
  failed: number;
  /** Accepted but not terminal when the run's deadline passed. */
  notTerminal: number;
  timedOut: boolean;
  /** Ours only: tasks already in the store's collection when the run started. */
  storedBefore?: number;
  submitSeconds: number;
  submittedPerSec: number;
  /** First request sent → last task finished. */
  makespanSeconds: number;
  completedPerSec: number;
  /** Submit-to-done, from the tasks' own timestamps. */
  latencyMs: LatencySummary | null;
  /** HTTP request latency of the submits. */
  requestLatencyMs: { p50: number; p99: number } | null;
  statuses: Record<string, number>;
  firstError?: string;
  cpu: CpuReport;
  /**
   * CPU time per accepted task in ms, by role, and `system`: the sum over every process of the
   * system under test (all roles but the load generator). Shared servers (RabbitMQ, Redis) count
   * whatever else used them meanwhile.
   */
  cpuMsPerTask: Record<string, number | null>;
  /** Ours only: store JSON-RPC calls made during the run, by method (from the store's /metrics). */
  storeRpc?: Record<string, { calls: number; meanMs: number; errors: number }>;
  /** Ours only: JSON-RPC calls, HTTP requests to the store and database operations per accepted task. */
  storeWork?: StoreWork;
  /** Ours only: gateway request time by route (from the gateway's /metrics). */
  gatewayRoutes?: Record<string, { count: number; meanMs: number }>;
  /** Other counters read from the services' /metrics during the run. */
  counters?: Record<string, number>;
  /** Ours on FerretDB/PostgreSQL only: the PostgreSQL server's work per accepted task (approximate). */
  postgresPerTask?: PgSnapshot;
  /**
   * Open loop only: latencies (latencyMs, requestLatencyMs) count from each request's scheduled
   * send time, so a late send (generator or server falling behind) is counted, not omitted.
   */
  openLoop?: { ratePerSec: number; scheduled: number; sendLagMs: { p50: number; p99: number; max: number } };
}

function latency(values: number[]): LatencySummary | null {
  if (values.length === 0) return null;
  return {
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(Math.max(...values)),
  };
}

export function runFigures(args: {
  rep: number;
  warmup: boolean;
  spec: ScenarioSpec;
  load: LoadResult;
  timings: Timing[];
  cpu: CpuReport;
  timedOut: boolean;
  storedBefore?: number;
}): RunFigures {
  const { load, timings } = args;
  const done = timings.filter((t) => t.finishedMs !== null);
  const succeeded = timings.filter((t) => t.status === 'succeeded' || t.status === 'completed').length;
  const failed = timings.filter((t) => t.status === 'failed').length;
  const lastFinish = Math.max(...done.map((t) => t.finishedMs!));
  const makespanMs = done.length > 0 ? lastFinish - load.startEpochMs : NaN;
  return {
    rep: args.rep,
    warmup: args.warmup,
    requested: args.spec.n,
    accepted: load.ids.length,
    succeeded,
    failed,
    notTerminal: load.ids.length - done.length,
    timedOut: args.timedOut,
    ...(args.storedBefore !== undefined && { storedBefore: args.storedBefore }),
    submitSeconds: round(load.wallMs / 1000, 3),
    submittedPerSec: round(load.ids.length / (load.wallMs / 1000)),
    makespanSeconds: round(makespanMs / 1000, 3),
    completedPerSec: round(done.length / (makespanMs / 1000)),
    latencyMs: latency(done.map((t) => t.finishedMs! - t.createdMs)),
    requestLatencyMs:
      load.requestLatenciesMs.length === 0
        ? null
        : {
            p50: round(percentile(load.requestLatenciesMs, 50)),
            p99: round(percentile(load.requestLatenciesMs, 99)),
          },
    statuses: load.statuses,
    cpuMsPerTask: cpuPerTask(args.cpu, load.ids.length),
    ...(load.sendLagMs && {
      openLoop: {
        ratePerSec: args.spec.ratePerSec ?? NaN,
        scheduled: load.sendLagMs.length,
        sendLagMs: {
          p50: round(percentile(load.sendLagMs, 50)),
          p99: round(percentile(load.sendLagMs, 99)),
          max: round(Math.max(0, ...load.sendLagMs)),
        },
      },
    }),
    ...(load.firstError !== undefined && { firstError: load.firstError }),
    cpu: args.cpu,
  };
}

function cpuPerTask(cpu: CpuReport, tasks: number): Record<string, number | null> {
  const perTask = (pct: number | null | undefined) =>
    pct === null || pct === undefined || tasks === 0 ? null : round(((pct / 100) * cpu.wallMs) / tasks, 2);
  const out: Record<string, number | null> = {};
  let system: number | null = 0;
  for (const [role, pct] of Object.entries(cpu.byRole)) {
    out[role] = perTask(pct);
    if (role !== 'loadGenerator') system = system === null || out[role] === null ? null : system + out[role];
  }
  out.system = system === null ? null : round(system, 2);
  // Our three services together (what the issue 13 target is about), when all three were metered.
  if ('store' in out && 'gateway' in out && 'executor' in out) {
    const { store, gateway, executor } = out;
    out.services =
      store === null || gateway === null || executor === null ? null : round(store + gateway + executor, 2);
  }
  return out;
}

export interface ScenarioResult {
  spec: ScenarioSpec;
  label: string;
  warmup: RunFigures[];
  runs: RunFigures[];
  /** Over the measured runs; absent when none ran. */
  summary?: ScenarioSummary;
  /** Why fewer runs than planned were measured. */
  note?: string;
}

export interface ScenarioSummary {
  runs: number;
  submittedPerSec: Spread;
  completedPerSec: Spread;
  makespanSeconds: Spread;
  p50Ms: Spread;
  p95Ms: Spread;
  p99Ms: Spread;
  /** Median over runs of each role's CPU (% of one core). */
  cpuPct: Record<string, number | null>;
  /** Median over runs of each role's CPU ms per task (and `system`, the sum without the load generator). */
  cpuMsPerTask: Record<string, number | null>;
  otherProcessesCpuPct: number | null;
  loadAverage1m: { mean: number; max: number };
}

const median = (values: number[]) => spread(values).median;

export function summarise(runs: RunFigures[]): ScenarioSummary | undefined {
  const ok = runs.filter((r) => r.latencyMs !== null);
  if (ok.length === 0) return undefined;
  const roles = Object.keys(ok[0]!.cpu.byRole);
  const cpuPct = Object.fromEntries(
    roles.map((role) => {
      const v = ok.map((r) => r.cpu.byRole[role]).filter((x): x is number => typeof x === 'number');
      return [role, v.length === ok.length ? round(median(v)) : null];
    }),
  );
  const cpuMsPerTask = Object.fromEntries(
    Object.keys(ok[0]!.cpuMsPerTask).map((role) => {
      const v = ok.map((r) => r.cpuMsPerTask[role]).filter((x): x is number => typeof x === 'number');
      return [role, v.length === ok.length ? round(median(v), 2) : null];
    }),
  );
  const others = ok.map((r) => r.cpu.otherProcesses).filter((x): x is number => x !== null);
  return {
    runs: ok.length,
    submittedPerSec: spread(ok.map((r) => r.submittedPerSec)),
    completedPerSec: spread(ok.map((r) => r.completedPerSec)),
    makespanSeconds: spread(ok.map((r) => r.makespanSeconds)),
    p50Ms: spread(ok.map((r) => r.latencyMs!.p50)),
    p95Ms: spread(ok.map((r) => r.latencyMs!.p95)),
    p99Ms: spread(ok.map((r) => r.latencyMs!.p99)),
    cpuPct,
    cpuMsPerTask,
    otherProcessesCpuPct: others.length === ok.length ? round(median(others)) : null,
    loadAverage1m: {
      mean: round(median(ok.map((r) => r.cpu.loadAverage1m.mean)), 2),
      max: round(Math.max(...ok.map((r) => r.cpu.loadAverage1m.max)), 2),
    },
  };
}
