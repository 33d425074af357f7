/**
 * Reading a crowded bucket slot by slot (docs/list-pages.md, "Crowded buckets"). A chain's list
 * slots hold consecutive ranges of list keys: a slot's tasks lie between its first key and the
 * first key of the chain's next slot in the bucket. Slots of different chains (store processes)
 * overlap, so they are read in the order of their upper bounds and merged: a task read is in its
 * final place once every slot not yet read lies wholly below it. Pure, apart from `read`.
 */
import { LOOSE_SLOT, type SlotNodeDoc } from './list-slots.js';

/** Slots read at once, at most. */
const MAX_SLOTS_IN_FLIGHT = 8;

/** A task's place in list order: createdAt (epoch ms), then id. Pages run from the greatest key down. */
export type ListKey = readonly [number, string];

export function compareKeys(a: ListKey, b: ListKey): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

interface Listed {
  _id: string;
  createdAt: Date;
}

function keyOf(d: Listed): ListKey {
  return [d.createdAt.getTime(), d._id];
}

/** Newest first: createdAt descending, then _id descending (the order of the list indexes). */
export function newestFirst(a: Listed, b: Listed): number {
  return compareKeys(keyOf(b), keyOf(a));
}

/** Part of a bucket: a list slot holding keys in [lo, hi), or (no bounds) the loose tasks. */
export interface Span {
  listSlot: string;
  lo?: ListKey;
  hi?: ListKey;
}

/**
 * The spans of a bucket, in reading order: those without an upper bound (the loose tasks, each
 * chain's last slot) first, then by upper bound, greatest first. Slots that hold only keys at or
 * above `upper` (the page's cursor) are left out.
 */
export function spansOf(slots: readonly SlotNodeDoc[], upper: ListKey | undefined): Span[] {
  const chains = new Map<string, SlotNodeDoc[]>();
  for (const s of slots) {
    const chain = chains.get(s.chain) ?? [];
    chain.push(s);
    chains.set(s.chain, chain);
  }
  const spans: Span[] = [{ listSlot: LOOSE_SLOT }];
  for (const chain of chains.values()) {
    chain.sort((a, b) => a.seq - b.seq);
    chain.forEach((s, i) => {
      const next = chain[i + 1];
      spans.push({
        listSlot: s._id,
        lo: [s.start, s.firstId],
        ...(next && { hi: [next.start, next.firstId] as ListKey }),
      });
    });
  }
  return spans
    .filter((s) => !(upper && s.lo && compareKeys(s.lo, upper) >= 0))
    .sort((a, b) => (!a.hi ? (b.hi ? -1 : 0) : !b.hi ? 1 : compareKeys(b.hi, a.hi)));
}

/**
 * The `need` newest tasks of `spans`, reading them in rounds: all unbounded spans at once,
 * then 1, 2, 4 and at most MAX_SLOTS_IN_FLIGHT spans at once, until the `need` newest found are
 * known to be final.
 * `read(listSlot)` returns a span's newest `need` tasks (of the page's filter), newest first.
 */
export async function mergeSlots<D extends Listed>(
  spans: readonly Span[],
  need: number,
  read: (listSlot: string) => Promise<D[]>,
): Promise<D[]> {
  const found: D[] = [];
  let next = 0;
  const unbounded = spans.filter((s) => !s.hi).length;
  for (let r = 0; next < spans.length; r++) {
    const width = r === 0 ? Math.max(unbounded, 1) : Math.min(2 ** (r - 1), MAX_SLOTS_IN_FLIGHT);
    const round = spans.slice(next, next + width);
    next += round.length;
    for (const part of await Promise.all(round.map((s) => read(s.listSlot)))) found.push(...part);
    found.sort(newestFirst);
    // Spans not read yet hold only keys below the greatest upper bound among them.
    const bound = spans[next]?.hi;
    if (next < spans.length && !bound) continue;
    const final = bound ? found.findIndex((d) => compareKeys(keyOf(d), bound) < 0) : -1;
    if ((final === -1 ? found.length : final) >= need) break;
  }
  return found.slice(0, need);
}
