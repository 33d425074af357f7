/** Small measuring tools: order statistics, CPU meters for this and other processes, callers. */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0] ?? NaN, max: s.at(-1) ?? NaN };
}

/** Nearest-rank percentile: with fewer than 20 samples, p95 is the maximum. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

export const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** user+system CPU of another process from /proc (Linux), in ms; null when unreadable. */
export function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** The database server we started ourselves (FerretDB or a memory-server mongod), if any. */
export function findChildServerPid(): number | undefined {
  let dirs: string[];
  try {
    dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const d of dirs) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && (comm === 'ferretdb' || comm === 'mongod')) return Number(d);
    } catch {
      // the process went away while we looked
    }
  }
  return undefined;
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

/** The run's time budget. */
export class Budget {
  readonly startedAt = Date.now();
  constructor(readonly totalMs: number) {}
  elapsedMs(): number {
    return Date.now() - this.startedAt;
  }
  remainingMs(): number {
    return this.totalMs - this.elapsedMs();
  }
}

/** One progress line on stderr, stamped with the time since start. */
export function progress(budget: Budget, line: string): void {
  process.stderr.write(`[${(budget.elapsedMs() / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

function machineBusyMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number); // user nice system idle iowait irq softirq steal
    const busy = v[0]! + v[1]! + v[2]! + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0);
    return (busy * 1000) / ticksPerSecond();
  } catch {
    return null;
  }
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
