/**
 * Publication bookkeeping. Each time a task (re)enters `queued`, an outbox entry for that
 * version is written before the task itself; the publisher deletes it once the broker has
 * confirmed. Entries that outlive `olderThanMs` are what the dispatcher publishes again.
 */
import { mapBounded } from './bounded-map.js';
import type { Collections } from './collections.js';
import type { TaskDoc } from './documents.js';

/**
 * An entry ahead of its task (the task never appeared, or its write is still pending behind a
 * fence that may yet be rolled forward) is dropped only after fences themselves are swept.
 */
const ORPHAN_GRACE_MS = 15 * 60_000;

export async function markPublished(
  collections: Collections,
  tasks: { id: string; version: number }[],
): Promise<number> {
  const r = await collections.outbox.deleteMany({ _id: { $in: tasks.map((t) => `${t.id}:${t.version}`) } });
  return r.deletedCount;
}

/** Pages examined per call at most, so that a long run of entries ahead of their tasks is bounded work. */
const MAX_PAGES = 10;
/** Per-id reads and deletes in flight per call: well under the store's pool (MONGO_POOL_SIZE, 20). */
const LOOKUPS_IN_FLIGHT = 8;

/**
 * Queued tasks whose outbox entry is older than `olderThanMs`, oldest first. Entries whose
 * version has moved on are deleted on the way; entries ahead of their task are passed over, not
 * returned, and must not fill the page: a run of them (say, from a createMany that failed after
 * writing its outbox entries) would otherwise hide every real entry behind it until the grace ends.
 */
export async function listUnpublished(
  collections: Collections,
  olderThanMs: number,
  limit: number,
): Promise<TaskDoc[]> {
  const now = Date.now();
  const pending: TaskDoc[] = [];
  const returned = new Set<string>(); // a page boundary moved by concurrent writes must not repeat a task
  let passedOver = 0; // entries left in place and already seen: skipped on the next page
  for (let page = 0; page < MAX_PAGES && pending.length < limit; page++) {
    const entries = await collections.outbox
      .find({ at: { $lte: new Date(now - olderThanMs) } })
      .sort({ at: 1, _id: 1 })
      .skip(passedOver + pending.length)
      .limit(limit)
      .toArray();
    if (entries.length === 0) break;
    // One findOne by _id each, not one $in: FerretDB pushes only the equality down to its index.
    const docs = await mapBounded(entries, LOOKUPS_IN_FLIGHT, (e) =>
      collections.tasks.findOne({ _id: e.taskId }),
    );
    const byId = new Map(docs.flatMap((d) => (d ? [[d._id, d] as const] : [])));
    const stale: string[] = [];
    for (const e of entries) {
      const doc = byId.get(e.taskId);
      if (doc && doc.version === e.version && doc.status === 'queued') {
        if (pending.length < limit && !returned.has(doc._id)) {
          returned.add(doc._id);
          pending.push(doc);
        }
      } else if ((doc && doc.version >= e.version) || now - e.at.getTime() > ORPHAN_GRACE_MS) {
        stale.push(e._id);
      } else {
        passedOver++;
      }
    }
    // Entries whose version has moved on (claimed, cancelled) need no publication any more.
    await mapBounded(stale, LOOKUPS_IN_FLIGHT, (id) => collections.outbox.deleteOne({ _id: id }));
    if (entries.length < limit) break;
  }
  return pending;
}
