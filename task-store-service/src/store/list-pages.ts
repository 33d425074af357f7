/**
 * tasks.list: newest first, keyset-paginated on (createdAt, _id), at a cost that does not grow
 * with the number of stored tasks (docs/list-pages.md). A page walks the bucket tree newest
 * first and reads each bucket with one flat query whose equalities (bucket, status, type, a label) FerretDB
 * serves from its indexes; it stops as soon as the page is full. A filtered page that finds its
 * tasks sparse reads whole hours instead (the `hour` key), one query each; a filter that has read
 * many buckets or hours without filling its page and matches few tasks in all is read in one
 * query instead.
 */
import type { ListParams, TaskDetailField } from '@tasks/contracts';
import type { Filter, FindOptions } from 'mongodb';
import type { Collections } from './collections.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { SummaryDoc, TaskDoc } from './documents.js';
import { BUCKET_MS, BUCKETS_PER_HOUR, HOUR_MS, hourOf } from './list-buckets.js';
import { compareKeys, mergeSlots, newestFirst, spansOf, type ListKey } from './list-slot-merge.js';
import { SLOT_SIZE } from './list-slots.js';
import { hourLabelFilter, labelFilter } from './task-labels.js';
import { listFilter, listLabels } from './task-queries.js';

/** Queries (buckets or hours) a filtered page makes before it asks whether its filter matches few tasks in all. */
export const PROBE_AFTER_QUERIES = 32;
/** Buckets a filtered page reads before it judges from what it found whether to read whole hours. */
export const JUDGE_AFTER_BUCKETS = 7;
/**
 * A filtered page reads whole hours when, at the density it found, an hour holds at most this
 * many of its tasks; an hour read returns them all (FerretDB sorts nothing for it: the store
 * does), and one that turns out to hold more is read bucket by bucket instead.
 */
export const HOUR_ROWS = 250;
/** A filter matching at most this many tasks is read (and sorted by the server) in one query. */
export const SMALL_FILTER = 100;
/** Buckets read at once, at most: the first round reads one, each next round twice as many. */
export const MAX_BUCKETS_IN_FLIGHT = 8;
/** A bucket with at most this many list slots is read in one query; one with more, slot by slot. */
export const READ_WHOLE_SLOTS = 2;

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
  return periodFilter(p, 'bucket', bucket, bucket, bucket + BUCKET_MS);
}

/** The page's filter within [from, to) of one period, `key` its equality (the period's start). */
export function periodFilter(
  p: ListParams,
  key: 'bucket' | 'hour',
  start: number,
  from: number,
  to: number,
): Filter<TaskDoc> {
  // The labels scoped to the period's hour (task-labels.ts): index entries of one hour, not of history.
  const filter = listFilter(p);
  delete filter.labels;
  delete filter.$and;
  Object.assign(filter, hourLabelFilter(hourOf(start), listLabels(p)));
  const range = (filter.createdAt ?? {}) as { $gt?: Date; $lt?: Date };
  const end = new Date(to);
  return {
    ...filter,
    [key]: start,
    createdAt: {
      ...range,
      $gte: new Date(from),
      $lt: range.$lt && range.$lt < end ? range.$lt : end,
    },
  };
}

export interface ListPage {
  docs: SummaryDoc[];
  nextCursor: string | null;
}

