/**
 * List pages walk the bucket tree (docs/list-pages.md): whatever the filter and page size, paging
 * through tasks.list gives exactly the brute-force order (createdAt desc, id desc) across bucket,
 * hour, day and month boundaries, with ties in one millisecond, and for tasks written before
 * buckets existed once the start-up backfill has run.
 */
import { expect } from 'chai';
import type { ListParams } from '@tasks/contracts';
import { bucketOf, createLogger, hourOf, loadConfig, nodesOf, startStoreService } from '../../src/index.js';
import { READ_WHOLE_SLOTS } from '../../src/store/list-pages.js';
import { pageAll, startStore, type StoreFixture, testMongoUrl } from '@tasks/testkit';

interface Stored {
  _id: string;
  createdAt: Date;
  status: string;
  type: string;
}

/** Times around the boundaries a walk crosses, newest first, several tasks in some milliseconds. */
const BASE = Date.parse('2026-03-01T00:00:00Z'); // a month, day and hour boundary at once
const OFFSETS_MS = [
  86_400_000 + 5,
  86_400_000 + 5,
  86_400_000 + 5,
  3_600_000 + 1,
  3_600_000,
  3_599_999,
  20_001,
  20_000,
  19_999,
  10_000,
  10_000,
  9_999,
  1,
  0,
  0,
  -1,
  -9_999,
  -10_000,
  -10_001,
  -3_600_000,
  -86_400_000 - 7,
  -86_400_000 - 7,
  -40 * 86_400_000,
];

function bruteForce(docs: Stored[], params: ListParams): string[] {
  return docs
    .filter((d) => (!params.status || d.status === params.status) && (!params.type || d.type === params.type))
    .filter((d) => !params.createdAfter || d.createdAt.getTime() > Date.parse(params.createdAfter))
    .filter((d) => !params.createdBefore || d.createdAt.getTime() < Date.parse(params.createdBefore))
    .sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0),
    )
    .map((d) => d._id);
}

/** Moves tasks into the past as the store would have written them then: createdAt, bucket, hour, tree nodes. */
async function backdate(f: StoreFixture, ids: string[], times: number[], withBucket = true): Promise<void> {
  const tasks = f.db.collection<{ _id: string }>('tasks');
  for (const [i, id] of ids.entries()) {
    const createdAt = new Date(times[i]!);
    await tasks.updateOne(
      { _id: id },
      withBucket
        ? { $set: { createdAt, bucket: bucketOf(times[i]!), hour: hourOf(times[i]!) } }
        : { $set: { createdAt }, $unset: { bucket: '', hour: '' } },
    );
  }
  if (withBucket) {
    await f.db
      .collection<{ _id: string }>('task_buckets')
      .insertMany(nodesOf(times), { ordered: false })
      .catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== 11000) throw err;
      });
  }
}

async function stored(f: StoreFixture): Promise<Stored[]> {
  return f.db
    .collection<Stored>('tasks')
    .find({}, { projection: { _id: 1, createdAt: 1, status: 1, type: 1 } })
    .toArray();
}

