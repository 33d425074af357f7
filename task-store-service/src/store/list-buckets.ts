/**
 * Time buckets of list pages (docs/list-pages.md): every task carries `bucket`, its createdAt
 * floored to BUCKET_MS, which FerretDB can filter by equality through an index; the bucket tree
 * (month → day → hour → bucket, in `task_buckets`) says which buckets hold tasks at all. Pure
 * arithmetic, no I/O: all times are epoch milliseconds, all boundaries UTC.
 */

/** Width of one bucket. A page walks whole buckets: wide enough that few are read per page, narrow enough that one is small. */
export const BUCKET_MS = 10_000;
export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export type BucketLevel = 'month' | 'day' | 'hour' | 'bucket';
export const BUCKET_LEVELS: readonly BucketLevel[] = ['month', 'day', 'hour', 'bucket'];

/** The key a task created at `ms` is listed under. */
export function bucketOf(ms: number): number {
  return Math.floor(ms / BUCKET_MS) * BUCKET_MS;
}

/** The coarser key a task created at `ms` is also listed under: its createdAt floored to the hour (UTC). */
export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** Buckets in one hour: how many rows a whole-hour read holds, per matching task per bucket. */
export const BUCKETS_PER_HOUR = HOUR_MS / BUCKET_MS;

/** Where the period of `level` that contains `ms` starts. */
export function periodStart(level: BucketLevel, ms: number): number {
  switch (level) {
    case 'bucket':
      return bucketOf(ms);
    case 'hour':
      return hourOf(ms);
    case 'day':
      return Math.floor(ms / DAY_MS) * DAY_MS;
    case 'month': {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
  }
}

/** The tree node of one period: `h:<start>`; the root (the parent of months) is `root`. */
export function nodeId(level: BucketLevel, start: number): string {
  return `${level[0]}:${start}`;
}

export const ROOT = 'root';

/** The ids of the nodes a task created at `ms` needs, from the month down to its bucket, each with its parent. */
export function pathOf(ms: number): { _id: string; parent: string; level: BucketLevel; start: number }[] {
  let parent = ROOT;
  return BUCKET_LEVELS.map((level) => {
    const start = periodStart(level, ms);
    const node = { _id: nodeId(level, start), parent, level, start };
    parent = node._id;
    return node;
  });
}

/** The level below `level` (undefined below buckets). */
export function childLevel(level: BucketLevel | 'root'): BucketLevel | undefined {
  if (level === 'root') return 'month';
  return BUCKET_LEVELS[BUCKET_LEVELS.indexOf(level) + 1];
}

/** Every tree node that tasks created at these times need, once each, parents before children. */
export function nodesOf(times: Iterable<number>): ReturnType<typeof pathOf> {
  const nodes = new Map<string, ReturnType<typeof pathOf>[number]>();
  for (const time of times) for (const node of pathOf(time)) nodes.set(node._id, node);
  return [...nodes.values()];
}
