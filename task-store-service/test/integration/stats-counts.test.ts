import { expect } from 'chai';
import { TASK_STATUSES, type Stats, type TaskStoreClient } from '@tasks/contracts';
import type { Db } from 'mongodb';
import { noopType, startStore, type StoreFixture } from '@tasks/testkit';
import { CountWriter } from '../../src/store/count-writer.js';
import type { TaskCountsDoc } from '../../src/store/documents.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** byStatus and byType counted from every task document. */
async function bruteForce(db: Db): Promise<Pick<Stats, 'byStatus' | 'byType'>> {
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Stats['byStatus'];
  const byType: Stats['byType'] = {};
  for (const t of await db.collection('tasks').find({}).toArray()) {
    const status = t.status as keyof Stats['byStatus'];
    const type = t.type as string;
    byStatus[status] += 1;
    const row = (byType[type] ??= {});
    row[status] = (row[status] ?? 0) + 1;
  }
  return { byStatus, byType };
}

/** Polls until the store's stats equal the brute-force count (the last flush may be 250 ms away). */
async function expectExact(client: TaskStoreClient, db: Db, timeoutMs = 15_000): Promise<Stats> {
  const t0 = Date.now();
  for (;;) {
    const [s, want] = [await client.call('tasks.stats', {}), await bruteForce(db)];
    if (Date.now() - t0 > timeoutMs) {
      expect({ byStatus: s.byStatus, byType: s.byType }).to.deep.equal(want);
      return s;
    }
    try {
      expect({ byStatus: s.byStatus, byType: s.byType }).to.deep.equal(want);
      return s;
    } catch {
      await sleep(200);
    }
  }
}

/** Waits for the first recount's base: until then stats scans the tasks, which would prove nothing here. */
async function baseWritten(db: Db): Promise<void> {
  const t0 = Date.now();
  while (!(await db.collection('task_counts').findOne({ _id: 'base' as never }))) {
    if (Date.now() - t0 > 15_000) throw new Error('no counts base after 15 s');
    await sleep(100);
  }
}

/** A random mix of creations and of every kind of transition, through the given clients. */
async function randomMix(clients: TaskStoreClient[], n: number, seed = 1): Promise<number> {
  let x = seed;
  const rand = (k: number) => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x % k;
  };
  const pick = () => clients[rand(clients.length)]!;
  const types = ['test.noop', 'test.other.type'];
  const { tasks } = await pick().call('tasks.createMany', {
    tasks: Array.from({ length: n }, (_, i) => ({ type: types[i % 2]!, payload: { n: i } })),
  });
  let succeeded = 0;
  for (const t of tasks) {
    const client = pick();
    const what = rand(7);
    if (what === 0) continue; // stays queued
    if (what === 1) {
      await client.call('tasks.cancel', { id: t.id });
      if (rand(2) === 0) await pick().call('tasks.retry', { id: t.id });
      continue;
    }
    const claimed = await client.call('tasks.claim', { id: t.id, workerId: 'w', leaseMs: 60_000 });
    const lease = claimed.leaseId!;
    if (what === 2) continue; // stays running
    if (what === 3) {
      await pick().call('tasks.complete', { id: t.id, leaseId: lease, result: { ok: true } });
      succeeded++;
    } else if (what === 4) {
      await pick().call('tasks.fail', {
        id: t.id,
        leaseId: lease,
        error: { code: 'E', message: 'no', retryable: false },
      });
    } else if (what === 5) await pick().call('tasks.release', { id: t.id, leaseId: lease });
    else {
      await pick().call('tasks.fail', { id: t.id, leaseId: lease, error: { code: 'E', message: 'again' } });
      await pick().call('deadLetters.record', { taskId: t.id, version: claimed.version + 1, reason: 'test' });
    }
  }
  return succeeded;
}

