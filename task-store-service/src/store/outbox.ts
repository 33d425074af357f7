/**
 * Publication bookkeeping. Each time a task (re)enters `queued`, an outbox entry for that
 * version is written before the task itself; the publisher deletes it once the broker has
 * confirmed. Entries that outlive `olderThanMs` are what the dispatcher publishes again.
 */
import type { Collections } from './collections.js';
import type { TaskDoc } from './documents.js';

/**
 * An entry ahead of its task (the task never appeared, or its write is still pending behind a
 * fence that may yet be rolled forward) is dropped only after fences themselves are swept.
 */
const ORPHAN_GRACE_MS = 15 * 60_000;

export async function markPublished(
  c: Collections,
  tasks: { id: string; version: number }[],
): Promise<number> {
  const r = await c.outbox.deleteMany({ _id: { $in: tasks.map((t) => `${t.id}:${t.version}`) } });
  return r.deletedCount;
}

export async function listUnpublished(
  c: Collections,
  olderThanMs: number,
  limit: number,
): Promise<TaskDoc[]> {
  const now = Date.now();
  const entries = await c.outbox
    .find({ at: { $lte: new Date(now - olderThanMs) } })
    .sort({ at: 1 })
    .limit(limit)
    .toArray();
  if (entries.length === 0) return [];
  const docs = await c.tasks.find({ _id: { $in: entries.map((e) => e.taskId) } }).toArray();
  const byId = new Map(docs.map((d) => [d._id, d]));
  const pending: TaskDoc[] = [];
  const stale: string[] = [];
  for (const e of entries) {
    const doc = byId.get(e.taskId);
    if (doc && doc.version === e.version && doc.status === 'queued') pending.push(doc);
    else if ((doc && doc.version >= e.version) || now - e.at.getTime() > ORPHAN_GRACE_MS) stale.push(e._id);
  }
  // Entries whose version has moved on (claimed, cancelled) need no publication any more.
  if (stale.length > 0) await c.outbox.deleteMany({ _id: { $in: stale } });
  return pending;
}
