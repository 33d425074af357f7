/**
 * What changed lately, for event streams that resume (docs/events.md): every task write stamps
 * `changedBucket` (its updatedAt floored to BUCKET_MS, 10 s), which FerretDB filters by equality
 * through an index; a replay reads the buckets from the client's last event to now, one equality
 * query each, oldest first, and keeps what changed after that event. Each task appears once, at
 * its latest version.
 */
import { statusEvent, type StatusEvent, type TaskStatus } from '@tasks/contracts';
import type { Filter } from 'mongodb';
import { mapBounded } from './bounded-map.js';
import type { Collections } from './collections.js';
import { toSummary, type SummaryDoc, type TaskDoc } from './documents.js';
import { BUCKET_MS, bucketOf } from './list-buckets.js';

/** How far back a replay may reach: older positions are answered `complete: false`. */
export const REPLAY_WINDOW_MS = 10 * 60_000;

/** Bucket queries in flight at once. */
const IN_FLIGHT = 4;

export interface ChangesParams {
  /** Changes at or after this instant (a client's last event time). */
  since: Date;
  /** Changes the client already has (`taskId:version`): skipped. */
  seen?: ReadonlySet<string>;
  limit: number;
  type?: string;
  status?: TaskStatus;
}

/**
 * The latest status of every task changed at or after `since`, oldest change first. `complete`
 * is false when `since` is outside REPLAY_WINDOW_MS or more than `limit` tasks changed: the
 * client must then reload its view instead of relying on the replay.
 */
export async function changedSince(
  collections: Collections,
  p: ChangesParams,
  now = Date.now(),
): Promise<{ items: StatusEvent[]; complete: boolean }> {
  const since = p.since.getTime();
  if (now - since > REPLAY_WINDOW_MS) return { items: [], complete: false };
  const buckets: number[] = [];
  for (let b = bucketOf(since); b <= bucketOf(now); b += BUCKET_MS) buckets.push(b);
  const projection = { payloadJson: 0, resultJson: 0, history: 0 } as const;
  const changed: SummaryDoc[] = [];
  for (let i = 0; i < buckets.length; i += IN_FLIGHT) {
    const pages = await mapBounded(buckets.slice(i, i + IN_FLIGHT), IN_FLIGHT, (b) => {
      // Flat equalities only: FerretDB pushes each of them down to its index.
      const filter: Filter<TaskDoc> = { changedBucket: b };
      if (p.type) filter.type = p.type;
      if (p.status) filter.status = p.status;
      return collections.tasks.find(filter, { projection }).toArray();
    });
    for (const d of pages.flat()) {
      if (d.updatedAt.getTime() >= since && !p.seen?.has(`${d._id}:${d.version}`)) changed.push(d);
    }
    if (changed.length > p.limit) return { items: [], complete: false };
  }
  // A task rewritten while the buckets were read may appear twice: its latest version stays.
  const latest = new Map<string, SummaryDoc>();
  for (const d of changed) if ((latest.get(d._id)?.version ?? 0) < d.version) latest.set(d._id, d);
  const items = [...latest.values()].sort(
    (a, b) => a.updatedAt.getTime() - b.updatedAt.getTime() || (a._id < b._id ? -1 : 1),
  );
  return { items: items.map((d) => statusEvent(toSummary(d))), complete: true };
}