describe('list pages over the bucket tree (integration)', function () {
  this.timeout(120_000);
  let f: StoreFixture;
  beforeEach(async () => {
    f = await startStore();
    await f.client.call('taskTypes.register', {
      workerId: 'fixture',
      types: [
        {
          type: 'test.other',
          kind: 'io',
          payloadSchema: { type: 'object' },
          timeoutMs: 5_000,
          maxAttempts: 1,
        },
      ],
    });
  });
  afterEach(() => f.close());

  it('when tasks lie across bucket, hour, day and month boundaries with ties, then every filter pages in brute-force order', async () => {
    const { tasks } = await f.client.call('tasks.createMany', {
      tasks: OFFSETS_MS.map((_, n) => ({ type: n % 3 === 0 ? 'test.other' : 'test.noop', payload: { n } })),
    });
    await backdate(
      f,
      tasks.map((t) => t.id),
      OFFSETS_MS.map((o) => BASE + o),
    );
    for (const [i, t] of tasks.entries()) if (i % 4 === 1) await f.client.call('tasks.cancel', { id: t.id });
    // And some created now, through the store itself.
    await f.client.call('tasks.createMany', { tasks: [{ type: 'test.noop' }, { type: 'test.other' }] });
    const docs = await stored(f);
    const shapes: ListParams[] = [
      {},
      { status: 'cancelled' },
      { type: 'test.other' },
      { status: 'queued', type: 'test.noop' },
      { createdBefore: new Date(BASE + 10_000).toISOString() },
      { createdAfter: new Date(BASE - 10_000).toISOString(), status: 'queued' },
    ];
    for (const shape of shapes) {
      for (const limit of [1, 3, 50]) {
        const ids = (await pageAll(f, { ...shape, limit })).map((t) => t.id);
        expect(ids, `${JSON.stringify(shape)} limit ${limit}`).to.deep.equal(bruteForce(docs, shape));
      }
    }
  });

  it('when a filter matches a few tasks among many buckets, then the pages still come in brute-force order', async () => {
    const { tasks } = await f.client.call('tasks.createMany', {
      tasks: Array.from({ length: 80 }, (_, n) => ({ type: n % 40 === 7 ? 'test.other' : 'test.noop' })),
    });
    // One task per bucket over 80 buckets: a walk for test.other reads them all unless it probes.
    await backdate(
      f,
      tasks.map((t) => t.id),
      tasks.map((_, n) => BASE - n * 10_000),
    );
    const docs = await stored(f);
    for (const limit of [1, 50]) {
      const ids = (await pageAll(f, { type: 'test.other', limit })).map((t) => t.id);
      expect(ids)
        .to.deep.equal(bruteForce(docs, { type: 'test.other' }))
        .and.to.have.length(2);
    }
  });

  it('when a filter is sparse in recent buckets, then whole hours are read (a dense one bucket by bucket) and the pages still come in brute-force order', async () => {
    // Newest hour: one task per bucket, test.other in every tenth, so a walk for test.other finds
    // it sparse and reads hours. The hour before: 300 test.other in 30 buckets, more than one
    // hour read may hold (HOUR_ROWS), so that hour is read bucket by bucket. Then a sparse hour
    // and one two days older.
    const times: number[] = [];
    const types: string[] = [];
    for (let n = 0; n < 40; n++) {
      times.push(BASE + 3_599_000 - n * 10_000);
      types.push(n % 10 === 9 ? 'test.other' : 'test.noop');
    }
    for (let n = 0; n < 300; n++) {
      times.push(BASE - 1_000 - Math.floor(n / 10) * 10_000 - (n % 10));
      types.push('test.other');
    }
    for (let n = 0; n < 10; n++) {
      times.push(BASE - 3_600_000 - 1_000 - n * 60_000);
      types.push(n % 2 === 0 ? 'test.other' : 'test.noop');
    }
    for (let n = 0; n < 3; n++) {
      times.push(BASE - 48 * 3_600_000 + n);
      types.push('test.other');
    }
    const { tasks } = await f.client.call('tasks.createMany', { tasks: types.map((type) => ({ type })) });
    await backdate(
      f,
      tasks.map((t) => t.id),
      times,
    );
    for (const [i, t] of tasks.entries()) if (i % 3 === 0) await f.client.call('tasks.cancel', { id: t.id });
    const docs = await stored(f);
    const shapes: ListParams[] = [
      { type: 'test.other' },
      { status: 'cancelled', type: 'test.other' },
      { status: 'queued' },
      { type: 'test.other', createdBefore: new Date(BASE - 100_000).toISOString() },
      { type: 'test.other', createdAfter: new Date(BASE - 7_200_000).toISOString() },
    ];
    for (const shape of shapes) {
      for (const limit of [7, 50, 500]) {
        const ids = (await pageAll(f, { ...shape, limit })).map((t) => t.id);
        expect(ids, `${JSON.stringify(shape)} limit ${limit}`).to.deep.equal(bruteForce(docs, shape));
      }
    }
  });

  it('when batches from two store processes crowd one bucket, then pages read it slot by slot in brute-force order', async () => {
    // A second store on the same database: a second chain of list slots (docs/list-pages.md).
    const other = await startStore({}, { dbName: f.dbName });
    try {
      const batch = (n: number, offset: number) =>
        Array.from({ length: n }, (_, i) => ({
          type: i % 3 === 0 ? 'test.other' : 'test.noop',
          payload: { n: offset + i },
        }));
      await Promise.all([
        f.client.call('tasks.createMany', { tasks: batch(230, 0) }),
        other.client.call('tasks.createMany', { tasks: batch(170, 1000) }),
        ...Array.from({ length: 12 }, (_, i) =>
          f.client.call('tasks.create', { type: 'test.noop', payload: { n: 2000 + i } }),
        ),
      ]);
      await f.client.call('tasks.createMany', { tasks: batch(120, 3000) });
      await other.client.call('tasks.createMany', { tasks: batch(90, 4000) });
      const docs = await stored(f);
      for (const [i, d] of docs.entries())
        if (i % 7 === 0) await f.client.call('tasks.cancel', { id: d._id });
      const perBucket = new Map<string, number>();
      for (const n of await f.db
        .collection<{ parent: string }>('task_buckets')
        .find({ level: 'slot' })
        .toArray())
        perBucket.set(n.parent, (perBucket.get(n.parent) ?? 0) + 1);
      expect(Math.max(...perBucket.values()), 'a bucket read slot by slot').to.be.above(READ_WHOLE_SLOTS);
      const after = await stored(f);
      const middle = after.map((d) => d.createdAt.getTime()).sort((x, y) => x - y)[300]!;
      const shapes: ListParams[] = [
        {},
        { status: 'cancelled' },
        { type: 'test.other' },
        { status: 'queued', type: 'test.noop' },
        // Below a time inside the crowded bucket: the slots above it are left out.
        { createdBefore: new Date(middle).toISOString() },
      ];
      for (const shape of shapes) {
        for (const limit of [7, 50, 160]) {
          const ids = (await pageAll(f, { ...shape, limit })).map((t) => t.id);
          expect(ids, `${JSON.stringify(shape)} limit ${limit}`).to.deep.equal(bruteForce(after, shape));
        }
      }
    } finally {
      await other.close();
    }
  });

  it('when tasks were written before buckets existed, then after a restart the backfill lists them in order', async () => {
    const { tasks } = await f.client.call('tasks.createMany', {
      tasks: OFFSETS_MS.map((_, n) => ({ type: 'test.noop', payload: { n } })),
    });
    await backdate(
      f,
      tasks.map((t) => t.id),
      OFFSETS_MS.map((o) => BASE + o),
      false,
    );
    // As an upgraded database: no bucket on the tasks, no tree nodes, no marker.
    await f.db.collection<{ _id: string }>('task_buckets').deleteMany({});
    expect((await f.client.call('tasks.list', {})).items).to.have.length(0);
    const restarted = await startStoreService(
      loadConfig({ MONGO_URL: testMongoUrl(), MONGO_DB: f.db.databaseName, PORT: '0' }),
      createLogger('silent'),
    );
    try {
      const docs = await stored(f);
      expect(await f.db.collection('tasks').countDocuments({ bucket: { $exists: false } })).to.equal(0);
      expect(await f.db.collection('tasks').countDocuments({ hour: { $exists: false } })).to.equal(0);
      for (const limit of [4, 50]) {
        const ids = (await pageAll(f, { limit })).map((t) => t.id);
        expect(ids).to.deep.equal(bruteForce(docs, {}));
      }
      expect(await f.db.collection('task_fences').countDocuments(), 'backfill fences removed').to.equal(0);
    } finally {
      await restarted.close();
    }
  });

  it('when a replica on the version before slots wrote into a bucket with slots, then the backfill makes its tasks loose and lists them', async () => {
    const { tasks } = await f.client.call('tasks.createMany', {
      tasks: Array.from({ length: 350 }, (_, n) => ({ type: 'test.noop', payload: { n } })),
    });
    // As an old replica writes them: no listSlot.
    const old = [tasks[3]!.id, tasks[170]!.id, tasks[349]!.id];
    await f.db
      .collection<{ _id: string }>('tasks')
      .updateMany({ _id: { $in: old } }, { $unset: { listSlot: '' } });
    expect((await pageAll(f, { limit: 100 })).map((t) => t.id)).to.not.include.members(old);
    // The documented step once every replica runs the new version: delete the marker, restart one.
    await f.db.collection<{ _id: string }>('task_buckets').deleteOne({ _id: 'backfill-done' });
    const restarted = await startStoreService(
      loadConfig({ MONGO_URL: testMongoUrl(), MONGO_DB: f.db.databaseName, PORT: '0' }),
      createLogger('silent'),
    );
    try {
      expect(await f.db.collection('tasks').countDocuments({ listSlot: 'loose' })).to.equal(3);
      const docs = await stored(f);
      for (const limit of [30, 100]) {
        const ids = (await pageAll(f, { limit })).map((t) => t.id);
        expect(ids).to.deep.equal(bruteForce(docs, {}));
      }
    } finally {
      await restarted.close();
    }
  });

  it('when a page is asked for fields, then only those detail fields come with each item', async () => {
    const { task } = await f.client.call('tasks.create', { type: 'test.noop', payload: { n: 7 } });
    const [summary] = (await f.client.call('tasks.list', {})).items;
    expect(summary).to.include({ id: task.id, status: 'queued', attempts: 0 });
    expect(summary).to.not.have.any.keys('payload', 'result', 'history');
    const [full] = (await f.client.call('tasks.list', { fields: ['payload', 'history'] })).items;
    expect(full!.payload).to.deep.equal({ n: 7 });
    expect(full!.history).to.have.length(1);
    expect(full).to.not.have.property('result');
    const unpublished = await f.client.call('tasks.listUnpublished', { olderThanMs: 0 });
    expect(unpublished.items[0]).to.not.have.any.keys('payload', 'result', 'history');
  });
});
