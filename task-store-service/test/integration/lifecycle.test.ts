import { expect } from 'chai';
import { TaskStoreClient, type Task } from '@tasks/contracts';
import { createLogger, loadConfig, startStoreService } from '../../src/index.js';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture, testMongoUrl } from '@tasks/testkit';

describe('task lifecycle (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const create = async (extra: Record<string, unknown> = {}): Promise<Task> =>
    (await f.client.call('tasks.create', { type: 'test.noop', payload: { n: 1 }, ...extra })).task;
  const claim = (id: string, workerId = 'w1') =>
    f.client.call('tasks.claim', { id, workerId, leaseMs: 30_000 });

  it('when a task is created, then it is queued with the type defaults and version 1', async () => {
    const t = await create();
    expect(t).to.include({
      status: 'queued',
      kind: 'io',
      attempts: 0,
      maxAttempts: 2,
      timeoutMs: 5_000,
      version: 1,
    });
    expect(t.payload).to.deep.equal({ n: 1 });
    expect(await f.client.call('tasks.get', { id: t.id })).to.deep.equal(t);
  });

  it('when an unknown id is fetched, then TASK_NOT_FOUND', async () => {
    await rejectsWith(f.client.call('tasks.get', { id: 'does-not-exist' }), 'TASK_NOT_FOUND');
  });

  it('when a task is claimed, completed and completed again, then it succeeds once and the replay returns it', async () => {
    const t = await create();
    const running = await claim(t.id);
    expect(running).to.include({ status: 'running', attempts: 1, leaseOwner: 'w1', version: 2 });
    expect(running.leaseId).to.be.a('string');
    const done = await f.client.call('tasks.complete', {
      id: t.id,
      leaseId: running.leaseId!,
      result: { ok: true },
    });
    expect(done).to.include({ status: 'succeeded', version: 3 });
    expect(done.result).to.deep.equal({ ok: true });
    const replay = await f.client.call('tasks.complete', {
      id: t.id,
      leaseId: running.leaseId!,
      result: { ok: true },
    });
    expect(replay.version).to.equal(3);
    expect(replay.history.map((h) => h.status)).to.deep.equal(['queued', 'running', 'succeeded']);
  });

  it('when a heartbeat carries progress, then the lease is extended and progress stored', async () => {
    const t = await create();
    const running = await claim(t.id);
    const hb = await f.client.call('tasks.heartbeat', {
      id: t.id,
      leaseId: running.leaseId!,
      leaseMs: 60_000,
      progress: 40,
      progressMessage: 'step 2 of 5',
    });
    expect(hb).to.include({ status: 'running', progress: 40, progressMessage: 'step 2 of 5' });
    expect(Date.parse(hb.leaseExpiresAt!)).to.be.greaterThan(Date.parse(running.leaseExpiresAt!));
  });

  it('when a retryable failure has attempts left, then the task is queued again with a later runAt', async () => {
    const t = await create();
    const running = await claim(t.id);
    const failed = await f.client.call('tasks.fail', {
      id: t.id,
      leaseId: running.leaseId!,
      error: { code: 'BOOM', message: 'transient' },
    });
    expect(failed).to.include({ status: 'queued', attempts: 1 });
    expect(failed.error).to.deep.include({ code: 'BOOM' });
    expect(Date.parse(failed.runAt)).to.be.greaterThan(Date.parse(running.updatedAt));
    // Not due yet: the backoff is respected by claim.
    await rejectsWith(claim(t.id), 'TASK_NOT_DUE');
  });

  it('when the last attempt fails, or the error is not retryable, then the task is failed', async () => {
    const a = await create();
    const ra = await claim(a.id);
    const fa = await f.client.call('tasks.fail', {
      id: a.id,
      leaseId: ra.leaseId!,
      error: { code: 'BAD_INPUT', message: 'no', retryable: false },
    });
    expect(fa).to.include({ status: 'failed', attempts: 1 });

    const b = await create({ maxAttempts: 1 });
    const rb = await claim(b.id);
    const fb = await f.client.call('tasks.fail', {
      id: b.id,
      leaseId: rb.leaseId!,
      error: { code: 'X', message: 'y' },
    });
    expect(fb.status).to.equal('failed');
    expect(fb.finishedAt).to.be.a('string');
  });

  it('when a running task is cancelled, then its late result is refused and the status stays cancelled', async () => {
    const t = await create();
    const running = await claim(t.id);
    const cancelled = await f.client.call('tasks.cancel', { id: t.id, by: 'tester', reason: 'not needed' });
    expect(cancelled.status).to.equal('cancelled');
    const err = await rejectsWith(
      f.client.call('tasks.complete', { id: t.id, leaseId: running.leaseId!, result: 1 }),
      'INVALID_TRANSITION',
    );
    expect(err.data?.status).to.equal('cancelled');
    expect((await f.client.call('tasks.get', { id: t.id })).status).to.equal('cancelled');
  });

  it('when a failed task is retried, then it is queued with attempts reset and its history kept', async () => {
    const t = await create({ maxAttempts: 1 });
    const r = await claim(t.id);
    await f.client.call('tasks.fail', { id: t.id, leaseId: r.leaseId!, error: { code: 'X', message: 'y' } });
    const again = await f.client.call('tasks.retry', { id: t.id, by: 'tester' });
    expect(again).to.include({ status: 'queued', attempts: 0 });
    expect(again.history.map((h) => h.status)).to.deep.equal(['queued', 'running', 'failed', 'queued']);
    const r2 = await claim(again.id, 'w2');
    expect(r2).to.include({ attempts: 1, leaseOwner: 'w2' });
    // The first run's lease no longer counts.
    await rejectsWith(
      f.client.call('tasks.complete', { id: t.id, leaseId: r.leaseId!, result: 1 }),
      'LEASE_LOST',
    );
  });

  it('when the holder releases a running task, then it is queued again without counting the attempt', async () => {
    const t = await create();
    const running = await claim(t.id);
    const released = await f.client.call('tasks.release', {
      id: t.id,
      leaseId: running.leaseId!,
      reason: 'shutdown',
    });
    expect(released).to.include({ status: 'queued', attempts: 0, leaseOwner: null });
    const again = await f.client.call('tasks.release', { id: t.id, leaseId: running.leaseId! });
    expect(again.version).to.equal(released.version);
    expect(
      (await f.client.call('tasks.listUnpublished', { olderThanMs: 0 })).items.map((x) => x.id),
    ).to.include(t.id);
    expect((await claim(t.id, 'w2')).attempts).to.equal(1);
  });

  it('when the store restarts on the same database, then it starts and the tasks are still there', async () => {
    const t = await create();
    const again = await startStoreService(
      loadConfig({ MONGO_URL: testMongoUrl(), MONGO_DB: f.db.databaseName, PORT: '0' }),
      createLogger('silent'),
    );
    try {
      const client = new TaskStoreClient({ url: again.url });
      expect((await client.call('tasks.get', { id: t.id })).id).to.equal(t.id);
    } finally {
      await again.close();
    }
  });
});
