/**
 * List slots (docs/list-pages.md, "Crowded buckets"): the keys a store process gives the tasks it
 * creates (`listSlot`; not the concurrency slots of flow control), so that a list page can read a bucket crowded by batches a slot at a time instead of
 * whole. Pure bookkeeping, no I/O.
 *
 * Each store process is a chain (a random name). It hands out (createdAt, id) in increasing list
 * order: createdAt never goes back (the clock is held at the last time handed out; a clock that
 * steps back more than CLOCK_STEP_BACK_MS starts a new chain instead) and ids
 * handed out in one millisecond increase (a UUIDv7 whose counter bits grow). Every SLOT_SIZE tasks,
 * and whenever the bucket changes, it opens a new slot: `s:<chain>:<seq>`, a tree node under its
 * bucket that records the first key it holds. So a slot's tasks lie between its first key and
 * the first key of the chain's next slot, and a reader can merge the slots of several chains.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { bucketOf, nodeId } from './list-buckets.js';

/** Tasks per slot: a slot is read whole (FerretDB sorts it in Go, about half a millisecond a row). */
export const SLOT_SIZE = 100;
/** The slot of tasks created outside a chain (flow nodes, whose ids are derived, and a repeat that finishes an earlier call's task). */
export const LOOSE_SLOT = 'loose';

export interface SlotNodeDoc {
  _id: string;
  /** The bucket node's `_id`. */
  parent: string;
  level: 'slot';
  /** createdAt (epoch ms) of the slot's first task. */
  start: number;
  /** _id of the slot's first task: with `start`, the smallest list key the slot holds. */
  firstId: string;
  chain: string;
  seq: number;
}

export interface TaskKey {
  id: string;
  listSlot: string;
}

export interface Keys {
  /** createdAt of every task of the call. */
  now: Date;
  keys: TaskKey[];
  /** The slots the keys fall in: recorded before the tasks are written. */
  nodes: SlotNodeDoc[];
}

/** Counter values per millisecond: 42 bits, started at a random point in the lower half. */
const COUNTER_START_RANGE = 2 ** 41;

/**
 * How far the system clock may step back before the chain is given up for a new one: a small step
 * (NTP) is absorbed by holding createdAt still; a large one would hold it still for as long.
 */
export const CLOCK_STEP_BACK_MS = 1_000;

export class SlotClock {
  private current = newChain();
  private lastMs = 0;
  private counter = 0;
  private seq = 0;
  private slot: SlotNodeDoc | undefined;
  private inSlot = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /** This process's chain: the name its slots carry. */
  get chain(): string {
    return this.current;
  }

  /** Keys for `count` tasks created together (one call), all at the same createdAt. */
  next(count: number): Keys {
    const now = this.clock();
    if (now < this.lastMs - CLOCK_STEP_BACK_MS) {
      // Keys below the chain's last one would break its order: a new chain, which starts afresh.
      this.current = newChain();
      this.lastMs = 0;
      this.seq = 0;
      this.slot = undefined;
    }
    const ms = Math.max(now, this.lastMs);
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.counter = randomInt(COUNTER_START_RANGE);
    }
    const keys: TaskKey[] = [];
    const nodes: SlotNodeDoc[] = [];
    for (let i = 0; i < count; i++) {
      const id = uuidV7(ms, this.counter++);
      if (!this.slot || this.inSlot >= SLOT_SIZE || this.slot.parent !== nodeId('bucket', bucketOf(ms))) {
        this.seq++;
        this.inSlot = 0;
        this.slot = {
          _id: `s:${this.current}:${this.seq}`,
          parent: nodeId('bucket', bucketOf(ms)),
          level: 'slot',
          start: ms,
          firstId: id,
          chain: this.current,
          seq: this.seq,
        };
      }
      this.inSlot++;
      if (nodes.at(-1) !== this.slot) nodes.push(this.slot);
      keys.push({ id, listSlot: this.slot._id });
    }
    return { now: new Date(ms), keys, nodes };
  }
}

function newChain(): string {
  return randomBytes(6).toString('hex');
}

/**
 * A UUIDv7 (RFC 9562): 48 bits of `ms`, then the 42-bit `counter` in the 12 bits of rand_a and
 * the top 30 of rand_b, then 32 random bits. Lowercase hex of fixed width, so string order is
 * numeric order: ids of one millisecond increase with the counter.
 */
export function uuidV7(ms: number, counter: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  const high = Math.floor(counter / 2 ** 30) & 0xfff;
  const low = counter % 2 ** 30;
  const variant = (0x80000000 + low).toString(16);
  const rand = randomBytes(4).toString('hex');
  return (
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${high.toString(16).padStart(3, '0')}-` +
    `${variant.slice(0, 4)}-${variant.slice(4)}${rand}`
  );
}
