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
import { SlotClock, type SlotNodeDoc } from './list-slots.js';

export interface BucketNodeDoc {
  _id: string;
  /** The parent node's `_id` (`root` for months): the one field children are looked up by. */
  parent: string;
  /** A period's level, or `slot` for a list slot (list-slots.ts, a SlotNodeDoc under its bucket). */
  level: BucketLevel | 'slot';
  /** Epoch ms where the period starts. */
  start: number;
}

/** Nodes this process knows exist; cleared when it grows past this (a month of buckets is 267,840). */
const MAX_KNOWN = 20_000;

export class BucketTree {
  private readonly known = new Set<string>();
  /** This process's chain of list slots: the keys of the tasks it creates (list-slots.ts). */
  readonly clock = new SlotClock();
  private readonly slotNodes: Collection<SlotNodeDoc>;

  constructor(readonly nodes: Collection<BucketNodeDoc>) {
    this.slotNodes = nodes as unknown as Collection<SlotNodeDoc>;
  }

  /**
   * Makes sure the nodes that tasks created at these times need exist, and then their list slots
   * (under their buckets). Costs nothing while the current bucket and slot are known to this
   * process: one insert per new bucket (every 10 s at most) and per SLOT_SIZE tasks, a few more
   * when an hour, a day or a month starts.
   */
  async record(times: readonly number[], slots: readonly SlotNodeDoc[] = []): Promise<void> {
    for (const time of new Set(times)) {
      for (const node of pathOf(time)) await this.insertOnce(this.nodes, node);
    }
    for (const slot of slots) await this.insertOnce(this.slotNodes, slot);
  }

  private async insertOnce<T extends { _id: string }>(into: Collection<T>, node: T): Promise<void> {
    if (this.known.has(node._id)) return;
    await into.insertOne(node as Parameters<Collection<T>['insertOne']>[0]).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
    if (this.known.size >= MAX_KNOWN) this.known.clear();
    this.known.add(node._id);
  }

  /** The list slots of one bucket (none for a bucket whose tasks were all created before slots existed). */
  async slotsOf(bucket: number): Promise<SlotNodeDoc[]> {
    return this.slotNodes.find({ parent: nodeId('bucket', bucket) }).toArray();
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

  /**
   * The hour the oldest task was created in (null when no task was ever created): one equality
   * query per level, months to hours, whatever the number of tasks. Every task's node exists
   * (nodes are inserted before their tasks, and the start-up backfill gives older tasks theirs).
   */
  async oldestHour(): Promise<number | null> {
    for await (const hour of this.descend(ROOT, 'root', 'hour', Infinity, -Infinity, 'oldest first'))
      return hour;
    return null;
  }

  private async *descend(
    parent: string,
    level: BucketLevel | 'root',
    target: BucketLevel,
    hi: number,
    lo: number,
    order: 'newest first' | 'oldest first' = 'newest first',
  ): AsyncGenerator<number> {
    const child = childLevel(level);
    if (!child) return;
    // Within this period, children that start after hi or whose period ends before lo are skipped.
    const first = Number.isFinite(lo) ? periodStart(child, lo) : -Infinity;
    const starts = (await this.nodes.find({ parent }, { projection: { start: 1 } }).toArray())
      .map((n) => n.start)
      .filter((s) => s <= hi && s >= first)
      .sort((a, b) => (order === 'newest first' ? b - a : a - b));
    for (const start of starts) {
      if (child === target) yield start;
      else yield* this.descend(nodeId(child, start), child, target, hi, lo, order);
    }
  }
}
