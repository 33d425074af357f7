/**
 * Where the retention sweeper starts a type (docs/retention.md), against the real MongoDB-wire
 * server: a type's first cursor comes from the bucket tree (the hour the oldest task was created
 * in), not from a sorted read of the type's tasks, which FerretDB would evaluate over every
 * one of them; the finishedHour backfill runs once per database and never on one the store found
 * empty; hours found empty are paid for from the pass's page.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db, type Document } from 'mongodb';
import { testMongoUrl } from '@tasks/testkit';
import { ensureIndexes, openCollections, type Collections } from '../../src/store/collections.js';
import { FINISHED_HOUR_MARKER, markNewDatabase } from '../../src/store/finished-hour-backfill.js';
import { HOUR_MS, hourOf } from '../../src/store/list-buckets.js';
import { RetentionSweeper } from '../../src/store/retention.js';

const DAY_MS = 24 * HOUR_MS;
const TYPE = 'test.retained';

describe('retention cursors (integration)', function () {
  this.timeout(60_000);
  let mongo: MongoClient;
  let db: Db;
  let collections: Collections;
  /** The commands sent to `tasks` since the last reset: name and body. */
  let onTasks: { name: string; command: Document }[];
  beforeEach(async () => {
    mongo = new MongoClient(testMongoUrl(), { monitorCommands: true });
    db = mongo.db(`test_${randomUUID().replaceAll('-', '').slice(0, 20)}`);
    collections = openCollections(db);
    await ensureIndexes(collections, db);
    await db.collection<{ _id: string }>('task_types').insertOne({ _id: TYPE });
    onTasks = [];
    mongo.on('commandStarted', (e) => {
      if (e.command[e.commandName] === 'tasks') onTasks.push({ name: e.commandName, command: e.command });
    });
  });
  afterEach(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  /** The tasks collection without the store's document type: these tests write partial documents. */
  const rawTasks = () => db.collection<{ _id: string; [field: string]: unknown }>('tasks');
  const sweeper = (page = 500) => new RetentionSweeper(collections, { page, flushCounts: async () => {} });
  const cursorOf = async (type: string) =>
    (await collections.retentionCursors.findOne({ _id: `tasks:${type}` }))?.hour;
  /** A finished task as the store leaves it, its bucket nodes first (finishedHour unless `legacy`). */
  const finished = async (createdMs: number, legacy = false) => {
    await collections.buckets.record([createdMs]);
    const finishedAt = new Date(createdMs + 1_000);
    const doc = {
      _id: randomUUID(),
      type: TYPE,
      status: 'succeeded',
      version: 3,
      createdAt: new Date(createdMs),
      finishedAt,
      ...(!legacy && { finishedHour: hourOf(finishedAt.getTime()) }),
    };
    await rawTasks().insertOne(doc);
    return doc;
  };

  it('when the store starts on a database without tasks, then it is marked backfilled; on one with tasks, it is not', async () => {
    await markNewDatabase(collections);
    expect(await collections.retentionCursors.findOne({ _id: FINISHED_HOUR_MARKER })).to.not.equal(null);

    await collections.retentionCursors.deleteMany({});
    await finished(Date.now() - HOUR_MS);
    await markNewDatabase(collections);
    expect(await collections.retentionCursors.findOne({ _id: FINISHED_HOUR_MARKER })).to.equal(null);
  });

  it('when a type gets its first cursor, then it starts at the oldest task’s creation hour and no task is read to place it', async () => {
    await markNewDatabase(collections);
    const now = Date.now();
    const oldest = now - 30 * HOUR_MS;
    await finished(oldest);
    await finished(now - 2 * HOUR_MS);
    onTasks = [];

    await sweeper().sweep(now);

    expect(await cursorOf(TYPE)).to.equal(hourOf(oldest));
    // Nothing is past the default retention (7 days): the pass walked no hour, so read no task.
    expect(onTasks.map((c) => c.name)).to.deep.equal([]);
  });

  it('when a type’s first cursor is made early in an hour, then the same pass reads that hour’s tasks (a short retention does not wait for the hour before to settle)', async () => {
    await markNewDatabase(collections);
    const hour = hourOf(Date.now()) - 2 * HOUR_MS;
    // Two minutes into the hour, a task created a minute in: finished after the cutoff, not yet due.
    const now = hour + 2 * 60_000;
    await finished(hour + 60_000);
    await db.collection<{ _id: string }>('task_type_settings').insertOne({
      _id: TYPE,
      paused: false,
      concurrency: null,
      ratePerSecond: null,
      retentionSeconds: 60,
      updatedAt: new Date(),
      updatedBy: 'test',
    } as never);
    onTasks = [];

    await sweeper().sweep(now);

    const hoursRead = onTasks
      .filter((c) => c.name === 'find')
      .map((c) => (c.command.filter as { finishedHour?: number }).finishedHour);
    expect(hoursRead).to.deep.equal([hour]);
    expect(await cursorOf(TYPE)).to.equal(hour);
  });

  it('when the database predates the marker, then one pass gives finished tasks their finishedHour before any type is swept, and later passes do not read the tasks for it', async () => {
    const now = Date.now();
    const old = await finished(now - 3 * DAY_MS, true);
    const fresh = await finished(now - HOUR_MS);
    await rawTasks().insertOne({ _id: randomUUID(), type: TYPE, status: 'queued', version: 1 });

    await sweeper().sweep(now);

    const stored = await rawTasks().findOne({ _id: old._id });
    expect(stored?.finishedHour).to.equal(hourOf(old.finishedAt.getTime()));
    expect((await rawTasks().findOne({ _id: fresh._id }))?.finishedHour).to.equal(fresh.finishedHour);
    expect(await collections.retentionCursors.findOne({ _id: FINISHED_HOUR_MARKER })).to.not.equal(null);
    expect(await cursorOf(TYPE)).to.equal(hourOf(now - 3 * DAY_MS));

    onTasks = [];
    await sweeper().sweep(now);
    const scans = onTasks.filter((c) => JSON.stringify(c.command.filter ?? {}).includes('$exists'));
    expect(scans).to.deep.equal([]);
  });

  it('when the first cursor lies far before the cutoff, then a pass walks at most a page of empty hours, one query each', async () => {
    await markNewDatabase(collections);
    const now = Date.now();
    // A cursor a year back, no task since: every hour up to the cutoff (7 days ago) is empty.
    const start = hourOf(now - 365 * DAY_MS);
    await collections.retentionCursors.insertOne({ _id: `tasks:${TYPE}`, hour: start, at: new Date() });
    onTasks = [];

    await sweeper(50).sweep(now);

    const finds = onTasks.filter((c) => c.name === 'find');
    expect(finds).to.have.length(50);
    expect(await cursorOf(TYPE)).to.equal(start + 50 * HOUR_MS);
  });
});
