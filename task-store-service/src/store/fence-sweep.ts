/**
 * Fences are needed only until their version is written (docs/consistency.md) and are swept once
 * FENCE_RETENTION_MS old. Each fence carries the minute it was taken (`sweepMinute`), so a sweep
 * is a few deletes by equality on that minute, which FerretDB 1.24 pushes down to an index,
 * instead of one delete by an `at` range, which it evaluates in Go over every fence stored: under
 * load that is ten minutes of fences, two per task (bench/store/fence-sweep.ts has the figures).
 */
import type { Collection } from 'mongodb';
import { FENCE_RETENTION_MS, type FenceDoc } from './documents.js';

const MINUTE_MS = 60_000;
/**
 * How far back a pass goes for minutes this process has not swept yet (passes that failed or did
 * not run on a busy machine); older ones wait for the next full sweep.
 */
const WINDOW_MINUTES = 15;
/**
 * A full sweep by `at` (a scan on FerretDB) runs at the first pass and then this seldom: fences
 * from before `sweepMinute` existed, those older than the window (a store down for longer), and
 * those a replica whose clock lags wrote into a minute already swept.
 */
const FULL_SWEEP_EVERY_MS = 60 * MINUTE_MS;

/** The time fields of a fence taken at `at`. */
export function fenceTimes(at: Date = new Date()): Pick<FenceDoc, 'at' | 'sweepMinute'> {
  return { at, sweepMinute: Math.floor(at.getTime() / MINUTE_MS) };
}

export class FenceSweeper {
  private lastFullMs = -Infinity;
  /** Every minute below this one has been swept (by this process, since its last full sweep). */
  private sweptBelow = -Infinity;

  constructor(
    private readonly fences: Collection<FenceDoc>,
    private readonly retentionMs = FENCE_RETENTION_MS,
  ) {}

  /** One pass: the fences removed. */
  async sweep(nowMs = Date.now()): Promise<number> {
    const cutoffMs = nowMs - this.retentionMs;
    // Every fence of a minute below `end` was taken before the cutoff.
    const end = Math.floor(cutoffMs / MINUTE_MS);
    if (nowMs - this.lastFullMs >= FULL_SWEEP_EVERY_MS) {
      const r = await this.fences.deleteMany({ at: { $lt: new Date(cutoffMs) } });
      this.lastFullMs = nowMs;
      this.sweptBelow = end;
      return r.deletedCount;
    }
    // The minutes that became due since the last pass: one, when passes run every minute.
    let removed = 0;
    for (let minute = Math.max(this.sweptBelow, end - WINDOW_MINUTES); minute < end; minute++) {
      removed += (await this.fences.deleteMany({ sweepMinute: minute })).deletedCount;
      this.sweptBelow = minute + 1;
    }
    return removed;
  }
}
