/**
 * ensureIndexes against the test run's MongoDB-wire server (FerretDB on PostgreSQL here): the
 * store's secondary indexes are made where the server can use them. FerretDB's SQL cannot use
 * the btree indexes it builds for createIndexes, so there the store keeps none and drops the
 * ones an earlier version made; PostgreSQL's catalog shows what is left on the table.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { MongoClient, type Db } from 'mongodb';
import pg from 'pg';
import { ferretDbTables, prepareDatabase } from '@tasks/dev-mongo';
import { testDatabaseServer, testMongoUrl } from '@tasks/testkit';
import {
  EQUALITY_FILTERED_FIELDS,
  TASK_INDEXES,
  ensureIndexes,
  openCollections,
  type Collections,
} from '../../src/store/collections.js';

describe('store indexes (integration)', function () {
  this.timeout(60_000);
  let mongo: MongoClient;
  let db: Db;
  let collections: Collections;
  let ferretDb: boolean;

  beforeEach(async () => {
    mongo = new MongoClient(testMongoUrl());
    db = mongo.db(`test_${randomUUID().replaceAll('-', '').slice(0, 20)}`);
    collections = openCollections(db);
    const info = await db.command({ buildInfo: 1 });
    ferretDb = typeof info.ferretdbVersion === 'string';
  });
  afterEach(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  const taskIndexNames = async () =>
    (await collections.tasks.listIndexes().toArray()).map((i) => String((i as { name?: unknown }).name));

  it('when the store starts on a new database, then it names the server and keeps only the indexes that server can use', async () => {
    const report = await ensureIndexes(collections, db);
    expect(report.server).to.equal(ferretDb ? 'ferretdb' : 'mongodb');
    expect(report.dropped).to.deep.equal([]);
    if (ferretDb) {
      expect(report.created).to.deep.equal([]);
      // Nothing was made, not even the collection an index would have created.
      expect(await db.listCollections({ name: 'tasks' }).toArray()).to.deep.equal([]);
    } else {
      expect(report.created).to.include('tasks.list_by_status_type');
      expect(await taskIndexNames()).to.include.members(TASK_INDEXES.map((i) => i.name!));
    }
  });

  it('when a database indexed by an earlier version is opened on FerretDB, then the unusable indexes are dropped, once', async function () {
    if (!ferretDb) this.skip();
    // What ensureIndexes made on every server before: the MongoDB indexes, on a table with a task.
    await collections.tasks.createIndexes(TASK_INDEXES);
    await collections.fences.createIndexes([{ key: { at: 1 }, name: 'by_age' }]);
    await collections.tasks.insertOne({ _id: 'kept', status: 'queued' } as never);

    const report = await ensureIndexes(collections, db);
    expect(report.dropped).to.have.members([
      ...TASK_INDEXES.map((i) => `tasks.${i.name!}`),
      'task_fences.by_age',
    ]);
    expect(await taskIndexNames()).to.deep.equal(['_id_']);
    expect(await collections.tasks.countDocuments({ _id: 'kept' })).to.equal(1);

    const again = await ensureIndexes(collections, db);
    expect(again.dropped).to.deep.equal([]);
  });

  it('when prepared and opened on FerretDB on PostgreSQL, then the task table has only its unique _id index and the GIN indexes', async function () {
    const { url, postgresqlUrl } = testDatabaseServer();
    if (!ferretDb || postgresqlUrl === undefined) this.skip();
    await collections.tasks.createIndexes(TASK_INDEXES); // as an earlier version left it
    await prepareDatabase({ url, postgresqlUrl }, db.databaseName, EQUALITY_FILTERED_FIELDS);
    await ensureIndexes(collections, db);

    const sql = new pg.Client({ connectionString: postgresqlUrl });
    await sql.connect();
    try {
      const table = (await ferretDbTables(sql, db.databaseName)).get('tasks')!;
      const { rows } = await sql.query<{ indexname: string; indexdef: string }>(
        'SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2',
        [db.databaseName, table],
      );
      const btree = rows.filter((r) => r.indexdef.includes('USING btree'));
      const gin = rows.filter((r) => r.indexdef.includes('USING gin'));
      // The one btree left is FerretDB's own, the unique index that enforces _id.
      expect(btree.map((r) => r.indexdef)).to.have.length(1);
      expect(btree[0]!.indexdef).to.match(/UNIQUE INDEX .*'_id'/);
      expect(gin).to.have.length(EQUALITY_FILTERED_FIELDS.tasks.length);
    } finally {
      await sql.end();
    }
  });
});
