/**
 * Counts of tasks by (type, status) and per-second deltas, as plain data: adding, subtracting,
 * and the documents' array form (task type names hold dots, so they are values, never keys).
 */
import { TASK_STATUSES, type Stats, type TaskStatus } from '@tasks/contracts';
import type { CountRow, DeltaBucket, OutcomeBucket } from './documents.js';

const SEP = '\u0000';

export class Tally {
  private readonly m = new Map<string, number>();

  static of(rows: readonly CountRow[]): Tally {
    return new Tally().addRows(rows);
  }

  add(type: string, status: TaskStatus, n: number): this {
    const key = `${status}${SEP}${type}`;
    const v = (this.m.get(key) ?? 0) + n;
    if (v === 0) this.m.delete(key);
    else this.m.set(key, v);
    return this;
  }

  addRows(rows: readonly CountRow[], sign = 1): this {
    for (const r of rows) this.add(r.type, r.status, sign * r.n);
    return this;
  }

  addTally(other: Tally, sign = 1): this {
    return this.addRows(other.rows(), sign);
  }

  get isEmpty(): boolean {
    return this.m.size === 0;
  }

  rows(): CountRow[] {
    return [...this.m].map(([key, n]) => {
      const at = key.indexOf(SEP);
      return { status: key.slice(0, at) as TaskStatus, type: key.slice(at + 1), n };
    });
  }
}

export const secondOf = (ms: number): number => Math.floor(ms / 1000);

/** The deltas of one writer: totals, per-second buckets of them, and per-second outcomes. */
export class Deltas {
  counts = new Tally();
  recent = new Map<number, Tally>();
  outcomes = new Map<number, { succeeded: number; failed: number }>();

  static fromDoc(doc: { counts: CountRow[]; recent: DeltaBucket[]; outcomes: OutcomeBucket[] }): Deltas {
    const d = new Deltas();
    d.counts = Tally.of(doc.counts);
    for (const b of doc.recent) d.recent.set(b.s, Tally.of(b.counts));
    for (const o of doc.outcomes) d.outcomes.set(o.s, { succeeded: o.succeeded, failed: o.failed });
    return d;
  }

  add(type: string, status: TaskStatus, n: number, atMs: number): void {
    this.counts.add(type, status, n);
    const s = secondOf(atMs);
    let bucket = this.recent.get(s);
    if (!bucket) this.recent.set(s, (bucket = new Tally()));
    bucket.add(type, status, n);
    if (n > 0 && (status === 'succeeded' || status === 'failed')) {
      const o = this.outcomes.get(s) ?? { succeeded: 0, failed: 0 };
      o[status] += n;
      this.outcomes.set(s, o);
    }
  }

  merge(other: Deltas): this {
    this.counts.addTally(other.counts);
    for (const [s, t] of other.recent) {
      const mine = this.recent.get(s);
      if (mine) mine.addTally(t);
      else this.recent.set(s, new Tally().addTally(t));
    }
    for (const [s, o] of other.outcomes) {
      const mine = this.outcomes.get(s) ?? { succeeded: 0, failed: 0 };
      this.outcomes.set(s, { succeeded: mine.succeeded + o.succeeded, failed: mine.failed + o.failed });
    }
    return this;
  }

  /** Drops buckets older than the windows (their deltas stay in `counts`). */
  prune(nowMs: number, recentSeconds: number, outcomeSeconds: number): void {
    const now = secondOf(nowMs);
    for (const s of this.recent.keys()) if (s < now - recentSeconds) this.recent.delete(s);
    for (const s of this.outcomes.keys()) if (s < now - outcomeSeconds) this.outcomes.delete(s);
  }

  /** The deltas of transitions timed before `throughMs` (a whole second): totals minus later buckets. */
  before(throughMs: number): Tally {
    const t = new Tally().addTally(this.counts);
    for (const [s, bucket] of this.recent) if (s * 1000 >= throughMs) t.addTally(bucket, -1);
    return t;
  }

  get isEmpty(): boolean {
    return this.counts.isEmpty && this.recent.size === 0 && this.outcomes.size === 0;
  }

  toDoc(): { counts: CountRow[]; recent: DeltaBucket[]; outcomes: OutcomeBucket[] } {
    return {
      counts: this.counts.rows(),
      recent: [...this.recent].map(([s, t]) => ({ s, counts: t.rows() })),
      outcomes: [...this.outcomes].map(([s, o]) => ({ s, ...o })),
    };
  }
}

/** Sums outcome buckets from `sinceSecond` on. */
export function outcomesSince(
  buckets: Iterable<OutcomeBucket>,
  sinceSecond: number,
): { succeeded: number; failed: number } {
  let succeeded = 0;
  let failed = 0;
  for (const b of buckets) {
    if (b.s < sinceSecond) continue;
    succeeded += b.succeeded;
    failed += b.failed;
  }
  return { succeeded, failed };
}

/** byStatus / byType from a tally; a negative count (drift) reads as 0 and is reported. */
export function toStatsCounts(t: Tally): Pick<Stats, 'byStatus' | 'byType'> & { negative: boolean } {
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  const byType: Stats['byType'] = {};
  let negative = false;
  for (const r of t.rows()) {
    if (r.n < 0) {
      negative = true;
      continue;
    }
    byStatus[r.status] += r.n;
    (byType[r.type] ??= {})[r.status] = r.n;
  }
  return { byStatus, byType, negative };
}