export async function listTasks(collections: Collections, p: ListParams): Promise<ListPage> {
  const limit = p.limit ?? 50;
  const options: FindOptions = { projection: summaryProjection(p.fields) };
  const docs =
    (await walkBuckets(collections, p, limit + 1, options)) ??
    // A rare filter: all its tasks are read at once instead of walking every bucket to find them.
    (await collections.tasks
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

/** Whether status/type/labels alone match at most SMALL_FILTER tasks: a bounded read of ids by equality. */
async function matchesFew(collections: Collections, p: ListParams): Promise<boolean> {
  const equalities: Filter<TaskDoc> = labelFilter(listLabels(p));
  if (p.status) equalities.status = p.status;
  if (p.type) equalities.type = p.type;
  const ids = await collections.tasks
    .find(equalities, { projection: { _id: 1 } })
    .limit(SMALL_FILTER + 1)
    .toArray();
  return ids.length <= SMALL_FILTER;
}

/**
 * Reads buckets newest first, in rounds of 1, 2, 4 … buckets at once, until `wanted` tasks are
 * found or the buckets run out. A filtered walk that, after JUDGE_AFTER_BUCKETS buckets, finds
 * its tasks sparse enough reads the rest of that hour and the older hours whole. Undefined when a
 * filtered walk has made PROBE_AFTER_QUERIES queries without filling the page and the filter
 * turns out to match few tasks in all.
 */
async function walkBuckets(
  collections: Collections,
  p: ListParams,
  wanted: number,
  options: FindOptions,
): Promise<SummaryDoc[] | undefined> {
  let hi = p.createdBefore ? Date.parse(p.createdBefore) - 1 : Infinity;
  if (p.cursor) hi = Math.min(hi, decodeCursor(p.cursor).createdAt.getTime());
  const lo = p.createdAfter ? Date.parse(p.createdAfter) + 1 : -Infinity;
  const filtered = p.status !== undefined || p.type !== undefined || listLabels(p).length > 0;
  const walk = new Walk(collections, p, wanted, options, filtered);

  let oldest = Infinity;
  const sparse = () =>
    filtered &&
    walk.bucketsRead >= JUDGE_AFTER_BUCKETS &&
    (walk.found.length / walk.bucketsRead) * BUCKETS_PER_HOUR <= HOUR_ROWS;
  const ended = await walk.bucketRounds(
    collections.buckets.bucketsDescending(hi, lo),
    sparse,
    (b) => (oldest = b),
  );
  if (ended === 'rare') return undefined;
  if (ended !== 'stopped') return walk.page();

  // Sparse: the rest of the hour of the oldest bucket read, then each older hour, one query each.
  const first = hourOf(oldest);
  if (oldest > first && (await walk.hour(first, oldest)) === 'rare') return undefined;
  for await (const hour of collections.buckets.hoursDescending(first - 1, lo)) {
    if (walk.full()) break;
    if ((await walk.hour(hour, hour + HOUR_MS)) === 'rare') return undefined;
  }
  return walk.page();
}

/** One page's walk: what it found, and how many queries and buckets it took. */
class Walk {
  readonly found: SummaryDoc[] = [];
  bucketsRead = 0;
  private queries = 0;
  private probed = false;
  /** The page holds only tasks below this list key (its cursor, or createdBefore). */
  private readonly upper: ListKey | undefined;

  constructor(
    private readonly collections: Collections,
    private readonly p: ListParams,
    private readonly wanted: number,
    private readonly options: FindOptions,
    private readonly filtered: boolean,
  ) {
    const keys: ListKey[] = [];
    if (p.cursor) {
      const cur = decodeCursor(p.cursor);
      keys.push([cur.createdAt.getTime(), cur.id]);
    }
    if (p.createdBefore) keys.push([Date.parse(p.createdBefore), '']);
    this.upper = keys.sort(compareKeys)[0];
  }

  full(): boolean {
    return this.found.length >= this.wanted;
  }

  page(): SummaryDoc[] {
    return this.found.slice(0, this.wanted);
  }

  /** True once, when the walk has made many queries and the filter matches few tasks in all. */
  private async rare(): Promise<boolean> {
    if (!this.filtered || this.probed || this.queries < PROBE_AFTER_QUERIES) return false;
    this.probed = true;
    return matchesFew(this.collections, this.p);
  }

  /**
   * Reads `buckets` in rounds of 1, 2, 4, then MAX_BUCKETS_IN_FLIGHT at once, until the page is
   * full ('full'), the buckets run out ('exhausted'), `stop()` says so after a round ('stopped'),
   * or the filter turns out rare ('rare'). `onRound` gets the oldest bucket of each round.
   */
  async bucketRounds(
    buckets: AsyncGenerator<number>,
    stop: () => boolean,
    onRound: (oldest: number) => void = () => {},
  ): Promise<'full' | 'exhausted' | 'stopped' | 'rare'> {
    for (let width = 1; ; width = Math.min(width * 2, MAX_BUCKETS_IN_FLIGHT)) {
      if (this.full()) return 'full';
      if (stop()) return 'stopped';
      if (await this.rare()) return 'rare';
      const round: number[] = [];
      for (let i = 0; i < width; i++) {
        const next = await buckets.next();
        if (next.done) break;
        round.push(next.value);
      }
      if (round.length === 0) return 'exhausted';
      this.bucketsRead += round.length;
      this.queries += round.length;
      const need = this.wanted - this.found.length;
      const parts = await Promise.all(round.map((bucket) => this.bucket(bucket, need)));
      for (const part of parts) this.found.push(...part);
      onRound(round.at(-1)!);
    }
  }

  /** The `need` newest of the page's tasks in one bucket: one query, or slot by slot when the bucket is crowded. */
  private async bucket(bucket: number, need: number): Promise<SummaryDoc[]> {
    const filter = bucketFilter(this.p, bucket);
    const slots = await this.collections.buckets.slotsOf(bucket);
    if (slots.length <= READ_WHOLE_SLOTS) return this.sorted(filter, need);
    this.queries++;
    if (this.filtered) {
      // A bounded unsorted read first (FerretDB stops at the limit): when the filter matches
      // at most a slot's worth of the bucket, that is all of them, in one query.
      this.queries++;
      const rows = await this.collections.tasks
        .find(filter, this.options)
        .limit(SLOT_SIZE + 1)
        .toArray();
      if (rows.length <= SLOT_SIZE) return rows.sort(newestFirst).slice(0, need);
    }
    return mergeSlots(spansOf(slots, this.upper), need, (listSlot) => {
      this.queries++;
      return this.sorted({ ...filter, listSlot }, need);
    });
  }

  /** One query sorted newest first by the server: the whole of what `filter` matches is read. */
  private sorted(filter: Filter<TaskDoc>, need: number): Promise<SummaryDoc[]> {
    return this.collections.tasks.find(filter, this.options).sort(NEWEST_FIRST).limit(need).toArray();
  }

  /**
   * The page's tasks created in [hour, to) of one hour: one query, unsorted and bounded to
   * HOUR_ROWS + 1 rows (FerretDB stops reading there), sorted here. An hour holding more is read
   * bucket by bucket instead.
   */
  async hour(hour: number, to: number): Promise<'read' | 'rare'> {
    if (await this.rare()) return 'rare';
    this.queries++;
    const rows = await this.collections.tasks
      .find(periodFilter(this.p, 'hour', hour, hour, to), this.options)
      .limit(HOUR_ROWS + 1)
      .toArray();
    if (rows.length <= HOUR_ROWS) {
      this.found.push(...rows.sort(newestFirst));
      return 'read';
    }
    const lo = this.p.createdAfter ? Math.max(hour, Date.parse(this.p.createdAfter) + 1) : hour;
    const ended = await this.bucketRounds(
      this.collections.buckets.bucketsDescending(to - 1, lo),
      () => false,
    );
    return ended === 'rare' ? 'rare' : 'read';
  }
}
