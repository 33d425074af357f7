/**
 * The bucket tree (docs/list-pages.md): one small document per month, day, hour and 10-s bucket
 * that holds at least one task, so that a list page visits only buckets that exist. Nodes are
 * immutable and inserted with a unique `_id` (atomic on MongoDB and FerretDB alike), parents
 * before children and all before the tasks they hold: a reader that finds a task by its bucket
 * can always find the bucket by walking down from the root.
 */
import type { Collection } from 'mongodb';
import { isDuplicateKey } from '../app-error.js';
import { childLevel, nodeId, pathOf, periodStart, ROOT, type BucketLevel } from './list-buckets.js';

export interface BucketNodeDoc {
  _id: string;
  /** The parent node's `_id` (`root` for months): the one field children are looked up by. */
  parent: string;
  level: BucketLevel;
  /** Epoch ms where the period starts. */
  start: number;
}

/** Nodes this process knows exist; cleared when it grows past this (a month of buckets is 267,840). */
const MAX_KNOWN = 20_000;

export class BucketTree {
  private readonly known = new Set<string>();

  constructor(readonly nodes: Collection<BucketNodeDoc>) {}

  /**
   * Makes sure the nodes that tasks created at these times need exist. Costs nothing while the
   * current bucket is known to this process: one insert per new bucket (every 10 s at most), a
   * few more when an hour, a day or a month starts.
   */
  async record(times: readonly number[]): Promise<void> {
    for (const time of new Set(times)) {
      for (const node of pathOf(time)) {
        if (this.known.has(node._id)) continue;
        await this.nodes.insertOne(node).catch((err: unknown) => {
          if (!isDuplicateKey(err)) throw err;
        });
        if (this.known.size >= MAX_KNOWN) this.known.clear();
        this.known.add(node._id);
      }
    }
  }

  /**
   * The buckets holding tasks created in [lo, hi], newest first, read level by level as the
   * caller pulls: one equality query per month, day and hour entered, none for empty periods.
   */
  bucketsDescending(hi: number, lo: number): AsyncGenerator<number> {
    return this.descend(ROOT, 'root', 'bucket', hi, lo);
  }

  /** The hours holding tasks created in [lo, hi], newest first, as bucketsDescending but a level higher. */
  hoursDescending(hi: number, lo: number): AsyncGenerator<number> {
    return this.descend(ROOT, 'root', 'hour', hi, lo);
  }

  private async *descend(
    parent: string,
    level: BucketLevel | 'root',
    target: BucketLevel,
    hi: number,
    lo: number,
  ): AsyncGenerator<number> {
    const child = childLevel(level);
    if (!child) return;
    // Within this period, children that start after hi or whose period ends before lo are skipped.
    const first = Number.isFinite(lo) ? periodStart(child, lo) : -Infinity;
    const starts = (await this.nodes.find({ parent }, { projection: { start: 1 } }).toArray())
      .map((n) => n.start)
      .filter((s) => s <= hi && s >= first)
      .sort((a, b) => b - a);
    for (const start of starts) {
      if (child === target) yield start;
      else yield* this.descend(nodeId(child, start), child, target, hi, lo);
    }
  }
}
