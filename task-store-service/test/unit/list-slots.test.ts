/**
 * List slots (docs/list-pages.md, "Crowded buckets"): the keys a store process hands out come in
 * list order and fill slots of SLOT_SIZE; a bucket read slot by slot and merged gives exactly the
 * brute-force order, whatever the chains, slot sizes, filter, cursor and page size.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { bucketOf, nodeId } from '../../src/store/list-buckets.js';
import {
  compareKeys,
  mergeSlots,
  newestFirst,
  spansOf,
  type ListKey,
} from '../../src/store/list-slot-merge.js';
import {
  CLOCK_STEP_BACK_MS,
  LOOSE_SLOT,
  SLOT_SIZE,
  SlotClock,
  uuidV7,
  type SlotNodeDoc,
} from '../../src/store/list-slots.js';

const hex = (maxLength: number, minLength = 0) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength, maxLength });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('list slots', () => {
  it('when keys are handed out, then they increase in list order and fill slots of SLOT_SIZE under their bucket', () => {
    const clock = new SlotClock();
    const all: { key: ListKey; listSlot: string }[] = [];
    const nodes = new Map<string, SlotNodeDoc>();
    for (const count of [1, 250, 3, 1, 99, 100, 7]) {
      const k = clock.next(count);
      expect(k.keys).to.have.length(count);
      for (const n of k.nodes) nodes.set(n._id, n);
      for (const key of k.keys) all.push({ key: [k.now.getTime(), key.id], listSlot: key.listSlot });
    }
    for (const [i, k] of all.entries()) {
      expect(k.key[1]).to.match(UUID);
      if (i > 0) expect(compareKeys(all[i - 1]!.key, k.key), `key ${i}`).to.be.below(0);
    }
    const bySlot = new Map<string, ListKey[]>();
    for (const k of all) bySlot.set(k.listSlot, [...(bySlot.get(k.listSlot) ?? []), k.key]);
    for (const [id, keys] of bySlot) {
      const node = nodes.get(id)!;
      expect(node, id).to.not.equal(undefined);
      expect(keys.length).to.be.at.most(SLOT_SIZE);
      expect([node.start, node.firstId]).to.deep.equal(keys[0]);
      expect(node.parent).to.equal(nodeId('bucket', bucketOf(node.start)));
      expect(node.chain).to.equal(clock.chain);
    }
    // 461 keys: full slots except where a bucket started a new one early.
    expect(bySlot.size).to.be.at.least(Math.ceil(all.length / SLOT_SIZE));
  });

  it('when the clock steps back, then a small step holds createdAt still and a large one starts a new chain', () => {
    let now = Date.parse('2026-12-01T00:00:05Z');
    const clock = new SlotClock(() => now);
    const first = clock.next(2);
    const chain = clock.chain;
    now -= CLOCK_STEP_BACK_MS; // within the step it absorbs
    const held = clock.next(1);
    expect(held.now.getTime()).to.equal(first.now.getTime());
    expect(held.keys[0]!.id > first.keys[1]!.id).to.equal(true);
    expect(held.keys[0]!.listSlot).to.equal(first.keys[0]!.listSlot);
    now -= 1;
    const back = clock.next(1);
    expect(back.now.getTime()).to.equal(now);
    expect(clock.chain).to.not.equal(chain);
    expect(back.nodes[0]).to.include({ chain: clock.chain, seq: 1, start: now, firstId: back.keys[0]!.id });
  });

  it('when ids share a millisecond, then string order is counter order', () => {
    const ms = Date.parse('2026-12-01T00:00:00Z');
    const counters = [0, 1, 2 ** 30 - 1, 2 ** 30, 2 ** 41, 2 ** 42 - 1];
    const ids = counters.map((c) => uuidV7(ms, c));
    for (const id of ids) expect(id).to.match(UUID);
    expect([...ids].sort()).to.deep.equal(ids);
    expect(uuidV7(ms + 1, 0) > uuidV7(ms, 2 ** 42 - 1)).to.equal(true);
  });

  it('when a crowded bucket is read slot by slot, then the page is the brute-force order (property)', async () => {
    const task = fc.record({
      ms: fc.integer({ min: 0, max: 40 }),
      id: hex(4, 4),
      chain: fc.integer({ min: -1, max: 2 }), // -1: loose
      odd: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(task, { minLength: 0, maxLength: 120, selector: (t) => `${t.ms}:${t.id}` }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 60 }),
        fc.option(fc.record({ ms: fc.integer({ min: 0, max: 41 }), id: hex(4) })),
        fc.boolean(),
        async (tasks, slotSize, need, cursor, filtered) => {
          const docs = tasks.map((t) => ({
            _id: t.id,
            createdAt: new Date(t.ms),
            chain: t.chain,
            odd: t.odd,
            listSlot: LOOSE_SLOT,
          }));
          // Each chain hands out its keys in list order and fills slots of slotSize.
          const nodes: SlotNodeDoc[] = [];
          for (const chain of [0, 1, 2]) {
            const mine = docs.filter((d) => d.chain === chain).sort((a, b) => newestFirst(b, a));
            mine.forEach((d, i) => {
              const seq = Math.floor(i / slotSize);
              d.listSlot = `s:c${chain}:${seq}`;
              if (i % slotSize === 0)
                nodes.push({
                  _id: d.listSlot,
                  parent: 'b:0',
                  level: 'slot',
                  start: d.createdAt.getTime(),
                  firstId: d._id,
                  chain: `c${chain}`,
                  seq,
                });
            });
          }
          const upper: ListKey | undefined = cursor ? [cursor.ms, cursor.id] : undefined;
          const wanted = (d: (typeof docs)[number]) =>
            (!filtered || d.odd) && (!upper || compareKeys([d.createdAt.getTime(), d._id], upper) < 0);
          const reads: string[] = [];
          const page = await mergeSlots(spansOf(nodes, upper), need, (listSlot) => {
            reads.push(listSlot);
            return Promise.resolve(
              docs
                .filter((d) => d.listSlot === listSlot && wanted(d))
                .sort(newestFirst)
                .slice(0, need),
            );
          });
          const expected = docs.filter(wanted).sort(newestFirst).slice(0, need);
          expect(page.map((d) => d._id)).to.deep.equal(expected.map((d) => d._id));
          expect(new Set(reads).size, 'each slot read once').to.equal(reads.length);
        },
      ),
      { numRuns: 400 },
    );
  });
});
