/** How a task's history is split between the task and its blocks (docs/history.md). */
import { expect } from 'chai';
import { HISTORY_LIMIT } from '@tasks/contracts';
import type { HistoryDoc } from '../../src/store/documents.js';
import {
  appendHistory,
  blocksMoved,
  decodeHistoryCursor,
  encodeHistoryCursor,
  HISTORY_BLOCK,
} from '../../src/store/task-history.js';

const entry = (n: number): HistoryDoc => ({ status: 'queued', at: new Date(n), by: `e${n}`, attempt: n });

describe('task history split', () => {
  it('when entries are appended one by one, then the task keeps the latest, blocks hold the rest, and together they are every entry once', () => {
    let doc: { _id: string; history: HistoryDoc[]; historyOffset?: number } = { _id: 't', history: [] };
    const blocks = new Map<number, HistoryDoc[]>();
    for (let n = 0; n < 400; n++) {
      const next = appendHistory(doc, entry(n));
      for (const b of blocksMoved(doc, next, new Date())) {
        expect(blocks.has(b.block), `block ${b.block} moved once`).to.equal(false);
        expect(b._id).to.equal(`t:${b.block}`);
        blocks.set(b.block, b.entries);
      }
      doc = { ...doc, ...next }; // as applyChange: the change's fields over the document
      const offset = doc.historyOffset ?? 0;
      expect(doc.history.length).to.be.at.most(HISTORY_LIMIT);
      if (n + 1 > HISTORY_LIMIT) expect(doc.history.length).to.be.greaterThan(HISTORY_LIMIT - HISTORY_BLOCK);
      expect(offset % HISTORY_BLOCK).to.equal(0);
      expect(offset + doc.history.length).to.equal(n + 1);
      if (n < HISTORY_LIMIT) expect(next).not.to.have.property('historyOffset');
    }
    const all = [...[...blocks.keys()].sort((a, b) => a - b).flatMap((k) => blocks.get(k)!), ...doc.history];
    expect(all.map((e) => e.by)).to.deep.equal(Array.from({ length: 400 }, (_, n) => `e${n}`));
  });

  it('when a task from before kept its latest 50 (no offset), then its next entry moves the first block out from position 0', () => {
    const legacy = { _id: 'old', history: Array.from({ length: 50 }, (_, n) => entry(n + 1000)) };
    const next = appendHistory(legacy, entry(2000));
    expect(next.historyOffset).to.equal(HISTORY_BLOCK);
    const [block] = blocksMoved(legacy, next, new Date());
    expect(block!.block).to.equal(0);
    expect(block!.entries).to.deep.equal(legacy.history.slice(0, HISTORY_BLOCK));
  });

  it('when a cursor is encoded, then it decodes to its position; anything else is refused', () => {
    for (const n of [0, 1, 49, 50, 123_456]) expect(decodeHistoryCursor(encodeHistoryCursor(n))).to.equal(n);
    for (const bad of [
      '',
      'aA',
      Buffer.from('h-1').toString('base64url'),
      Buffer.from('h1e3').toString('base64url'),
      `${encodeHistoryCursor(5)}=`,
    ])
      expect(() => decodeHistoryCursor(bad), bad).to.throw('cursor is not one this store issued');
  });
});
