/**
 * The retention sweeper (docs/retention.md): removes finished tasks older than their type's
 * retention and idempotency keys older than their window. Every store replica runs it; each step
 * is conditional and repeatable, so two replicas sweeping at once only duplicate reads.
 *
 * Reads are top-level equality only (FerretDB evaluates anything else over every row the equality
 * part matched): finished tasks by `{type, finishedHour}`, keys by `{hour}`, walked hour by hour
 * from a per-type (per-collection) cursor, a bounded page per pass.
 */
import type { Collection } from 'mongodb';
import type { Collections } from './collections.js';
import { FENCE_RETENTION_MS, type IdempotencyDoc } from './documents.js';
import { backfillFinishedHours, finishedHoursDone } from './finished-hour-backfill.js';
import { isExpiredKey, removeExpiredKey } from './idempotency-keys.js';
import { HOUR_MS, hourOf } from './list-buckets.js';
import {
  CANDIDATE_PROJECTION,
  DEPENDENT_DATA_REMOVERS,
  removability,
  removeTasks,
  type DependentDataRemover,
  type RemovalCandidate,
} from './task-removal.js';

/**
 * A cursor passes an hour only this long after the hour is wholly past its cutoff: a stale fence
 * rolled forward (within the fences' 10 minutes) may still write a finish timed in it.
 */
const SETTLE_MARGIN_MS = FENCE_RETENTION_MS;

export interface SweepOptions {
  /** Most tasks, and most keys, one pass reads. */
  page: number;
  flushCounts: () => Promise<void>;
  removers?: readonly DependentDataRemover[];
}

export interface SweepReport {
  /** Tasks removed, by type. */
  removed: Record<string, number>;
  /** Idempotency keys removed (tasks' and flows'). */
  keys: number;
  /** Tasks read, removable or not. */
  read: number;
  /** On the pass that did the database's finishedHour backfill: the tasks it wrote. */
  backfilled?: number;
}

export class RetentionSweeper {
  /** Which type this process's next pass starts with: every type gets its turn at the page. */
  private turn = 0;
  /** Whether every finished task is known to have finishedHour (finished-hour-backfill.ts). */
  private backfilled = false;

  constructor(
    private readonly collections: Collections,
    private readonly options: SweepOptions,
  ) {}

  async sweep(nowMs = Date.now()): Promise<SweepReport> {
    const { collections } = this;
    const report: SweepReport = { removed: {}, keys: 0, read: 0 };
    // Tasks without finishedHour would be invisible to the cursors: none is swept until they have it.
    if (!this.backfilled) this.backfilled = await finishedHoursDone(collections);
    if (!this.backfilled) {
      const written = await backfillFinishedHours(collections);
      this.backfilled = written !== null;
      if (written !== null) report.backfilled = written;
    }
    const types = !this.backfilled
      ? []
      : (await collections.taskTypes.find({}, { projection: { _id: 1 } }).toArray()).map((t) => t._id);
    const settings = await collections.settings.all();
    const keyCutoff = nowMs - collections.retention.idempotencyKeyTtlSeconds * 1000;
    let budget = this.options.page;
    const start = this.turn++ % Math.max(1, types.length);
    for (let i = 0; i < types.length && budget > 0; i++) {
      const type = types[(start + i) % types.length]!;
      const seconds = settings.get(type)?.retentionSeconds ?? collections.retention.defaultSeconds;
      const r = await this.sweepType(type, nowMs - seconds * 1000, keyCutoff, nowMs, budget);
      budget -= r.spent;
      report.read += r.read;
      if (r.removed > 0) report.removed[type] = r.removed;
    }
    for (const [name, coll] of [
      ['task_idempotency', collections.idempotency],
      ['flow_idempotency', collections.flowIdempotency],
    ] as const)
      report.keys += await this.sweepKeys(name, coll, keyCutoff, nowMs);
    return report;
  }

