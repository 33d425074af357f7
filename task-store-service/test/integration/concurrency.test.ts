import { expect } from 'chai';
import { isStoreError, type Task } from '@tasks/contracts';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

describe('concurrency and leases (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const create = async (extra: Record<string, unknown> = {}): Promise<Task> =>
    (await f.client.call('tasks.create', { type: 'test.noop', payload: {}, ...extra })).task;

  it('when 20 workers claim one task at once, then exactly one wins and the others get INVALID_TRANSITION', async () => {
    const t = await create();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        f.client.call('tasks.claim', { id: t.id, workerId: `w${i}`, leaseMs: 30_000 }),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won).to.have.length(1);
    for (const o of lost) {
      expect(isStoreError(o.reason) && o.reason.type, String(o.reason)).to.equal('INVALID_TRANSITION');
    }
    const stored = await f.client.call('tasks.get', { id: t.id });
    const winner = (won[0] as PromiseFulfilledResult<Task>).value;
    expect(stored).to.include({
      status: 'running',
      attempts: 1,
      leaseOwner: winner.leaseOwner,
      leaseId: winner.leaseId,
    });
    expect(stored.history.filter((h) => h.status === 'running')).to.have.length(1);
  });

  it('when many tasks are claimed, completed and cancelled at once, then every change lands exactly once', async () => {
    const tasks = await Promise.all(Array.from({ length: 15 }, () => create()));
    const results = await Promise.allSettled(
      tasks.map(async (t, i) => {
        const [a, b] = await Promise.allSettled([
          f.client.call('tasks.claim', { id: t.id, workerId: `w${i}`, leaseMs: 30_000 }),
          f.client.call('tasks.cancel', { id: t.id, by: 'racer' }),
        ]);
        if (a.status === 'fulfilled') {
          // Either the cancel came first (claim lost) or after (complete refused), never both applied.
          return Promise.allSettled([
            f.client.call('tasks.complete', { id: t.id, leaseId: a.value.leaseId!, result: i }),
          ]).then(([c]) => ({ claim: a, cancel: b, complete: c }));
        }
        return { claim: a, cancel: b, complete: undefined };
      }),
    );
    for (const [i, r] of results.entries()) {
      expect(r.status).to.equal('fulfilled');
      const stored = await f.client.call('tasks.get', { id: tasks[i]!.id });
      const statuses = stored.history.map((h) => h.status);
      expect(
        statuses.filter((s) => s === 'cancelled').length + statuses.filter((s) => s === 'succeeded').length,
      ).to.equal(1);
      expect(stored.version).to.equal(stored.history.length);
    }
  });

  it('when a lease expires and another worker re-claims, then the first worker’s late complete is refused', async () => {
    const t = await create();
    const first = await f.client.call('tasks.claim', { id: t.id, workerId: 'slow', leaseMs: 1_000 });
    await new Promise((r) => setTimeout(r, 1_100));
    const second = await f.client.call('tasks.claim', { id: t.id, workerId: 'fast', leaseMs: 30_000 });
    expect(second).to.include({ attempts: 2, leaseOwner: 'fast' });
    await rejectsWith(
      f.client.call('tasks.complete', { id: t.id, leaseId: first.leaseId!, result: 'late' }),
      'LEASE_LOST',
    );
    await rejectsWith(
      f.client.call('tasks.heartbeat', { id: t.id, leaseId: first.leaseId!, leaseMs: 5_000 }),
      'LEASE_LOST',
    );
    const done = await f.client.call('tasks.complete', { id: t.id, leaseId: second.leaseId!, result: 'ok' });
    expect(done).to.include({ status: 'succeeded', result: 'ok' });
  });

  it('when a live lease is claimed again, then INVALID_TRANSITION names the current status', async () => {
    const t = await create();
    await f.client.call('tasks.claim', { id: t.id, workerId: 'a', leaseMs: 30_000 });
    const err = await rejectsWith(
      f.client.call('tasks.claim', { id: t.id, workerId: 'b', leaseMs: 30_000 }),
      'INVALID_TRANSITION',
    );
    expect(err.data?.status).to.equal('running');
  });

  it('when leases expire, then requeueExpired re-queues tasks with attempts left and fails the rest', async () => {
    const again = await create({ maxAttempts: 2 });
    const last = await create({ maxAttempts: 1 });
    await f.client.call('tasks.claim', { id: again.id, workerId: 'gone', leaseMs: 1_000 });
    await f.client.call('tasks.claim', { id: last.id, workerId: 'gone', leaseMs: 1_000 });
    await new Promise((r) => setTimeout(r, 1_100));
    const expired = await f.client.call('tasks.listExpiredLeases', {});
    expect(expired.items.map((t) => t.id)).to.have.members([again.id, last.id]);
    const { items } = await f.client.call('tasks.requeueExpired', { by: 'sweeper' });
    const byId = new Map(items.map((t) => [t.id, t]));
    expect(byId.get(again.id)).to.include({ status: 'queued' });
    expect(byId.get(last.id)).to.include({ status: 'failed' });
    expect(byId.get(last.id)!.error).to.deep.include({ code: 'LEASE_EXPIRED' });
    // Re-queued versions need publishing again.
    const unpublished = await f.client.call('tasks.listUnpublished', { olderThanMs: 0 });
    expect(unpublished.items.map((t) => t.id)).to.include(again.id);
    // A second sweep finds nothing.
    expect((await f.client.call('tasks.requeueExpired', {})).items).to.have.length(0);
  });

  it('when a writer died holding a fence, then the next change finishes its write and goes on', async function () {
    this.timeout(20_000);
    const t = await create();
    // Simulate a store that crashed after taking the fence for version 1 (a claim) but before writing.
    const at = new Date(Date.now() - 60_000);
    await f.db.collection('task_fences').insertOne({
      _id: `${t.id}:1` as never,
      taskId: t.id,
      version: 1,
      at,
      set: { status: 'cancelled', version: 2, updatedAt: at, finishedAt: at },
    });
    const err = await rejectsWith(
      f.client.call('tasks.claim', { id: t.id, workerId: 'w', leaseMs: 30_000 }),
      'INVALID_TRANSITION',
    );
    expect(err.data?.status).to.equal('cancelled');
    expect(await f.client.call('tasks.get', { id: t.id })).to.include({ status: 'cancelled', version: 2 });
  });

  it('when a writer whose clock ran an hour ahead died holding a fence, then the next change still finishes its write', async function () {
    this.timeout(20_000);
    const t = await create();
    // Judged by fence.at against this replica's clock, this fence would look fresh for an hour (BUSY).
    const at = new Date(Date.now() + 3_600_000);
    await f.db.collection('task_fences').insertOne({
      _id: `${t.id}:1` as never,
      taskId: t.id,
      version: 1,
      at,
      set: { status: 'cancelled', version: 2, updatedAt: at, finishedAt: at },
    });
    const err = await rejectsWith(
      f.client.call('tasks.claim', { id: t.id, workerId: 'w', leaseMs: 30_000 }),
      'INVALID_TRANSITION',
    );
    expect(err.data?.status).to.equal('cancelled');
  });

  it('when an abandoned fence would put a task back in queued, then rolling it forward also writes its outbox entry', async function () {
    this.timeout(20_000);
    const t = await create({ maxAttempts: 1 });
    const r = await f.client.call('tasks.claim', { id: t.id, workerId: 'w', leaseMs: 30_000 });
    const failed = await f.client.call('tasks.fail', {
      id: t.id,
      leaseId: r.leaseId!,
      error: { code: 'X', message: 'y' },
    });
    await f.client.call('tasks.markPublished', { tasks: [{ id: t.id, version: 1 }] });
    // A store died after taking the fence of a manual retry, before writing the outbox entry and the task.
    const at = new Date(Date.now() - 60_000);
    await f.db.collection('task_fences').insertOne({
      _id: `${t.id}:${failed.version}` as never,
      taskId: t.id,
      version: failed.version,
      at,
      set: { status: 'queued', attempts: 0, version: failed.version + 1, updatedAt: at },
    });
    await rejectsWith(f.client.call('tasks.retry', { id: t.id }), 'INVALID_TRANSITION');
    const unpublished = await f.client.call('tasks.listUnpublished', { olderThanMs: 0 });
    expect(unpublished.items.map((x) => x.id)).to.include(t.id);
  });

  it('when a date is a leap second JavaScript cannot represent, then VALIDATION_FAILED and nothing is written', async () => {
    await rejectsWith(
      f.client.call('tasks.create', { type: 'test.noop', runAt: '2030-06-30T23:59:60Z' }),
      'VALIDATION_FAILED',
    );
    expect(await f.db.collection('tasks').countDocuments()).to.equal(0);
  });
});
