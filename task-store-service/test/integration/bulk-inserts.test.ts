/**
 * BulkInserts against the real MongoDB-wire server: inserts started together share one command,
 * and each caller gets the outcome its own insertOne would have had.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { isDuplicateKey } from '../../src/app-error.js';
import { BulkInserts } from '../../src/store/bulk-inserts.js';
import { testMongoUrl } from '@tasks/testkit';

interface Doc {
  _id: string;
  n: number;
}

describe('shared inserts (integration)', () => {
  let mongo: MongoClient;
  let db: Db;
  let collection: Collection<Doc>;
  let inserts: number;
  beforeEach(async () => {
    mongo = new MongoClient(testMongoUrl(), { monitorCommands: true });
    inserts = 0;
    mongo.on('commandStarted', (e) => {
      if (e.commandName === 'insert') inserts++;
    });
    db = mongo.db(`test_${randomUUID().replaceAll('-', '').slice(0, 20)}`);
    collection = db.collection<Doc>('docs');
    await collection.insertOne({ _id: 'taken', n: 0 });
    inserts = 0;
  });
  afterEach(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  const settle = (p: Promise<void>) =>
    p.then(
      () => 'ok',
      (err: unknown) => (isDuplicateKey(err) ? 'duplicate' : `error: ${String(err)}`),
    );

  it('when inserts start together, some of them duplicates (of a stored document and of each other), then one command writes them and only the duplicates fail, each as a duplicate key', async () => {
    const bulk = new BulkInserts(collection);
    const outcomes = await Promise.all(
      [
        { _id: 'a', n: 1 },
        { _id: 'taken', n: 1 },
        { _id: 'b', n: 1 },
        { _id: 'a', n: 2 },
      ].map((d) => settle(bulk.insert(d))),
    );
    expect(outcomes).to.deep.equal(['ok', 'duplicate', 'ok', 'duplicate']);
    expect(inserts).to.equal(1);
    const stored = await collection.find().sort({ _id: 1 }).toArray();
    expect(stored).to.deep.equal([
      { _id: 'a', n: 1 },
      { _id: 'b', n: 1 },
      { _id: 'taken', n: 0 },
    ]);
  });

  it('when inserts start in different turns of the event loop, then each goes on its own', async () => {
    const bulk = new BulkInserts(collection);
    expect(await settle(bulk.insert({ _id: 'c', n: 1 }))).to.equal('ok');
    expect(await settle(bulk.insert({ _id: 'c', n: 2 }))).to.equal('duplicate');
    expect(inserts).to.equal(2);
  });
});
