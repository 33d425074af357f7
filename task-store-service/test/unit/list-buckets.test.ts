/** Bucket arithmetic of list pages: keys, periods and tree paths (UTC, epoch milliseconds). */
import { expect } from 'chai';
import {
  BUCKET_MS,
  bucketOf,
  childLevel,
  nodesOf,
  pathOf,
  periodStart,
} from '../../src/store/list-buckets.js';
import { bucketFilter, periodFilter, summaryProjection } from '../../src/store/list-pages.js';
import { encodeCursor } from '../../src/store/cursor.js';

const at = (iso: string) => Date.parse(iso);

describe('list buckets', () => {
  it('when a time is floored to its bucket, then the bucket starts on a 10-s boundary at or before it', () => {
    expect(BUCKET_MS).to.equal(10_000);
    expect(bucketOf(at('2026-12-01T08:40:19.999Z'))).to.equal(at('2026-12-01T08:40:10Z'));
    expect(bucketOf(at('2026-12-01T08:40:20Z'))).to.equal(at('2026-12-01T08:40:20Z'));
    expect(bucketOf(-1)).to.equal(-10_000);
  });

  it('when periods are computed, then months follow the calendar (UTC) and the rest are fixed widths', () => {
    const t = at('2024-02-29T23:59:59.999Z');
    expect(periodStart('month', t)).to.equal(at('2024-02-01T00:00:00Z'));
    expect(periodStart('day', t)).to.equal(at('2024-02-29T00:00:00Z'));
    expect(periodStart('hour', t)).to.equal(at('2024-02-29T23:00:00Z'));
    expect(periodStart('bucket', t)).to.equal(at('2024-02-29T23:59:50Z'));
    expect(periodStart('month', t + 1)).to.equal(at('2024-03-01T00:00:00Z'));
  });

  it('when the path of a time is built, then each node names its parent, from the root down', () => {
    const path = pathOf(at('2026-12-01T08:40:15Z'));
    expect(path.map((n) => n._id)).to.deep.equal([
      `m:${at('2026-12-01T00:00:00Z')}`,
      `d:${at('2026-12-01T00:00:00Z')}`,
      `h:${at('2026-12-01T08:00:00Z')}`,
      `b:${at('2026-12-01T08:40:10Z')}`,
    ]);
    expect(path.map((n) => n.parent)).to.deep.equal(['root', ...path.slice(0, 3).map((n) => n._id)]);
    expect(childLevel('root')).to.equal('month');
    expect(childLevel('bucket')).to.equal(undefined);
  });

  it('when nodes are collected for many times, then each node comes once, parents before children', () => {
    const times = [at('2026-12-01T08:40:15Z'), at('2026-12-01T08:40:16Z'), at('2026-12-01T09:00:00Z')];
    const nodes = nodesOf(times);
    expect(nodes.map((n) => n._id)).to.have.length(new Set(nodes.map((n) => n._id)).size);
    expect(nodes.filter((n) => n.level === 'bucket')).to.have.length(2);
    const index = new Map(nodes.map((n, i) => [n._id, i]));
    for (const [i, n] of nodes.entries()) if (n.parent !== 'root') expect(index.get(n.parent)).to.be.below(i);
  });
});

describe('list page queries', () => {
  it("when a bucket is read for a page, then its filter is flat: the bucket, the page's equalities and one range", () => {
    const bucket = at('2026-12-01T08:40:10Z');
    const cursor = encodeCursor({ createdAt: new Date(bucket + 5_000), id: 'abc' });
    const filter = bucketFilter({ status: 'failed', type: 'email.send', cursor }, bucket);
    expect(Object.keys(filter).sort()).to.deep.equal(['$or', 'bucket', 'createdAt', 'status', 'type']);
    expect(filter.createdAt).to.deep.equal({ $gte: new Date(bucket), $lt: new Date(bucket + BUCKET_MS) });
  });

  it('when createdBefore falls inside the bucket, then the range ends there', () => {
    const bucket = at('2026-12-01T08:40:10Z');
    const filter = bucketFilter(
      { createdBefore: '2026-12-01T08:40:12Z', createdAfter: '2026-01-01T00:00:00Z' },
      bucket,
    );
    expect(filter.createdAt).to.deep.equal({
      $gt: new Date('2026-01-01T00:00:00Z'),
      $gte: new Date(bucket),
      $lt: new Date('2026-12-01T08:40:12Z'),
    });
  });

  it('when the rest of an hour is read for a sparse page, then its filter is flat: the hour, the equalities and [hour, where the buckets stopped)', () => {
    const hour = at('2026-12-01T08:00:00Z');
    const stopped = at('2026-12-01T08:40:10Z');
    const filter = periodFilter({ type: 'email.send' }, 'hour', hour, hour, stopped);
    expect(filter).to.deep.equal({
      type: 'email.send',
      hour,
      createdAt: { $gte: new Date(hour), $lt: new Date(stopped) },
    });
  });

  it('when fields are asked for, then only the others are left out; with all three nothing is', () => {
    expect(summaryProjection()).to.deep.equal({ payloadJson: 0, resultJson: 0, history: 0 });
    expect(summaryProjection(['history'])).to.deep.equal({ payloadJson: 0, resultJson: 0 });
    expect(summaryProjection(['payload', 'result', 'history'])).to.equal(undefined);
  });
});
