/**
 * The store remembers the task versions it wrote last and skips reading them back (see
 * src/store/recent-tasks.ts). These tests check that it saves the reads and that a stale
 * memory never decides an outcome.
 */
import { expect } from 'chai';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { TaskStoreClient, type Task } from '@tasks/contracts';
import { createLogger, loadConfig, startStoreService, type StoreService } from '../../src/index.js';
import { openCollections, type Collections } from '../../src/store/collections.js';
import { createTask } from '../../src/store/task-creation.js';
import { claim, complete } from '../../src/store/task-lifecycle.js';
import { TaskTypeRegistry } from '../../src/store/task-type-registry.js';
import { rejectsWith } from '../support/expect-store-error.js';
import { noopType, startStore, type StoreFixture, testMongoUrl } from '@tasks/testkit';

describe('remembered task versions (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  describe('reads', () => {
    let mongo: MongoClient;
    const taskFinds: CommandStartedEvent[] = [];
    beforeEach(async () => {
      mongo = new MongoClient(testMongoUrl(), { monitorCommands: true });
      mongo.on('commandStarted', (e) => {
        if (e.commandName === 'find' && e.command.find === 'tasks') taskFinds.push(e);
      });
      await mongo.connect();
      taskFinds.length = 0;
    });
    afterEach(() => mongo.close());

    const lifecycle = async (collections: Collections, creator: Collections): Promise<number> => {
      const registry = new TaskTypeRegistry(creator);
      const { doc } = await createTask(
        { collections: creator, registry },
        { type: noopType.type, payload: {} },
      );
      taskFinds.length = 0;
      const claimed = await claim(collections, { id: doc._id, workerId: 'w1', leaseMs: 30_000 });
      const done = await complete(collections, {
        id: doc._id,
        leaseId: claimed.leaseId!,
        result: { ok: true },
      });
      expect(done).to.include({ status: 'succeeded', version: 3 });
      const stored = await collections.tasks.findOne({ _id: doc._id });
      expect(stored).to.deep.equal(done);
      return taskFinds.length - 1; // the findOne just above
    };

    it('when the process that created a task claims and completes it, then the task is never read back', async () => {
      const collections = openCollections(mongo.db(f.db.databaseName));
      expect(await lifecycle(collections, collections)).to.equal(0);
    });

    it('when another process created the task, then only the claim reads it', async () => {
      const db = mongo.db(f.db.databaseName);
      expect(await lifecycle(openCollections(db), openCollections(db))).to.equal(1); // complete remembers the claim
    });
  });

  describe('two store replicas on one database', () => {
    let other: StoreService;
    let b: TaskStoreClient;
    beforeEach(async () => {
      const config = loadConfig({
        MONGO_URL: testMongoUrl(),
        MONGO_DB: f.db.databaseName,
        PORT: '0',
      });
      other = await startStoreService(config, createLogger('silent'));
      b = new TaskStoreClient({ url: other.url, retries: 0 });
    });
    afterEach(() => other.close());

    const create = async (): Promise<Task> =>
      (await f.client.call('tasks.create', { type: 'test.noop', payload: {} })).task;

    it('when the other replica claimed a task this one remembers as queued, then a claim here is refused', async () => {
      const t = await create();
      const won = await b.call('tasks.claim', { id: t.id, workerId: 'wb', leaseMs: 30_000 });
      await rejectsWith(
        f.client.call('tasks.claim', { id: t.id, workerId: 'wa', leaseMs: 30_000 }),
        'INVALID_TRANSITION',
      );
      const stored = await f.client.call('tasks.get', { id: t.id });
      expect(stored).to.include({ status: 'running', leaseId: won.leaseId, version: 2 });
    });

    it('when the other replica moved a task on, then a change here applies to the current version', async () => {
      const t = await create();
      await b.call('tasks.claim', { id: t.id, workerId: 'wb', leaseMs: 30_000 });
      const cancelled = await f.client.call('tasks.cancel', { id: t.id, by: 'ops' });
      expect(cancelled).to.include({ status: 'cancelled', version: 3 });
      expect(cancelled.history.map((h) => h.status)).to.deep.equal(['queued', 'running', 'cancelled']);
      expect(await b.call('tasks.get', { id: t.id })).to.deep.equal(cancelled);
    });

    it('when this replica remembers a lease the other replica replaced, then the old lease is refused', async () => {
      const t = await create();
      const first = await f.client.call('tasks.claim', { id: t.id, workerId: 'wa', leaseMs: 30_000 });
      await b.call('tasks.cancel', { id: t.id, by: 'ops' });
      await b.call('tasks.retry', { id: t.id, by: 'ops' });
      const second = await b.call('tasks.claim', { id: t.id, workerId: 'wb', leaseMs: 30_000 });
      await rejectsWith(f.client.call('tasks.complete', { id: t.id, leaseId: first.leaseId! }), 'LEASE_LOST');
      const done = await f.client.call('tasks.complete', { id: t.id, leaseId: second.leaseId! });
      expect(done).to.include({ status: 'succeeded', leaseOwner: null });
      expect(done.history.filter((h) => h.status === 'succeeded')).to.have.length(1);
    });
  });
});