  private async sweepType(
    type: string,
    cutoff: number,
    keyCutoff: number,
    nowMs: number,
    budget: number,
  ): Promise<{ read: number; spent: number; removed: number }> {
    const { collections } = this;
    const id = `tasks:${type}`;
    // The first time: the hour the oldest task was created in, as no task finished before it. Not
    // the type's oldest finishedHour, which FerretDB would sort from every task of the type. (Not
    // an hour earlier either, for replicas' clocks: the cursor could then pass that empty hour only
    // 10 minutes into the next, and a short retention would wait for it.)
    let hour = await this.cursor(id, nowMs, () => collections.buckets.oldestHour());
    const from = hour;
    let read = 0;
    // The budget pays for tasks read and for hours found empty (one query each).
    let spent = 0;
    let removed = 0;
    while (hour <= hourOf(cutoff) && spent < budget) {
      const limit = budget - spent;
      const docs = (await collections.tasks
        .find({ type, finishedHour: hour }, { projection: CANDIDATE_PROJECTION, limit })
        .toArray()) as RemovalCandidate[];
      read += docs.length;
      spent += Math.max(1, docs.length);
      const verdicts = docs.map((d) => removability(d, cutoff, keyCutoff));
      const wanted = docs.filter((_, i) => verdicts[i] === 'removable');
      const gone = await removeTasks(collections, wanted, this.options.flushCounts, this.options.removers);
      removed += gone.length;
      const settled = gone.length === wanted.length && !verdicts.includes('not yet');
      if (docs.length === limit && settled && gone.length > 0) continue; // more in this hour
      if (!settled || docs.length === limit || hour + HOUR_MS + SETTLE_MARGIN_MS > cutoff) break;
      hour += HOUR_MS;
    }
    if (hour !== from) await this.advance(id, hour);
    return { read, spent, removed };
  }

  /** Expired keys, hour by hour; deleted under their fence, so a key taken again since stays. */
  private async sweepKeys(
    name: string,
    coll: Collection<IdempotencyDoc>,
    cutoff: number,
    nowMs: number,
  ): Promise<number> {
    const id = `keys:${name}`;
    let hour = await this.cursor(id, nowMs, () =>
      coll
        .find({ hour: { $gte: 0 } }, { projection: { hour: 1 } })
        .sort({ hour: 1 })
        .limit(1)
        .next()
        .then((d) => d?.hour ?? null),
    );
    const ttlSeconds = (nowMs - cutoff) / 1000;
    const from = hour;
    let removed = 0;
    let read = 0;
    while (hour <= hourOf(cutoff) && read < this.options.page) {
      const limit = this.options.page - read;
      const docs = await coll.find({ hour }, { limit }).toArray();
      read += docs.length;
      for (const d of docs.filter((k) => isExpiredKey(k, nowMs, ttlSeconds))) {
        if ((await removeExpiredKey(coll, this.collections.fences, d)) === 'removed') removed++;
      }
      if (docs.length === limit || hour + HOUR_MS > cutoff) break;
      hour += HOUR_MS;
    }
    if (hour !== from) await this.advance(id, hour);
    return removed;
  }

  /**
   * The first hour not yet swept. Without a cursor, the oldest hour present (a sorted read, once per
   * type and database), or the current hour when there is none yet.
   */
  private async cursor(id: string, nowMs: number, oldest: () => Promise<number | null>): Promise<number> {
    const doc = await this.collections.retentionCursors.findOne({ _id: id });
    if (doc) return doc.hour;
    const hour = (await oldest()) ?? hourOf(nowMs);
    await this.advance(id, hour);
    return hour;
  }

  /** Last writer wins: each value written is an hour its writer swept whole, so none skips work. */
  private async advance(id: string, hour: number): Promise<void> {
    await this.collections.retentionCursors.replaceOne(
      { _id: id },
      { hour, at: new Date() },
      { upsert: true },
    );
  }
}

export { DEPENDENT_DATA_REMOVERS };
