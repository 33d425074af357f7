import { expect } from 'chai';
import { TASK_STATUSES, type Stats, type Task, type TaskStoreClient } from '@tasks/contracts';
import type { Db } from 'mongodb';
import { rejectsWith } from '../support/expect-store-error.js';
import { noopType, startStore, type StoreFixture } from '@tasks/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A short retention and a quick sweeper, so that tests see removals within a few passes. */
const QUICK = { TASK_RETENTION_SECONDS: '1', RETENTION_SWEEP_INTERVAL_MS: '150' };

const keptType = { ...noopType, type: 'test.kept' };

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`gave up waiting: ${what}`);
    await sleep(100);
  }
}

const exists = async (client: TaskStoreClient, id: string) =>
  client.call('tasks.get', { id }).then(
    () => true,
    (err: { type?: string }) => {
      if (err.type === 'TASK_NOT_FOUND') return false;
      throw err;
    },
  );

/** Waits until each of these tasks answers TASK_NOT_FOUND. */
const gone = (client: TaskStoreClient, ids: string[]) =>
  until(`${ids.length} tasks removed`, async () => {
    for (const id of ids) if (await exists(client, id)) return undefined;
    return true;
  });

/**
 * Returns once a whole sweeper pass has run after the call: a task finished now has been removed,
 * and a pass visits every type. (Everything finished earlier was past its retention in that pass.)
 */
async function aPassLater(client: TaskStoreClient): Promise<void> {
  const sentinel = await taskIn(client, 'cancelled');
  await sleep(1_000); // the retention, before which no pass may remove the sentinel
  await gone(client, [sentinel.id]);
}

/** byStatus / byType from the task documents themselves. */
async function bruteForce(db: Db): Promise<Pick<Stats, 'byStatus' | 'byType'>> {
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Stats['byStatus'];
  const byType: Stats['byType'] = {};
  for (const t of await db.collection('tasks').find({}).toArray()) {
    const status = t.status as keyof Stats['byStatus'];
    byStatus[status] += 1;
    const row = (byType[t.type as string] ??= {});
    row[status] = (row[status] ?? 0) + 1;
  }
  return { byStatus, byType };
}

async function expectExactCounts(f: StoreFixture): Promise<void> {
  await until('stats equal to a count of the documents', async () => {
    const [s, want] = [await f.client.call('tasks.stats', {}), await bruteForce(f.db)];
    try {
      expect({ byStatus: s.byStatus, byType: s.byType }).to.deep.equal(want);
      return true;
    } catch {
      return undefined;
    }
  });
}

/** One task of `type` brought to `status` (queued and running included). */
async function taskIn(client: TaskStoreClient, status: Task['status'], type = 'test.noop'): Promise<Task> {
  const t = (await client.call('tasks.create', { type, payload: {} })).task;
  if (status === 'queued') return t;
  if (status === 'cancelled') return client.call('tasks.cancel', { id: t.id });
  const claimed = await client.call('tasks.claim', { id: t.id, workerId: 'w', leaseMs: 600_000 });
  if (status === 'running') return claimed;
  const lease = claimed.leaseId!;
  if (status === 'succeeded')
    return client.call('tasks.complete', { id: t.id, leaseId: lease, result: { ok: true } });
  return client.call('tasks.fail', {
    id: t.id,
    leaseId: lease,
    error: { code: 'X', message: 'no', retryable: false },
  });
}