describe('stats from kept counts (integration)', function () {
  this.timeout(60_000);
  const open: StoreFixture[] = [];
  const start = async (env: Record<string, string> = {}, dbName?: string) => {
    const f = await startStore(env, { ...(dbName !== undefined && { dbName }) });
    open.push(f);
    await baseWritten(f.db);
    await f.client.call('taskTypes.register', {
      workerId: 'test',
      types: [noopType, { ...noopType, type: 'test.other.type' }],
    });
    return f;
  };
  afterEach(async () => {
    // Stores sharing a database each drop it: dropping one that is gone is harmless.
    for (const f of open.splice(0).reverse()) await f.close();
  });

  it('when a random mix of creations and transitions has run, then stats equal a count of the tasks', async () => {
    const f = await start();
    const succeeded = await randomMix([f.client], 60);
    const s = await expectExact(f.client, f.db);
    expect(s.succeededLastMinute).to.equal(succeeded);
    await f.close();
  });

  it("when a flush is writing, then the writer's totals still hold what it writes (no count dips below zero meanwhile)", async () => {
    const f = await start();
    const w = new CountWriter();
    const coll = f.db.collection<TaskCountsDoc>('task_counts');
    w.created('t', 'queued', new Date(), 3);
    await w.flush(coll);
    w.created('t', 'queued', new Date(), 2); // in the next flush
    const writing = w.flush(coll); // runs up to its write: those two are on their way
    w.changed('t', 'queued', 'running', new Date()); // claimed while the flush writes
    w.changed('t', 'queued', 'running', new Date());
    const during = w.totals().counts.rows();
    await writing;
    const after = w.totals().counts.rows();
    const want = [
      { type: 't', status: 'queued', n: 3 },
      { type: 't', status: 'running', n: 2 },
    ];
    expect(during, 'totals while the flush writes').to.have.deep.members(want);
    expect(after, 'totals once it wrote').to.have.deep.members(want);
    await w.flush(coll);
    expect(w.totals().counts.rows(), 'totals after the next flush').to.have.deep.members(want);
  });

  it('when a store died with unflushed deltas and its recount fence held, then another store recounts and stats are exact again', async () => {
    const a = await start();
    await randomMix([a.client], 40, 7);
    await expectExact(a.client, a.db);
    await a.stop();
    // As if it had been SIGKILLed: not marked stopped, and its last deltas never written.
    const counts = a.db.collection('task_counts');
    const writer = await counts.findOne({ role: 'writer' });
    expect(writer).to.not.equal(null);
    await counts.updateOne(
      { _id: writer!._id },
      { $set: { stopped: false, counts: [{ type: 'test.noop', status: 'queued', n: 5 }] } },
    );
    // ... and killed in the middle of a recount: the base's fence is still held in its name.
    const base = await counts.findOne({ _id: 'base' as never });
    await counts.insertOne({
      _id: `fence:${String(base!.version)}` as never,
      role: 'fence',
      version: base!.version as number,
      at: new Date(),
      holder: writer!._id,
    });
    const b = await start({ STATS_DEAD_WRITER_MS: '1000' }, a.db.databaseName);
    expect((await b.client.call('tasks.stats', {})).byStatus.queued, 'before the recount').to.not.equal(
      (await bruteForce(b.db)).byStatus.queued,
    );
    await expectExact(b.client, b.db, 30_000);
    await b.stop();
    await a.close();
  });

  it('when two stores change tasks of one database, then both answer exact stats', async () => {
    const a = await start();
    const b = await start({}, a.db.databaseName);
    await randomMix([a.client, b.client], 60, 3);
    await expectExact(a.client, a.db);
    await expectExact(b.client, b.db);
    await b.stop();
    // b stopped cleanly: a folds its counts in and stays exact.
    await sleep(2_500);
    await expectExact(a.client, a.db);
    await a.close();
  });

  it('when tasks.recount is called, then it counts every task and stats stay exact', async () => {
    const f = await start();
    await randomMix([f.client], 20, 11);
    const r = await f.client.call('tasks.recount', {});
    expect(r.tasks).to.equal(20);
    await expectExact(f.client, f.db);
    await f.close();
  });
});
