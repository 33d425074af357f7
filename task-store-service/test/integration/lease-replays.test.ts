import { expect } from 'chai';
import type { Task } from '@tasks/contracts';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

/**
 * complete / fail / release repeated with a lease that has ended: the store answers success only
 * when this very lease ended by this very call (a replay), and INVALID_TRANSITION (the task no longer runs under it) when it ended otherwise.
 */
describe('lease replays (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const failure = { code: 'BOOM', message: 'it broke', retryable: true };

  const running = async (leaseMs = 30_000): Promise<Task> => {
    const t = (await f.client.call('tasks.create', { type: 'test.noop', payload: {}, maxAttempts: 3 })).task;
    return f.client.call('tasks.claim', { id: t.id, workerId: 'w1', leaseMs });
  };

  /** A running task whose lease expired and which the sweeper put back in the queue. */
  const requeuedByExpiry = async (): Promise<Task> => {
    const t = await running(1_000);
    await new Promise((r) => setTimeout(r, 1_100)); // let the shortest lease the schema allows expire
    const { items } = await f.client.call('tasks.requeueExpired', { by: 'sweeper' });
    expect(items.map((i) => i.id)).to.include(t.id);
    return t;
  };

  it('when a fail comes with a lease that expiry already requeued, then INVALID_TRANSITION and nothing is recorded', async () => {
    const t = await requeuedByExpiry();
    const before = await f.client.call('tasks.get', { id: t.id });
    const err = await rejectsWith(
      f.client.call('tasks.fail', { id: t.id, leaseId: t.leaseId!, error: failure }),
      'INVALID_TRANSITION',
    );
    expect(err.data?.status).to.equal('queued');
    const after = await f.client.call('tasks.get', { id: t.id });
    expect(after.version).to.equal(before.version);
    expect(after.error).to.deep.include({ code: 'LEASE_EXPIRED' });
  });

  it('when a complete comes with a lease that expiry already requeued, then INVALID_TRANSITION', async () => {
    const t = await requeuedByExpiry();
    await rejectsWith(
      f.client.call('tasks.complete', { id: t.id, leaseId: t.leaseId!, result: 1 }),
      'INVALID_TRANSITION',
    );
    expect((await f.client.call('tasks.get', { id: t.id })).status).to.equal('queued');
  });

  it('when a release comes with a lease that expiry already requeued, then INVALID_TRANSITION', async () => {
    const t = await requeuedByExpiry();
    await rejectsWith(
      f.client.call('tasks.release', { id: t.id, leaseId: t.leaseId! }),
      'INVALID_TRANSITION',
    );
  });

  it('when a recorded fail is repeated with its lease, then the replay answers the recorded task unchanged', async () => {
    const t = await running();
    const failed = await f.client.call('tasks.fail', { id: t.id, leaseId: t.leaseId!, error: failure });
    expect(failed.status).to.equal('queued');
    const replay = await f.client.call('tasks.fail', { id: t.id, leaseId: t.leaseId!, error: failure });
    expect(replay.version).to.equal(failed.version);
    expect(replay.error).to.deep.include({ code: 'BOOM' });
  });

  it('when a released lease is used to fail or complete, then INVALID_TRANSITION, and a repeated release is a replay', async () => {
    const t = await running();
    const released = await f.client.call('tasks.release', { id: t.id, leaseId: t.leaseId! });
    await rejectsWith(
      f.client.call('tasks.fail', { id: t.id, leaseId: t.leaseId!, error: failure }),
      'INVALID_TRANSITION',
    );
    await rejectsWith(
      f.client.call('tasks.complete', { id: t.id, leaseId: t.leaseId! }),
      'INVALID_TRANSITION',
    );
    const again = await f.client.call('tasks.release', { id: t.id, leaseId: t.leaseId! });
    expect(again.version).to.equal(released.version);
  });

  it('when a failed lease is used to release, then INVALID_TRANSITION (the failure stands)', async () => {
    const t = await running();
    await f.client.call('tasks.fail', { id: t.id, leaseId: t.leaseId!, error: failure });
    await rejectsWith(
      f.client.call('tasks.release', { id: t.id, leaseId: t.leaseId! }),
      'INVALID_TRANSITION',
    );
    expect((await f.client.call('tasks.get', { id: t.id })).attempts).to.equal(1);
  });

  it('when the running task was cancelled, then its holder’s fail is INVALID_TRANSITION (it was cancelled)', async () => {
    const t = await running();
    await f.client.call('tasks.cancel', { id: t.id });
    const err = await rejectsWith(
      f.client.call('tasks.fail', { id: t.id, leaseId: t.leaseId!, error: failure }),
      'INVALID_TRANSITION',
    );
    expect(err.data?.status).to.equal('cancelled');
  });
});
