/**
 * The busy-machine rule: a figure taken while other work already loaded the machine says more
 * about that work than about the system. bench/run.ts records the 1-minute load average before
 * it starts anything (`machine.loadBeforeRun`, the same for every scenario of one invocation);
 * above BUSY_LOAD_PER_CORE × cores (1.5 on 2 cores) the scenario's figures are a busy run.
 * Our own scenarios load the machine too, so the load at each scenario's start is recorded
 * (loadAverageAtStart/AtEnd) but not judged.
 */
import type { ScenarioFile } from './scenario.js';

export const BUSY_LOAD_PER_CORE = 0.75;

export interface Busy {
  busy: boolean;
  /** 1-minute load average before the invocation started anything; null in files older than the rule. */
  loadBeforeRun: number | null;
  threshold: number;
}

export function busyOf(f: ScenarioFile): Busy {
  const m = f.machine as { cores?: number; loadBeforeRun?: number[]; loadAverageAtStart?: number[] };
  const threshold = BUSY_LOAD_PER_CORE * (m.cores ?? 2);
  // Files written before the rule existed: the scenario's own start load is the best there is.
  const load = m.loadBeforeRun?.[0] ?? m.loadAverageAtStart?.[0] ?? null;
  return { busy: load === null || load > threshold, loadBeforeRun: load, threshold };
}

/** "**busy machine** (load 3.2 > 1.5 before the run)", or '' when the machine was quiet. */
export function busyMark(f: ScenarioFile): string {
  const b = busyOf(f);
  if (!b.busy) return '';
  return b.loadBeforeRun === null
    ? '**busy machine?** (no load recorded before the run)'
    : `**busy machine** (1-min load ${b.loadBeforeRun} > ${b.threshold} before the run)`;
}

/** Thrown by renderBenchmarks when a headline figure comes from a busy run and busy runs are not allowed. */
export class BusyRunError extends Error {
  readonly type = 'BUSY_RUN';
  constructor(readonly scenarios: string[]) {
    super(
      `the headline would show figures from a busy machine (${scenarios.join(', ')}: load average above ` +
        `${BUSY_LOAD_PER_CORE} per core before the run); BENCHMARKS.md was left as it was. Run again on a quiet ` +
        'machine, or pass --allow-busy to render them marked "busy machine"',
    );
  }
}
