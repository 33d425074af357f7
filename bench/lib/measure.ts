/** Small measuring tools every benchmark uses: order statistics, /proc CPU readings, the time budget and progress lines. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

/** Busy CPU time of the whole machine since boot (/proc/stat), in ms; null when unreadable. */
export function machineBusyMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number); // user nice system idle iowait irq softirq steal
    const busy = v[0]! + v[1]! + v[2]! + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0);
    return (busy * 1000) / ticksPerSecond();
  } catch {
    return null;
  }
}
