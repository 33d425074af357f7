/**
 * The fence sweep against the real MongoDB-wire server: the first pass removes every fence older
 * than the retention by `at` (fences from before sweepMinute included); later passes delete by
 * minute only, an equality FerretDB pushes down to its index, and never a fence the retention
 * still keeps. Fences the store writes carry their minute.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection, type Db, type Document } from 'mongodb';
import { startStore, testMongoUrl } from '@tasks/testkit';
import type { FenceDoc } from '../../src/store/documents.js';
import { FenceSweeper, fenceTimes } from '../../src/store/fence-sweep.js';

const MINUTE = 60_000;
const RETENTION_MS = 10 * MINUTE;
// A fixed "now" in the middle of a minute, so that no fence below lies on a minute's edge by chance.
const NOW = Date.UTC(2026, 11, 3, 12, 30, 30);

describe('fence sweep (integration)', () => {
  let mongo: MongoClient;
  let db: Db;
  let fences: Collection<FenceDoc>;
  let deletes: Document[];
  beforeEach(() => {
    mongo = new MongoClient(testMongoUrl(), { monitorCommands: true });
    deletes = [];
    mongo.on('commandStarted', (e) => {
      if (e.commandName === 'delete')
        deletes.push(...(e.command.deletes as { q: Document }[]).map((d) => d.q));
    });
    db = mongo.db(`test_${randomUUID().replaceAll('-', '').slice(0, 20)}`);
    fences = db.collection<FenceDoc>('task_fences');
  });
  afterEach(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  /** A fence taken `agoMs` before NOW; `legacy` ones were written before sweepMinute existed. */
  const fence = (name: string, agoMs: number, legacy = false): FenceDoc => {
    const times = fenceTimes(new Date(NOW - agoMs));
    return {
      _id: `${name}:1`,
      taskId: name,
      version: 1,
      set: {},
      ...(legacy ? { at: times.at } : times),
    };
  };
  const left = async () => (await fences.find({}).toArray()).map((f) => f.taskId).sort();

  it('when fences of several ages are stored, then the first pass removes every one older than the retention, old ones without a minute included, and keeps the others', async () => {
    await fences.insertMany([
      fence('legacy-old', 30 * MINUTE, true),
      fence('legacy-young', 2 * MINUTE, true),
      fence('old-11', 11 * MINUTE),
      fence('old-3h', 3 * 60 * MINUTE),
      fence('just-over', RETENTION_MS + 1_000),
      fence('just-under', RETENTION_MS - 1_000),
      fence('young', MINUTE),
    ]);
    const removed = await new FenceSweeper(fences, RETENTION_MS).sweep(NOW);
    expect(removed).to.equal(4);
    expect(await left()).to.deep.equal(['just-under', 'legacy-young', 'young']);
  });

  it('when later passes run within the hour, then each deletes by minute only, the minutes due since the last pass: younger fences, and those in minutes already swept, wait for the hourly full pass', async () => {
    const sweeper = new FenceSweeper(fences, RETENTION_MS);
    await sweeper.sweep(NOW - 5 * MINUTE); // the first, full pass: nothing stored yet
    await fences.insertMany([
      fence('due-5', 11 * MINUTE),
      fence('due-1', 14 * MINUTE),
      fence('just-under', RETENTION_MS - 1_000),
      // In the cutoff's own minute: older than the retention, but its minute is not wholly so.
      fence('cutoff-minute', RETENTION_MS + 1_000),
      // In a minute the full pass had already swept (a replica whose clock lags wrote it late).
      fence('swept-minute', 20 * MINUTE),
      fence('legacy-old', 30 * MINUTE, true),
    ]);
    deletes = [];
    const removed = await sweeper.sweep(NOW); // five minutes later: five minutes became due
    expect(removed).to.equal(2);
    expect(await left()).to.deep.equal(['cutoff-minute', 'just-under', 'legacy-old', 'swept-minute']);
    expect(deletes, 'one delete per minute due, by equality').to.have.length(5);
    for (const q of deletes) expect(Object.keys(q)).to.deep.equal(['sweepMinute']);

    deletes = [];
    expect(await sweeper.sweep(NOW + 20_000), 'no minute became due').to.equal(0);
    expect(deletes).to.deep.equal([]);
    // The cutoff's minute, once wholly due: cutoff-minute and just-under.
    expect(await sweeper.sweep(NOW + MINUTE), 'the next minute').to.equal(2);
    expect(deletes).to.have.length(1);

    // An hour after the first pass, the full pass takes what the minutes left behind.
    const later = await sweeper.sweep(NOW - 5 * MINUTE + 60 * MINUTE);
    expect(later).to.equal(2);
    expect(await left()).to.deep.equal([]);
  });

  it('when passes were missed, then the next catches up on at most the last 15 minutes', async () => {
    const sweeper = new FenceSweeper(fences, RETENTION_MS);
    await sweeper.sweep(NOW - 40 * MINUTE);
    await fences.insertMany([fence('missed-25', 35 * MINUTE), fence('missed-5', 15 * MINUTE)]);
    deletes = [];
    expect(await sweeper.sweep(NOW)).to.equal(1); // missed-5; missed-25 waits for the full pass
    expect(deletes).to.have.length(15);
    expect(await left()).to.deep.equal(['missed-25']);
  });

  it('when the store changes a task, then its fences carry the minute they were taken', async () => {
    const f = await startStore();
    try {
      const { task } = await f.client.call('tasks.create', { type: 'test.noop', payload: {} });
      const claimed = await f.client.call('tasks.claim', { id: task.id, workerId: 'w', leaseMs: 30_000 });
      await f.client.call('tasks.complete', { id: task.id, leaseId: claimed.leaseId! });
      const taken = await f.db.collection<FenceDoc>('task_fences').find({ taskId: task.id }).toArray();
      expect(taken).to.have.length(2);
      for (const t of taken) expect(t.sweepMinute).to.equal(Math.floor(t.at.getTime() / MINUTE));
    } finally {
      await f.close();
    }
  });
});
