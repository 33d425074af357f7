/** What bench/targets.ts prints: the targets, the runs of each side and the reads, as Markdown tables. */
import type { ReadRow } from './read-latency.js';
import { spread } from './measure.js';
import { fmt, table } from './markdown.js';
import { readsTable } from './stored-section.js';
import type { TargetRow } from './target-verdicts.js';

/** One side of the check: the tasks stored before it, and its runs. */
export interface Side {
  stored: number;
  runs: {
    completedPerSec: number;
    servicesCpuMsPerTask: number | null;
    cpuMsPerTask: Record<string, number | null>;
  }[];
}

export function checkReport(
  rows: TargetRow[],
  first: Side,
  last: Side,
  reads: ReadRow[],
  prefilled: boolean,
): string {
  const sides = prefilled ? [first, last] : [first];
  return [
    table(
      ['target', 'measured', 'verdict'],
      rows.map((r) => [r.target, r.measured, r.verdict === 'fail' ? 'FAIL' : r.verdict]),
      'lll',
    ),
    '',
    table(
      ['stored', 'runs: completed/s', 'services CPU ms/task (median)', 'gateway', 'store', 'executor'],
      sides.map((s) => {
        const med = (k: string) => {
          const v = s.runs
            .map((r) => r.cpuMsPerTask[k])
            .filter((x): x is number => x !== null && x !== undefined);
          return v.length > 0 ? fmt(spread(v).median, 3) : '–';
        };
        const services = s.runs.map((r) => r.servicesCpuMsPerTask).filter((x): x is number => x !== null);
        return [
          fmt(s.stored, 0),
          s.runs.map((r) => fmt(r.completedPerSec, 1)).join(', '),
          services.length > 0 ? fmt(spread(services).median, 3) : '–',
          med('gateway'),
          med('store'),
          med('executor'),
        ];
      }),
      'rlrrrr',
    ),
    '',
    readsTable(reads),
  ].join('\n');
}
