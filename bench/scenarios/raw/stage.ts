/** One raw stage of the pipeline, measured on its own: set up once, then timed runs. */
import { processCpuMs, round } from '../../lib/measure.js';

export interface StageRun {
  /** Operations completed within the run (messages, tasks, requests, calls). */
  ops: number;
  seconds: number;
  perSec: number;
  latencyMs?: { p50: number; p99: number };
  /** % of one core: this process (the load generator, plus the client side) and the server side. */
  cpu: { loadGeneratorPct: number; serverPct: number | null };
  extra?: Record<string, unknown>;
}

export interface StageSession {
  run(ms: number): Promise<StageRun>;
  teardown(): Promise<void>;
  /** The server side's process, for its CPU (a helper we forked, or a shared server). */
  serverPids: number[];
}

export interface Stage {
  name: string;
  /** What one operation is, e.g. "message published with confirm, consumed and acked". */
  op: string;
  setup(): Promise<StageSession>;
}

/** Meters this process and `pids` over one run. */
export function meter(pids: number[]): () => StageRun['cpu'] {
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const srv0 = pids.map((p) => processCpuMs(p));
  return () => {
    const wall = performance.now() - t0;
    const self = process.cpuUsage(self0);
    const srv1 = pids.map((p) => processCpuMs(p));
    const known = pids.length > 0 && srv0.every((x) => x !== null) && srv1.every((x) => x !== null);
    let srvMs: number | null = null;
    if (known) srvMs = srv1.reduce<number>((a, b, i) => a + (b ?? 0) - (srv0[i] ?? 0), 0);
    return {
      loadGeneratorPct: round(((self.user + self.system) / 1000 / wall) * 100),
      serverPct: srvMs === null ? null : round((srvMs / wall) * 100),
    };
  };
}
