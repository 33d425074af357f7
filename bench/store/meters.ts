/**
 * The store benchmark's meters (store-bench.ts and its parts): the CPU of this load generator, the
 * store process and the database server over a measurement, how busy other work kept the machine,
 * and `count` calls spread over concurrent callers.
 */
import { loadavg } from 'node:os';
import { machineBusyMs, processCpuMs, round } from '../lib/measure.js';
import { childPidsByName } from '../lib/processes.js';

/** The database server we started ourselves (FerretDB or a memory-server mongod), if any. */
export function findChildServerPid(): number | undefined {
  return childPidsByName('ferretdb')[0] ?? childPidsByName('mongod')[0];
}

export interface CpuShare {
  wallMs: number;
  /** CPU time as a percentage of one core over the wall time (200 = both cores of two). */
  loadGeneratorPct: number;
  storePct: number | null;
  mongoPct: number | null;
  loadGeneratorCpuMs: number;
}

/** Starts a CPU meter over this process (the load generator), the store and the database server. */
export function cpuMeter(pids: { store?: number; mongo?: number }): () => CpuShare {
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const store0 = processCpuMs(pids.store);
  const mongo0 = processCpuMs(pids.mongo);
  return () => {
    const wallMs = performance.now() - t0;
    const self = process.cpuUsage(self0);
    const selfMs = (self.user + self.system) / 1000;
    const pct = (ms: number | null, base: number | null) =>
      ms === null || base === null ? null : round(((ms - base) / wallMs) * 100);
    return {
      wallMs: round(wallMs),
      loadGeneratorPct: round((selfMs / wallMs) * 100),
      storePct: pct(processCpuMs(pids.store), store0),
      mongoPct: pct(processCpuMs(pids.mongo), mongo0),
      loadGeneratorCpuMs: round(selfMs),
    };
  };
}

export interface CallsResult {
  wallMs: number;
  latenciesMs: number[];
  errors: number;
  firstError?: string;
}

/** `count` calls spread over `concurrency` callers; call(i) is invoked once for each i in [0, count). */
export async function runCalls(
  concurrency: number,
  count: number,
  call: (i: number) => Promise<void>,
): Promise<CallsResult> {
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const latenciesMs: number[] = [];
  const t0 = performance.now();
  const caller = async () => {
    while (next < count) {
      const i = next++;
      const start = performance.now();
      try {
        await call(i);
        latenciesMs.push(performance.now() - start);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, caller));
  return { wallMs: performance.now() - t0, latenciesMs, errors, ...(firstError ? { firstError } : {}) };
}

export interface Contention {
  /** CPU used on this machine by processes other than the benchmark, store and db server. */
  otherProcessesCpuPctOfOneCore: number | null;
  loadAverage1m: { mean: number; max: number };
}

/**
 * Measures how busy the machine was with other work during the run (the benchmark's numbers
 * depend on it on a shared machine): all busy CPU time minus ours, and the 1-minute load average.
 */
export function contentionMeter(pids: { store?: number; mongo?: number }): () => Contention {
  const t0 = performance.now();
  const busy0 = machineBusyMs();
  const self0 = process.cpuUsage();
  const store0 = processCpuMs(pids.store);
  const mongo0 = processCpuMs(pids.mongo);
  const loads: number[] = [loadavg()[0]!];
  const timer = setInterval(() => loads.push(loadavg()[0]!), 5_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    const wallMs = performance.now() - t0;
    const self = process.cpuUsage(self0);
    const busy1 = machineBusyMs();
    const store1 = processCpuMs(pids.store);
    const mongo1 = processCpuMs(pids.mongo);
    // A process that has already exited reads as null: count its CPU as unknown, not as others'.
    const ours =
      store0 === null || store1 === null || (pids.mongo !== undefined && (mongo0 === null || mongo1 === null))
        ? null
        : (self.user + self.system) / 1000 + (store1 - store0) + ((mongo1 ?? 0) - (mongo0 ?? 0));
    const others = busy0 === null || busy1 === null || ours === null ? null : busy1 - busy0 - ours;
    return {
      otherProcessesCpuPctOfOneCore: others === null ? null : round((Math.max(0, others) / wallMs) * 100),
      loadAverage1m: {
        mean: round(loads.reduce((a, b) => a + b, 0) / loads.length, 2),
        max: round(Math.max(...loads), 2),
      },
    };
  };
}
