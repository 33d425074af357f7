import { expect } from 'chai';
import { isStoreError, type StoreError, type Task } from '@tasks/contracts';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

describe('flow control: pause, limits and deadlines (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const create = async (p: { priority?: number; expiresAt?: string; delayMs?: number } = {}) =>
    (await f.client.call('tasks.create', { type: 'test.noop', payload: { n: 1 }, ...p })).task;
  const claim = (id: string, workerId = 'w1') =>
    f.client.call('tasks.claim', { id, type: 'test.noop', workerId, leaseMs: 30_000 });
  const settings = (change: {
    paused?: boolean;
    concurrency?: number | null;
    ratePerSecond?: number | null;
  }) => f.client.call('taskTypes.updateSettings', { type: 'test.noop', ...change, by: 'test' });
  const complete = (t: Task) => f.client.call('tasks.complete', { id: t.id, leaseId: t.leaseId! });

  it('when a type is paused, then a claim holds its task without an attempt, and resuming releases it', async () => {
    const t = await create();
    const s = await settings({ paused: true });
    expect(s.settings).to.include({ type: 'test.noop', paused: true, concurrency: null, updatedBy: 'test' });
    const err = await rejectsWith(claim(t.id), 'TASK_HELD');
    expect(err.data).to.include({ reason: 'paused' });
    const held = await f.client.call('tasks.get', { id: t.id });
    expect(held).to.include({ status: 'queued', attempts: 0, heldBy: 'paused' });
    const types = await f.client.call('taskTypes.list', {});
    expect(types.items.find((x) => x.type === 'test.noop')).to.include({ paused: true });

    const resumed = await settings({ paused: false });
    expect(resumed.released.map((r) => r.id)).to.deep.equal([t.id]);
    expect(resumed.released[0]).to.not.have.property('heldBy');
    const running = await claim(t.id);
    expect(running).to.include({ status: 'running', attempts: 1 });
  });

  it('when a task is held, then the reconciler’s stale list leaves it out (it has no message by design)', async () => {
    const held = await create();
    const loose = await create();
    await settings({ paused: true });
    await rejectsWith(claim(held.id), 'TASK_HELD');
    await new Promise((r) => setTimeout(r, 20));
    const stale = await f.client.call('tasks.listStale', { type: 'test.noop', olderThanMs: 0 });
    expect(stale.items.map((t) => t.id)).to.deep.equal([loose.id]);
  });

  it('when the concurrency limit is reached, then the next claim is held and a finished run releases the most urgent', async () => {
    await settings({ concurrency: 1 });
    const first = await create();
    const low = await create({ priority: 1 });
    const high = await create({ priority: 5 });
    const running = await claim(first.id);
    await rejectsWith(claim(low.id, 'w2'), 'TASK_HELD');
    await rejectsWith(claim(high.id, 'w2'), 'TASK_HELD');
    const done = await complete(running);
    expect((done.dependents ?? []).map((d) => d.id)).to.deep.equal([high.id]);
    const next = await claim(high.id, 'w2');
    expect(next.status).to.equal('running');
    // Still one running: the other stays held until this one ends.
    expect((await f.client.call('tasks.get', { id: low.id })).heldBy).to.equal('concurrency');
    const after = await complete(next);
    expect((after.dependents ?? []).map((d) => d.id)).to.deep.equal([low.id]);
  });

  it('when the most urgent held task was cancelled meanwhile, then a freed slot goes to the next one', async () => {
    await settings({ concurrency: 1 });
    const running = await claim((await create()).id);
    const gone = await create({ priority: 9 });
    const next = await create({ priority: 1 });
    await rejectsWith(claim(gone.id, 'w2'), 'TASK_HELD');
    await rejectsWith(claim(next.id, 'w2'), 'TASK_HELD');
    await f.client.call('tasks.cancel', { id: gone.id });
    const done = await complete(running);
    expect((done.dependents ?? []).map((d) => d.id)).to.deep.equal([next.id]);
  });

  it('when a claim of a granted lease is repeated, then it keeps its slot instead of taking another', async () => {
    await settings({ concurrency: 1 });
    const t = await create();
    const p = { id: t.id, type: 'test.noop', workerId: 'w1', leaseMs: 30_000, leaseId: 'lease-1' };
    await f.client.call('tasks.claim', p);
    const again = await f.client.call('tasks.claim', p);
    expect(again).to.include({ status: 'running', attempts: 1, leaseId: 'lease-1' });
    expect(await f.db.collection('task_type_slots').countDocuments({ type: 'test.noop' })).to.equal(1);
  });

  it('when claims exceed the rate, then the first burst starts and the rest get spaced start times', async () => {
    await settings({ ratePerSecond: 2 });
    const tasks = await Promise.all([1, 2, 3, 4].map(() => create()));
    const outcomes: (string | number)[] = [];
    const first = Date.now();
    for (const t of tasks) {
      const answer = await claim(t.id).then(
        () => null,
        (err: unknown) => err,
      );
      if (answer === null) outcomes.push('started');
      else {
        expect(isStoreError(answer, 'TASK_NOT_DUE')).to.equal(true);
        outcomes.push(Date.parse(String((answer as StoreError).data?.runAt)));
      }
    }
    // A burst of ceil(2) = 2 at most, then one start every 500 ms. Start times lie on a 500-ms
    // grid: each grid line the claims took to cross made one more start time due by then.
    const crossed = Math.floor(Date.now() / 500) - Math.floor(first / 500);
    const started = outcomes.filter((o) => o === 'started').length;
    expect(started).to.be.within(1, 2 + crossed);
    const later = outcomes.filter((o): o is number => typeof o === 'number');
    expect(later).to.have.length(4 - started);
    for (let i = 1; i < later.length; i++) expect(later[i]! - later[i - 1]!).to.be.within(499, 501);
    // The given start time is kept: claimed then, it starts without another.
    const waiting = await f.client.call('tasks.get', { id: tasks[3]!.id });
    expect(Date.parse(waiting.runAt)).to.equal(later[later.length - 1]);
  });

  it('when a task is not started by its expiresAt, then a claim ends it failed with EXPIRED', async () => {
    const t = await create({ expiresAt: new Date(Date.now() + 300).toISOString() });
    expect(t.expiresAt).to.be.a('string');
    await new Promise((r) => setTimeout(r, 400));
    const err = await rejectsWith(claim(t.id), 'TASK_EXPIRED');
    expect(err.data?.task).to.include({ id: t.id, status: 'failed' });
    const ended = await f.client.call('tasks.get', { id: t.id });
    expect(ended).to.include({ status: 'failed', attempts: 0 });
    expect(ended.error).to.include({ code: 'EXPIRED', retryable: false });
  });

  it('when tasks are overdue, then the sweep ends exactly those, once', async () => {
    const soon = await create({ expiresAt: new Date(Date.now() + 200).toISOString() });
    const later = await create({ expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const none = await create();
    await new Promise((r) => setTimeout(r, 300));
    const swept = await f.client.call('tasks.expireOverdue', {});
    expect(swept.items.map((t) => t.id)).to.deep.equal([soon.id]);
    expect((await f.client.call('tasks.expireOverdue', {})).items).to.deep.equal([]);
    for (const t of [later, none])
      expect((await f.client.call('tasks.get', { id: t.id })).status).to.equal('queued');
  });

  it('when expiresAt is past or before the task is due, or a limit is out of range, then nothing is written', async () => {
    const past = await rejectsWith(
      f.client.call('tasks.create', {
        type: 'test.noop',
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      }),
      'VALIDATION_FAILED',
    );
    expect(past.data?.fields).to.deep.equal([{ path: '/expiresAt', message: 'must lie in the future' }]);
    await rejectsWith(
      f.client.call('tasks.create', {
        type: 'test.noop',
        delayMs: 60_000,
        expiresAt: new Date(Date.now() + 30_000).toISOString(),
      }),
      'VALIDATION_FAILED',
    );
    await rejectsWith(settings({ concurrency: 0 }), 'VALIDATION_FAILED');
    await rejectsWith(settings({ ratePerSecond: -1 }), 'VALIDATION_FAILED');
    await rejectsWith(
      f.client.call('taskTypes.updateSettings', { type: 'no.such.type', paused: true }),
      'TASK_TYPE_NOT_FOUND',
    );
    expect(await f.db.collection('tasks').countDocuments()).to.equal(0);
    expect(await f.db.collection('task_type_settings').countDocuments()).to.equal(0);
  });

  it('when a slot outlives its lease (a store died mid-claim), then the type keeper frees it and releases the held task', async () => {
    await settings({ concurrency: 1 });
    const t = await create();
    // As a claim that died after taking its slot: the slot is there, the task never started.
    await f.db
      .collection<{ _id: string; type: string; taskId: string; leaseId: string; at: Date }>('task_type_slots')
      .insertOne({
        _id: 'test.noop#0',
        type: 'test.noop',
        taskId: 'gone',
        leaseId: 'x',
        at: new Date(Date.now() - 60_000),
      });
    await rejectsWith(claim(t.id), 'TASK_HELD');
    await f.db
      .collection('task_holds')
      .updateOne({ _id: t.id as never }, { $set: { at: new Date(Date.now() - 60_000) } });
    const deadline = Date.now() + 10_000;
    while ((await f.client.call('tasks.get', { id: t.id })).heldBy && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect((await f.client.call('tasks.get', { id: t.id })).heldBy).to.equal(undefined);
    expect(await f.db.collection('task_holds').countDocuments()).to.equal(0);
    expect((await claim(t.id)).status).to.equal('running');
  });
});
