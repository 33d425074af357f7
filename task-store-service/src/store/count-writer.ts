/**
 * This process's share of the task counts (docs/stats.md): deltas applied in memory after each
 * successful insert or status change, and written to its own `task_counts` document, which no
 * other process writes (FerretDB 1.24 loses concurrent `$inc`s and has no atomic update).
 */
import { randomUUID } from 'node:crypto';
import type { TaskStatus } from '@tasks/contracts';
import type { Collection } from 'mongodb';
import { Deltas, Tally } from './count-tally.js';
import type { CountWriterDoc, TaskCountsDoc } from './documents.js';

/** Per-second delta buckets kept this long: a recount folds a writer read within it. */
export const RECENT_WINDOW_S = 30;
/** Per-second outcome buckets kept this long (stats reads the last 60 s). */
export const OUTCOME_WINDOW_S = 65;

export class CountWriter {
  id = `writer:${randomUUID()}`;
  private version = 0;
  private flushed = new Deltas();
  private pending = new Deltas();
  /** The deltas a flush is writing: in neither `flushed` nor `pending` until the write is over. */
  private writing: Deltas | null = null;
  /** Times of transitions under way (taken, not yet written or failed), by count. */
  private readonly inFlight = new Map<number, number>();
  private wanted: string | null = null;

  /** Call when a transition's time is taken; the returned function when its write is over. */
  begin(at: Date): () => void {
    const t = at.getTime();
    this.inFlight.set(t, (this.inFlight.get(t) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.inFlight.get(t) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(t);
      else this.inFlight.set(t, left);
    };
  }

  created(type: string, status: TaskStatus, at: Date, n = 1): void {
    this.pending.add(type, status, n, at.getTime());
  }

  changed(type: string, from: TaskStatus, to: TaskStatus, at: Date): void {
    if (from === to) return;
    this.pending.add(type, from, -1, at.getTime());
    this.pending.add(type, to, 1, at.getTime());
  }

  /**
   * A removed task (docs/retention.md): -1 in its last status, never an outcome. Timed before any
   * cut a later recount can take (see there); the caller holds the base's fence meanwhile.
   */
  removed(type: string, status: TaskStatus, at: Date): void {
    this.pending.add(type, status, -1, at.getTime());
  }

  /** The counts may be wrong in a way only a recount mends (e.g. a partly failed insertMany). */
  requestRecount(reason: string): void {
    this.wanted ??= reason;
  }

  takeRecountRequest(): string | null {
    const r = this.wanted;
    this.wanted = null;
    return r;
  }

  get hasPending(): boolean {
    return !this.pending.isEmpty;
  }

  /** Everything this writer applied, flushed or not. */
  totals(): Deltas {
    // While a flush writes, its deltas are in neither of the other two: without them, stats read
    // meanwhile missed them (a task created before the flush but claimed after read as -1 queued,
    // and every such read requested a recount, a scan of every task).
    const all = new Deltas().merge(this.flushed);
    if (this.writing) all.merge(this.writing);
    return all.merge(this.pending);
  }

  /**
   * Writes flushed + pending as the next version of this writer's document. Deltas that arrive
   * meanwhile stay pending. When the document is gone (a recount judged this writer dead), the
   * deltas cannot be placed: a new writer starts from zero and asks for a recount.
   */
  async flush(coll: Collection<TaskCountsDoc>, stopped = false): Promise<'ok' | 'retired'> {
    const now = Date.now();
    const settled = Math.min(now, ...this.inFlight.keys());
    const snapshot = this.pending;
    this.pending = new Deltas();
    const next = new Deltas().merge(this.flushed).merge(snapshot);
    next.prune(now, RECENT_WINDOW_S, OUTCOME_WINDOW_S);
    const doc: CountWriterDoc = {
      _id: this.id,
      role: 'writer',
      version: this.version + 1,
      flushedAt: new Date(now),
      settledThrough: new Date(settled),
      stopped,
      ...next.toDoc(),
    };
    this.writing = snapshot;
    try {
      if (this.version === 0) await coll.insertOne(doc);
      else {
        const r = await coll.replaceOne({ _id: this.id, version: this.version }, doc);
        if (r.matchedCount === 0) {
          this.id = `writer:${randomUUID()}`;
          this.version = 0;
          this.flushed = new Deltas();
          this.requestRecount('a writer document was retired while its writer lived');
          return 'retired';
        }
      }
    } catch (err) {
      this.pending = snapshot.merge(this.pending);
      throw err;
    } finally {
      this.writing = null;
    }
    this.version = doc.version;
    this.flushed = next;
    return 'ok';
  }
}

export { Tally };
