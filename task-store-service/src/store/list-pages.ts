/**
 * tasks.list: newest first, keyset-paginated on (createdAt, _id), at a cost that does not grow
 * with the number of stored tasks (docs/list-pages.md). A page walks the bucket tree newest
 * first and reads each bucket with one flat query whose equalities (bucket, status, type) FerretDB
 * serves from its indexes; it stops as soon as the page is full. A filter that has walked many
 * buckets without filling its page and matches few tasks in all is read in one query instead.
 */
import type { ListParams, TaskDetailField } from '@tasks/contracts';
import type { Filter, FindOptions } from 'mongodb';
import type { Collections } from './collections.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { SummaryDoc, TaskDoc } from './documents.js';
import { BUCKET_MS } from './list-buckets.js';
import { listFilter } from './task-queries.js';

/** Buckets a filtered page walks before it asks whether its filter matches few tasks in all. */
export const PROBE_AFTER_BUCKETS = 32;
/** A filter matching at most this many tasks is read (and sorted by the server) in one query. */
export const SMALL_FILTER = 100;
/** Buckets read at once, at most: the first round reads one, each next round twice as many. */
export const MAX_BUCKETS_IN_FLIGHT = 8;

const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

/** What a list item leaves out unless asked: the large parts of a task. */
export function summaryProjection(fields: readonly TaskDetailField[] = []): FindOptions['projection'] {
  const omit: Record<string, 0> = {};
  if (!fields.includes('payload')) omit.payloadJson = 0;
  if (!fields.includes('result')) omit.resultJson = 0;
  if (!fields.includes('history')) omit.history = 0;
  return Object.keys(omit).length > 0 ? omit : undefined;
}

/** One bucket's part of a page: the page's filter, the bucket's equality, and its time range (which MongoDB's list indexes bound). */
export function bucketFilter(p: ListParams, bucket: number): Filter<TaskDoc> {
  const filter = listFilter(p);
  const range = (filter.createdAt ?? {}) as { $gt?: Date; $lt?: Date };
  const end = new Date(bucket + BUCKET_MS);
  return {
    ...filter,
    bucket,
    createdAt: {
      ...range,
      $gte: new Date(bucket),
      $lt: range.$lt && range.$lt < end ? range.$lt : end,
    },
  };
}

export interface ListPage {
  docs: SummaryDoc[];
  nextCursor: string | null;
}

export async function listTasks(c: Collections, p: ListParams): Promise<ListPage> {
  const limit = p.limit ?? 50;
  const options: FindOptions = { projection: summaryProjection(p.fields) };
  const docs =
    (await walkBuckets(c, p, limit + 1, options)) ??
    // A rare filter: all its tasks are read at once instead of walking every bucket to find them.
    (await c.tasks
      .find(listFilter(p), options)
      .sort(NEWEST_FIRST)
      .limit(limit + 1)
      .toArray());
  const more = docs.length > limit;
  const page = more ? docs.slice(0, limit) : docs;
  const last = page.at(-1);
  return {
    docs: page,
    nextCursor: more && last ? encodeCursor({ createdAt: last.createdAt, id: last._id }) : null,
  };
}

/** Whether status/type alone match at most SMALL_FILTER tasks: a bounded read of ids by equality. */
async function matchesFew(c: Collections, p: ListParams): Promise<boolean> {
  const equalities: Filter<TaskDoc> = {};
  if (p.status) equalities.status = p.status;
  if (p.type) equalities.type = p.type;
  const ids = await c.tasks
    .find(equalities, { projection: { _id: 1 } })
    .limit(SMALL_FILTER + 1)
    .toArray();
  return ids.length <= SMALL_FILTER;
}

/**
 * Reads buckets newest first, in rounds of 1, 2, 4 … buckets at once, until `wanted` tasks are
 * found or the buckets run out. Undefined when a filtered walk has read PROBE_AFTER_BUCKETS
 * buckets without filling the page and the filter turns out to match few tasks in all.
 */
async function walkBuckets(
  c: Collections,
  p: ListParams,
  wanted: number,
  options: FindOptions,
): Promise<SummaryDoc[] | undefined> {
  let hi = p.createdBefore ? Date.parse(p.createdBefore) - 1 : Infinity;
  if (p.cursor) hi = Math.min(hi, decodeCursor(p.cursor).createdAt.getTime());
  const lo = p.createdAfter ? Date.parse(p.createdAfter) + 1 : -Infinity;
  const filtered = p.status !== undefined || p.type !== undefined;
  const buckets = c.buckets.bucketsDescending(hi, lo);
  const found: SummaryDoc[] = [];
  let read = 0;
  let probed = false;
  for (let width = 1; found.length < wanted; width = Math.min(width * 2, MAX_BUCKETS_IN_FLIGHT)) {
    if (filtered && !probed && read >= PROBE_AFTER_BUCKETS) {
      probed = true;
      if (await matchesFew(c, p)) return undefined;
    }
    const round: number[] = [];
    for (let i = 0; i < width; i++) {
      const next = await buckets.next();
      if (next.done) break;
      round.push(next.value);
    }
    if (round.length === 0) break;
    read += round.length;
    const need = wanted - found.length;
    const parts = await Promise.all(
      round.map((bucket) =>
        c.tasks.find(bucketFilter(p, bucket), options).sort(NEWEST_FIRST).limit(need).toArray(),
      ),
    );
    for (const part of parts) found.push(...part);
  }
  return found.slice(0, wanted);
}
