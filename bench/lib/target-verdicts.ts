/**
 * Issue 13's targets, judged the same way by BENCHMARKS.md (from bench/results/*.json) and by the
 * outside check bench/targets.ts (against a running `make start`). A target whose figure is
 * missing is "not measured", never a pass; the BullMQ-with-persistence ratios have no threshold:
 * they are to be stated beside the non-persistent ones.
 */
import { fmt } from './markdown.js';

export const TARGETS = {
  /** End to end with 30,000+ stored ÷ with an empty store, at least. */
  storedThroughputRatio: 0.8,
  storedAtLeast: 30_000,
  /** Store + gateway + executor CPU per noop task, at most (ms). */
  servicesCpuMsPerTask: 0.8,
  getP50Ms: 20,
  statsP50Ms: 100,
  listP50Ms: 300,
  /** End to end ÷ the slowest raw stage of the same run, at least. */
  fractionOfRawLimit: 0.7,
} as const;

export type Verdict = 'pass' | 'fail' | 'not measured' | 'stated';

export interface TargetRow {
  target: string;
  measured: string;
  verdict: Verdict;
  /** Where the figure comes from (scenario, side, run). */
  source: string;
}

export interface TargetInputs {
  /** Tasks stored when the "stored" figures were taken. */
  stored?: number | null;
  emptyPerSec?: number | null;
  storedPerSec?: number | null;
  servicesCpuMsPerTask?: number | null;
  getP50Ms?: number | null;
  statsP50Ms?: number | null;
  getFailed?: boolean;
  statsFailed?: boolean;
  slowestListP50Ms?: number | null;
  slowestList?: string | null;
  listFailed?: string[];
  listNotMeasured?: string[];
  fractionOfRawLimit?: number | null;
  /** Ours ÷ BullMQ completed/s, by path, against Redis without and with persistence. */
  bullmq?: { path: string; plain: number | null; persistent: number | null }[];
  source?: Partial<Record<'throughput' | 'cpu' | 'reads' | 'raw' | 'bullmq', string>>;
}

const known = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function atMost(v: number | null | undefined, limit: number): Verdict {
  return known(v) ? (v <= limit ? 'pass' : 'fail') : 'not measured';
}

function atLeast(v: number | null | undefined, limit: number): Verdict {
  return known(v) ? (v >= limit ? 'pass' : 'fail') : 'not measured';
}

