/**
 * The task documents this process wrote last, so that the next change of the same task (the
 * claim after a create, the complete after a claim) can skip reading it back from MongoDB.
 *
 * It is only a guess about the current document, never the authority: applyChange still takes
 * the fence `<id>:<version>` and writes conditionally on that version, so a stale entry costs one
 * refused fence and a normal read. Two rules make a taken fence prove the entry is current:
 * - every write of a task goes through applyChange (or creation) and raises its version, so one
 *   version always has the same content;
 * - entries live for less than fences are kept (FENCE_RETENTION_MS): if the task moved past the
 *   remembered version meanwhile, that version's fence still exists and the insert is refused.
 */
import { TERMINAL_STATUSES } from '@tasks/contracts';
import { LRUCache } from 'lru-cache';
import { FENCE_RETENTION_MS, type TaskDoc } from './documents.js';

export interface RecentTasksOptions {
  /** Most documents kept (default 20,000). */
  maxEntries?: number;
  /** Approximate bytes kept, counted from the payload and result text (default 64 MiB). */
  maxBytes?: number;
  /** How long an entry may be used; capped well below FENCE_RETENTION_MS (default 60 s). */
  ttlMs?: number;
}

const OVERHEAD_BYTES = 1_024; // history, dates and ids of one document, roughly
const MAX_ENTRY_BYTES = 256 * 1_024; // bigger documents are read back instead

export class RecentTasks {
  private readonly cache: LRUCache<string, TaskDoc>;

  constructor(options: RecentTasksOptions = {}) {
    this.cache = new LRUCache<string, TaskDoc>({
      max: options.maxEntries ?? 20_000,
      maxSize: options.maxBytes ?? 64 * 1_024 * 1_024,
      maxEntrySize: MAX_ENTRY_BYTES,
      sizeCalculation: (doc) => OVERHEAD_BYTES + doc.payloadJson.length + (doc.resultJson?.length ?? 0),
      ttl: Math.min(options.ttlMs ?? 60_000, FENCE_RETENTION_MS / 5),
    });
  }

  /** The last version this process wrote, if it is recent enough to try. */
  recall(id: string): TaskDoc | undefined {
    return this.cache.get(id);
  }

  /** Keeps a version this process has just written. Finished tasks rarely change again: dropped. */
  remember(doc: TaskDoc): void {
    if (TERMINAL_STATUSES.includes(doc.status)) {
      this.cache.delete(doc._id);
      return;
    }
    const known = this.cache.peek(doc._id);
    if (known && known.version >= doc.version) return;
    this.cache.set(doc._id, doc);
  }

  forget(id: string): void {
    this.cache.delete(id);
  }

  get size(): number {
    return this.cache.size;
  }
}
