/** The shapes of the store's filters: what FerretDB can push down and MongoDB can bound by an index. */
import { expect } from 'chai';
import { mapBounded } from '../../src/store/bounded-map.js';
import { encodeCursor } from '../../src/store/cursor.js';
import { listFilter } from '../../src/store/task-queries.js';

describe('list page filter', () => {
  it('when a page is filtered by status and type after a cursor, then the filter is flat: two equalities and the cursor alone', () => {
    const cursor = encodeCursor({ createdAt: new Date('2026-12-01T00:00:00Z'), id: 'abc' });
    const filter = listFilter({ status: 'queued', type: 'email.send', cursor });
    expect(Object.keys(filter).sort()).to.deep.equal(['$or', 'status', 'type']);
    expect(filter.status).to.equal('queued');
    expect(filter.type).to.equal('email.send');
  });

  it('when a page has both date bounds, then they are one range on createdAt beside the equalities', () => {
    const filter = listFilter({
      status: 'failed',
      createdAfter: '2026-01-01T00:00:00Z',
      createdBefore: '2026-02-01T00:00:00Z',
    });
    expect(filter).to.deep.equal({
      status: 'failed',
      createdAt: { $gt: new Date('2026-01-01T00:00:00Z'), $lt: new Date('2026-02-01T00:00:00Z') },
    });
  });

  it('when nothing filters the page, then the filter is empty', () => {
    expect(listFilter({})).to.deep.equal({});
  });
});

describe('bounded per-id calls', () => {
  it('when more items than the bound are mapped, then no more than the bound run at once and results keep their order', async () => {
    let running = 0;
    let most = 0;
    const results = await mapBounded([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return n * 10;
    });
    expect(results).to.deep.equal([50, 10, 40, 20, 30, 0, 60]);
    expect(most).to.equal(3);
  });

  it('when there is nothing to map, then the result is empty', async () => {
    expect(await mapBounded([], 8, () => Promise.resolve(1))).to.deep.equal([]);
  });
});