export function targetRows(x: TargetInputs): TargetRow[] {
  const big = known(x.stored) && x.stored >= TARGETS.storedAtLeast;
  const storedNote = known(x.stored) ? ` at ${fmt(x.stored, 0)} stored` : '';
  const small = (v: Verdict): Verdict => (v === 'not measured' || big ? v : 'not measured');
  /** A figure taken with fewer than 30,000 stored is shown, but not judged. */
  const below = big || !known(x.stored) ? '' : ` (not judged: below ${fmt(TARGETS.storedAtLeast, 0)} stored)`;
  const ratio = known(x.emptyPerSec) && known(x.storedPerSec) ? x.storedPerSec / x.emptyPerSec : null;
  const rows: TargetRow[] = [
    {
      target: `End to end with ${fmt(TARGETS.storedAtLeast, 0)}+ stored ≥ ${TARGETS.storedThroughputRatio} × empty store`,
      measured: known(ratio)
        ? `${fmt(ratio, 2)} (${fmt(x.storedPerSec, 1)}/s${storedNote} ÷ ${fmt(x.emptyPerSec, 1)}/s empty)${below}`
        : '–',
      verdict: small(atLeast(ratio, TARGETS.storedThroughputRatio)),
      source: x.source?.throughput ?? '',
    },
    {
      target: `Our three services ≤ ${TARGETS.servicesCpuMsPerTask} ms CPU per noop task`,
      measured: known(x.servicesCpuMsPerTask) ? `${fmt(x.servicesCpuMsPerTask, 2)} ms` : '–',
      verdict: atMost(x.servicesCpuMsPerTask, TARGETS.servicesCpuMsPerTask),
      source: x.source?.cpu ?? '',
    },
    {
      target: `Get p50 ≤ ${TARGETS.getP50Ms} ms${storedNote || ' at 30,000+ stored'}`,
      measured: x.getFailed ? 'calls failed' : known(x.getP50Ms) ? `${fmt(x.getP50Ms, 1)} ms${below}` : '–',
      verdict: x.getFailed ? 'fail' : small(atMost(x.getP50Ms, TARGETS.getP50Ms)),
      source: x.source?.reads ?? '',
    },
    {
      target: `Stats p50 ≤ ${TARGETS.statsP50Ms} ms${storedNote || ' at 30,000+ stored'}`,
      measured: x.statsFailed
        ? 'calls failed'
        : known(x.statsP50Ms)
          ? `${fmt(x.statsP50Ms, 1)} ms${below}`
          : '–',
      verdict: x.statsFailed ? 'fail' : small(atMost(x.statsP50Ms, TARGETS.statsP50Ms)),
      source: x.source?.reads ?? '',
    },
    listRow(x, small, storedNote, below),
  ];
  if (x.fractionOfRawLimit !== undefined) {
    rows.push({
      target: `End to end ≥ ${TARGETS.fractionOfRawLimit * 100} % of the slowest raw stage of the same run`,
      measured: known(x.fractionOfRawLimit) ? `${fmt(x.fractionOfRawLimit * 100, 1)} %` : '–',
      verdict: atLeast(x.fractionOfRawLimit, TARGETS.fractionOfRawLimit),
      source: x.source?.raw ?? '',
    });
  }
  if (x.bullmq !== undefined) {
    const stated = x.bullmq.filter((b) => known(b.plain) && known(b.persistent));
    rows.push({
      target:
        'Ours ÷ BullMQ with persistence (AOF), single and batch submits, beside the non-persistent ratio',
      measured:
        x.bullmq
          .map((b) => `${b.path}: ${fmt(b.persistent, 3)} (without persistence ${fmt(b.plain, 3)})`)
          .join('; ') || '–',
      verdict:
        stated.some((b) => b.path.includes('single')) && stated.some((b) => b.path.includes('batch'))
          ? 'stated'
          : 'not measured',
      source: x.source?.bullmq ?? '',
    });
  }
  return rows;
}

function listRow(
  x: TargetInputs,
  small: (v: Verdict) => Verdict,
  storedNote: string,
  below: string,
): TargetRow {
  const target = `Every list page p50 ≤ ${TARGETS.listP50Ms} ms${storedNote || ' at 30,000+ stored'}`;
  const failed = x.listFailed ?? [];
  const missing = x.listNotMeasured ?? [];
  if (failed.length > 0) {
    return {
      target,
      measured: `${failed.length} page(s) failed (${failed.join('; ')})`,
      verdict: 'fail',
      source: x.source?.reads ?? '',
    };
  }
  // A page over the limit is a miss even when others were not measured.
  const measuredVerdict = small(atMost(x.slowestListP50Ms, TARGETS.listP50Ms));
  const verdict = measuredVerdict !== 'fail' && missing.length > 0 ? 'not measured' : measuredVerdict;
  return {
    target,
    measured: known(x.slowestListP50Ms)
      ? `slowest ${fmt(x.slowestListP50Ms, 0)} ms (${x.slowestList ?? '?'})${missing.length > 0 ? `; ${missing.length} not measured` : ''}${below}`
      : '–',
    verdict,
    source: x.source?.reads ?? '',
  };
}

/** Exit status of a check: 0 every target met, 1 one missed, 2 none missed but some not measured. */
export function exitStatus(rows: TargetRow[]): number {
  if (rows.some((r) => r.verdict === 'fail')) return 1;
  return rows.some((r) => r.verdict === 'not measured') ? 2 : 0;
}