describe('retention: finished tasks removed after their type’s retention (task-store-service)', function () {
  this.timeout(60_000);
  let f: StoreFixture;

  afterEach(() => f?.close());

  it('when finished tasks pass their retention, then they are removed (404) and queued or running ones never are', async () => {
    f = await startStore(QUICK);
    const done = [
      await taskIn(f.client, 'succeeded'),
      await taskIn(f.client, 'failed'),
      await taskIn(f.client, 'cancelled'),
    ];
    const live = [await taskIn(f.client, 'queued'), await taskIn(f.client, 'running')];
    await gone(
      f.client,
      done.map((t) => t.id),
    );
    await rejectsWith(f.client.call('tasks.get', { id: done[0]!.id }), 'TASK_NOT_FOUND');
    await aPassLater(f.client);
    await aPassLater(f.client);
    for (const t of live) expect(await exists(f.client, t.id)).to.equal(true);
    const listed = await f.client.call('tasks.list', { limit: 50 });
    expect(listed.items.map((t) => t.id).sort()).to.deep.equal(live.map((t) => t.id).sort());
    await expectExactCounts(f);
    // After a recount too: the removed tasks are neither counted nor subtracted twice.
    await f.client.call('tasks.recount', {});
    await expectExactCounts(f);
    const stats = await f.client.call('tasks.stats', {});
    expect(stats.byStatus).to.include({ queued: 1, running: 1, succeeded: 0, failed: 0, cancelled: 0 });
  });

  it('when a type has its own retention, then it applies to that type and the default to the others', async () => {
    f = await startStore(QUICK);
    await f.client.call('taskTypes.register', { workerId: 'w', types: [keptType] });
    const s = await f.client.call('taskTypes.updateSettings', { type: 'test.kept', retentionSeconds: 3600 });
    expect(s.settings).to.include({ retentionSeconds: 3600 });
    expect(s.settings.retention).to.deep.equal({ seconds: 3600, source: 'type' });
    expect((await f.client.call('taskTypes.getSettings', { type: 'test.noop' })).retention).to.deep.equal({
      seconds: 1,
      source: 'default',
    });
    const list = await f.client.call('taskTypes.list', {});
    expect(list.retention).to.deep.equal({ defaultSeconds: 1, idempotencyKeyTtlSeconds: 86_400 });
    expect(list.items.find((t) => t.type === 'test.kept')).to.include({ retentionSeconds: 3600 });

    const kept = await taskIn(f.client, 'succeeded', 'test.kept');
    const removed = await taskIn(f.client, 'succeeded');
    await gone(f.client, [removed.id]);
    await aPassLater(f.client);
    expect(await exists(f.client, kept.id)).to.equal(true);

    // Back to the default (null): now it goes too.
    const back = await f.client.call('taskTypes.updateSettings', {
      type: 'test.kept',
      retentionSeconds: null,
    });
    expect(back.settings.retention).to.deep.equal({ seconds: 1, source: 'default' });
    await gone(f.client, [kept.id]);
    await expectExactCounts(f);
  });

  it('when the default is long and a type’s retention short, then only that type’s tasks go', async () => {
    f = await startStore({ TASK_RETENTION_SECONDS: '3600', RETENTION_SWEEP_INTERVAL_MS: '150' });
    await f.client.call('taskTypes.register', { workerId: 'w', types: [keptType] });
    await f.client.call('taskTypes.updateSettings', { type: 'test.noop', retentionSeconds: 1 });
    const removed = await taskIn(f.client, 'failed');
    const kept = await taskIn(f.client, 'failed', 'test.kept');
    await gone(f.client, [removed.id]);
    await aPassLater(f.client);
    expect(await exists(f.client, kept.id)).to.equal(true);
  });

  it('when a removal stopped after taking its task’s fence (a killed store), then a later pass removes the task', async () => {
    f = await startStore({ RETENTION_SWEEP_INTERVAL_MS: '150' });
    const t = await taskIn(f.client, 'cancelled');
    // As a pass killed between its fence and its delete left it.
    await f.db.collection<{ _id: string; [field: string]: unknown }>('task_fences').insertOne({
      _id: `${t.id}:${t.version}`,
      taskId: t.id,
      version: t.version,
      set: { finishedHour: null },
      at: new Date(),
      removal: true,
    });
    await f.client.call('taskTypes.updateSettings', { type: 'test.noop', retentionSeconds: 1 });
    await gone(f.client, [t.id]);
    await expectExactCounts(f);
  });

  it('when tasks finished before finishedHour existed (an upgraded database), then they are removed too', async () => {
    const old = await startStore({ RETENTION_SWEEP_INTERVAL_MS: '3600000' });
    const t = await taskIn(old.client, 'failed');
    const live = await taskIn(old.client, 'queued');
    await old.db.collection<{ _id: string }>('tasks').updateMany({}, { $unset: { finishedHour: '' } });
    // Nor had it the marker that the store writes at start-up on a database without tasks.
    await old.db.collection<{ _id: string }>('retention_cursors').deleteMany({});
    await old.stop();
    f = await startStore(QUICK, { dbName: old.db.databaseName });
    try {
      await gone(f.client, [t.id]);
      await aPassLater(f.client);
      expect(await exists(f.client, live.id)).to.equal(true);
      await expectExactCounts(f);
    } finally {
      await f.close();
      await old.close().catch(() => undefined);
    }
  });

  it('when a retention is out of bounds or not whole seconds, then VALIDATION_FAILED and nothing changes', async () => {
    f = await startStore();
    for (const retentionSeconds of [0, -5, 1.5, 315_360_001])
      await rejectsWith(
        f.client.call('taskTypes.updateSettings', { type: 'test.noop', retentionSeconds }),
        'VALIDATION_FAILED',
      );
    await rejectsWith(
      f.client.call('taskTypes.updateSettings', { type: 'no.such.type', retentionSeconds: 60 }),
      'TASK_TYPE_NOT_FOUND',
    );
    expect(await f.db.collection('task_type_settings').countDocuments()).to.equal(0);
  });

  it('when retries race the sweeper, then every retried task lives on queued and the others are removed', async () => {
    f = await startStore(QUICK);
    const n = 40;
    const failed: Task[] = [];
    for (let i = 0; i < n; i++) failed.push(await taskIn(f.client, i % 2 ? 'failed' : 'cancelled'));
    // Into the sweeper's window: retention is 1 s, passes every 150 ms.
    await sleep(900);
    const outcomes = await Promise.all(
      failed.map((t) =>
        f.client.call('tasks.retry', { id: t.id }).then(
          (r) => ({ id: t.id, retried: r.status === 'queued' }),
          (err: { type?: string }) => {
            if (err.type === 'TASK_NOT_FOUND') return { id: t.id, retried: false };
            throw err;
          },
        ),
      ),
    );
    const retried = outcomes.filter((o) => o.retried).map((o) => o.id);
    const lost = outcomes.filter((o) => !o.retried).map((o) => o.id);
    await gone(f.client, lost);
    await aPassLater(f.client);
    for (const id of retried) {
      const t = await f.client.call('tasks.get', { id });
      expect(t.status).to.equal('queued');
    }
    expect(retried.length + lost.length).to.equal(n);
    await expectExactCounts(f);
  });

  it('when a task was created with an idempotency key, then it is kept until the key expires, and the key goes with it', async () => {
    f = await startStore({ ...QUICK, IDEMPOTENCY_KEY_TTL_SECONDS: '6' });
    const t = (await f.client.call('tasks.create', { type: 'test.noop', payload: {}, idempotencyKey: 'k-1' }))
      .task;
    const plain = await taskIn(f.client, 'cancelled');
    await f.client.call('tasks.cancel', { id: t.id });
    await gone(f.client, [plain.id]);
    expect(await exists(f.client, t.id)).to.equal(true);
    await gone(f.client, [t.id]);
    await until('the key removed', async () =>
      (await f.db.collection('task_idempotency').countDocuments()) === 0 ? true : undefined,
    );
    // The key is free again: the same key and body create a new task.
    const again = await f.client.call('tasks.create', {
      type: 'test.noop',
      payload: {},
      idempotencyKey: 'k-1',
    });
    expect(again.created).to.equal(true);
    expect(again.task.id).to.not.equal(t.id);
    await expectExactCounts(f);
  });

  it('when an idempotency key is older than its window, then it is treated as absent before the sweeper gets to it', async () => {
    // A sweeper that does not come by during the test: the lookup alone must honour the window.
    f = await startStore({ IDEMPOTENCY_KEY_TTL_SECONDS: '1', RETENTION_SWEEP_INTERVAL_MS: '3600000' });
    const first = await f.client.call('tasks.create', {
      type: 'test.noop',
      payload: { n: 1 },
      idempotencyKey: 'k',
    });
    const repeat = await f.client.call('tasks.create', {
      type: 'test.noop',
      payload: { n: 1 },
      idempotencyKey: 'k',
    });
    expect(repeat).to.include({ created: false });
    expect(repeat.task.id).to.equal(first.task.id);
    await rejectsWith(
      f.client.call('tasks.create', { type: 'test.noop', payload: { n: 2 }, idempotencyKey: 'k' }),
      'IDEMPOTENCY_CONFLICT',
    );
    await sleep(1_100);
    // Expired: another body is no conflict, and concurrent creations with the key make one task.
    const racing = await Promise.all(
      [0, 1, 2, 3].map(() =>
        f.client.call('tasks.create', { type: 'test.noop', payload: { n: 2 }, idempotencyKey: 'k' }),
      ),
    );
    expect(racing.filter((r) => r.created)).to.have.length(1);
    expect(new Set(racing.map((r) => r.task.id)).size).to.equal(1);
    expect(racing[0]!.task.id).to.not.equal(first.task.id);
    // The first task is still there (retention is the default 7 days): only its key was forgotten.
    expect(await exists(f.client, first.task.id)).to.equal(true);
    expect(await f.db.collection('task_idempotency').countDocuments()).to.equal(1);
  });

  it('when flow keys expire, then the same key creates a new flow', async () => {
    f = await startStore({ IDEMPOTENCY_KEY_TTL_SECONDS: '1', RETENTION_SWEEP_INTERVAL_MS: '150' });
    const body = { nodes: [{ key: 'a', type: 'test.noop', payload: {} }], idempotencyKey: 'flow-k' };
    const first = await f.client.call('flows.create', body);
    expect((await f.client.call('flows.create', body)).created).to.equal(false);
    await until('the flow key removed', async () =>
      (await f.db.collection('flow_idempotency').countDocuments()) === 0 ? true : undefined,
    );
    const again = await f.client.call('flows.create', body);
    expect(again.created).to.equal(true);
    expect(again.flow.id).to.not.equal(first.flow.id);
  });

  it('when flow nodes finish, then they are kept with their flow', async () => {
    f = await startStore(QUICK);
    const { flow } = await f.client.call('flows.create', {
      nodes: [{ key: 'a', type: 'test.noop', payload: {} }],
    });
    const node = flow.nodes[0]!;
    await f.client.call('tasks.cancel', { id: node.taskId });
    const plain = await taskIn(f.client, 'cancelled');
    await gone(f.client, [plain.id]);
    await aPassLater(f.client);
    expect(await exists(f.client, node.taskId)).to.equal(true);
  });
});
