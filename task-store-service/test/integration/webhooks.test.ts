import { expect } from 'chai';
import type { Task, WebhookDelivery } from '@tasks/contracts';
import { openCollections } from '../../src/store/collections.js';
import { deleteDeliveriesOf } from '../../src/store/webhooks.js';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

const URL_OK = 'http://127.0.0.1:9/hook?x=1';

describe('webhook deliveries (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => {
    f = await startStore({ WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_RETRY_BASE_MS: '60000' });
  });
  afterEach(() => f.close());

  const create = async (extra: Record<string, unknown> = {}): Promise<Task> =>
    (await f.client.call('tasks.create', { type: 'test.noop', webhook: { url: URL_OK }, ...extra })).task;
  const run = async (id: string, replays = 0): Promise<Task> => {
    const running = await f.client.call('tasks.claim', { id, workerId: 'w1', leaseMs: 30_000 });
    const call = () => f.client.call('tasks.complete', { id, leaseId: running.leaseId!, result: { ok: 1 } });
    const done = await call();
    for (let i = 0; i < replays; i++) await call();
    return done;
  };
  const list = async (taskId: string): Promise<WebhookDelivery[]> =>
    (await f.client.call('webhooks.list', { taskId })).items;
  const claimDue = async (limit = 10) =>
    (await f.client.call('webhooks.claimDue', { owner: 'sender-1', limit, leaseMs: 30_000 })).items;
  /** Moves a delivery's next attempt to now (what the backoff would do after its delay). */
  const makeDue = (id: string) =>
    f.db
      .collection('webhook_deliveries')
      .updateOne({ _id: id as never }, { $set: { nextAttemptAt: new Date() } });

  it('when a task with a webhook succeeds, then its reads show the webhook and exactly one delivery holds the task at that version', async () => {
    const t = await create();
    expect(t.webhook).to.deep.equal({ url: URL_OK });
    // Replays of the complete write nothing more.
    const done = await run(t.id, 2);
    const items = await list(t.id);
    expect(items).to.have.length(1);
    expect(items[0]).to.include({
      id: `${t.id}:${done.version}`,
      taskId: t.id,
      version: done.version,
      url: URL_OK,
      status: 'succeeded',
      state: 'pending',
      attempts: 0,
      maxAttempts: 3,
    });
    const [send] = await claimDue();
    expect(send!.id).to.equal(`${t.id}:${done.version}`);
    // The task as REST shows it: without the lease token.
    const { leaseId, ...shown } = done;
    expect(leaseId).to.be.a('string');
    expect(JSON.parse(send!.body)).to.deep.equal(shown);
    expect((await f.client.call('tasks.get', { id: t.id })).webhook).to.deep.equal({ url: URL_OK });
  });

  it('when a task without a webhook ends, or one with a webhook is only claimed, then no delivery is written', async () => {
    const plain = (await f.client.call('tasks.create', { type: 'test.noop' })).task;
    await run(plain.id);
    const hooked = await create();
    await f.client.call('tasks.claim', { id: hooked.id, workerId: 'w1', leaseMs: 30_000 });
    expect(await list(plain.id)).to.deep.equal([]);
    expect(await list(hooked.id)).to.deep.equal([]);
    expect(await claimDue()).to.deep.equal([]);
  });

  it('when a failed task is retried and fails again, then each terminal version has its own delivery', async () => {
    const t = await create({ maxAttempts: 1 });
    const fail = async () => {
      const r = await f.client.call('tasks.claim', { id: t.id, workerId: 'w1', leaseMs: 30_000 });
      return f.client.call('tasks.fail', {
        id: t.id,
        leaseId: r.leaseId!,
        error: { code: 'X', message: 'x' },
      });
    };
    const first = await fail();
    await f.client.call('tasks.retry', { id: t.id });
    const second = await fail();
    const cancelledLater = await create();
    await f.client.call('tasks.cancel', { id: cancelledLater.id });
    const items = await list(t.id);
    expect(items.map((d) => d.id)).to.deep.equal([`${t.id}:${first.version}`, `${t.id}:${second.version}`]);
    expect(items.map((d) => d.status)).to.deep.equal(['failed', 'failed']);
    expect((await list(cancelledLater.id)).map((d) => d.status)).to.deep.equal(['cancelled']);
  });

  it('when an attempt fails, then it waits for its backoff; when one answers 2xx, then it is delivered and a replay changes nothing', async () => {
    const t = await create();
    await run(t.id);
    const [send] = await claimDue();
    // Leased: not handed out again meanwhile.
    expect(await claimDue()).to.deep.equal([]);
    const failed = await f.client.call('webhooks.recordAttempt', {
      id: send!.id,
      leaseId: send!.leaseId,
      statusCode: 500,
      ms: 12,
    });
    expect(failed).to.include({ state: 'pending', attempts: 1, lastStatusCode: 500 });
    const delay = Date.parse(failed.nextAttemptAt!) - Date.parse(failed.updatedAt);
    expect(delay).to.be.within(30_000, 60_000); // the first delay: base 60 s, its top half random
    expect(await claimDue()).to.deep.equal([]);
    await makeDue(send!.id);
    const [again] = await claimDue();
    expect(again).to.include({ id: send!.id, body: send!.body, attempt: 2 });
    const ok = { id: again!.id, leaseId: again!.leaseId, statusCode: 204, ms: 3 };
    const delivered = await f.client.call('webhooks.recordAttempt', ok);
    expect(delivered).to.include({
      state: 'delivered',
      attempts: 2,
      lastStatusCode: 204,
      nextAttemptAt: null,
    });
    expect(delivered.deliveredAt).to.be.a('string');
    expect(delivered.attemptLog.map((a) => a.statusCode)).to.deep.equal([500, 204]);
    expect(await f.client.call('webhooks.recordAttempt', ok)).to.deep.equal(delivered);
    expect(await claimDue()).to.deep.equal([]);
  });

  it('when every attempt fails, then it is failed after the last one and visible; redeliver makes it due again with the same id and body', async () => {
    const t = await create();
    await run(t.id);
    let last: WebhookDelivery | undefined;
    let body = '';
    for (let i = 0; i < 3; i++) {
      if (i > 0) await makeDue(`${t.id}:3`);
      const [send] = await claimDue();
      body = send!.body;
      last = await f.client.call('webhooks.recordAttempt', {
        id: send!.id,
        leaseId: send!.leaseId,
        error: 'connect ECONNREFUSED',
      });
    }
    expect(last).to.include({ state: 'failed', attempts: 3, nextAttemptAt: null, lastStatusCode: null });
    expect(last!.lastError).to.equal('connect ECONNREFUSED');
    expect((await list(t.id))[0]!.state).to.equal('failed');
    expect(await claimDue()).to.deep.equal([]);
    const again = await f.client.call('webhooks.redeliver', { id: last!.id });
    expect(again).to.include({ state: 'pending', attempts: 0 });
    expect(again.attemptLog).to.have.length(3);
    const [send] = await claimDue();
    expect(send).to.include({ id: last!.id, body, attempt: 1 });
  });

  it('when a delivery is ahead of its task, then it is not sent; when its version was written otherwise, then it is dropped', async () => {
    const t = await create();
    const done = await run(t.id);
    const deliveries = f.db.collection('webhook_deliveries');
    // Crash between the delivery and the task write: the version it reports does not exist yet.
    await deliveries.insertOne({
      ...(await deliveries.findOne({ _id: `${t.id}:3` as never }))!,
      _id: `${t.id}:4` as never,
      version: 4,
    });
    // Its fence swept and taken again by another change: version 3 holds other content.
    await deliveries.updateOne({ _id: `${t.id}:3` as never }, { $set: { taskUpdatedAt: new Date(0) } });
    expect(await claimDue()).to.deep.equal([]);
    expect((await list(t.id)).map((d) => d.id)).to.deep.equal([`${t.id}:4`]);
    expect(done.version).to.equal(3);
  });

  it('when several senders claim at once, then each delivery goes to one of them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await run((await create()).id)).id);
    const claims = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        f.client.call('webhooks.claimDue', { owner: `sender-${i}`, limit: 12, leaseMs: 30_000 }),
      ),
    );
    const claimed = claims.flatMap((r) => r.items.map((d) => d.id));
    expect(new Set(claimed).size, 'claimed twice').to.equal(claimed.length);
    expect(claimed.length + (await claimDue(12)).length).to.equal(12);
  });

  it('when the task is removed, then deleteDeliveriesOf removes its deliveries only', async () => {
    const a = await create();
    const b = await create();
    await run(a.id);
    await run(b.id);
    const removed = await deleteDeliveriesOf(openCollections(f.db), [a.id, 'no-such-task']);
    expect(removed).to.equal(1);
    expect(await list(a.id)).to.deep.equal([]);
    expect(await list(b.id)).to.have.length(1);
  });

  it('when a webhook URL is not http(s), has credentials, is too long or has extra fields, then VALIDATION_FAILED and nothing is written', async () => {
    const bad: unknown[] = [
      { url: 'ftp://127.0.0.1/x' },
      { url: 'http://user:pw@127.0.0.1/x' },
      { url: `http://127.0.0.1/${'a'.repeat(2048)}` },
      { url: 'http:///nohost' },
      { url: 'not a url' },
      {},
      { url: URL_OK, secret: 'x' },
      URL_OK,
    ];
    for (const webhook of bad) {
      await rejectsWith(
        f.client.call('tasks.create', { type: 'test.noop', webhook } as never),
        'VALIDATION_FAILED',
      );
    }
    await rejectsWith(
      f.client.call('tasks.createMany', {
        tasks: [
          { type: 'test.noop', webhook: { url: URL_OK } },
          { type: 'test.noop', webhook: { url: 'http://[::1' } },
        ],
      }),
      'VALIDATION_FAILED',
    );
    expect(await f.db.collection('tasks').countDocuments()).to.equal(0);
    await rejectsWith(
      f.client.call('webhooks.recordAttempt', { id: 'nope:3', leaseId: 'x', statusCode: 200 }),
      'WEBHOOK_DELIVERY_NOT_FOUND',
    );
    await rejectsWith(f.client.call('webhooks.redeliver', { id: 'nope:3' }), 'WEBHOOK_DELIVERY_NOT_FOUND');
    await rejectsWith(f.client.call('webhooks.redeliver', { id: 'no-version' }), 'VALIDATION_FAILED');
    await rejectsWith(f.client.call('webhooks.list', { taskId: 'nope' }), 'TASK_NOT_FOUND');
  });

  it('when tasks are created in a batch or a flow with webhooks, then each carries its own', async () => {
    const { tasks } = await f.client.call('tasks.createMany', {
      tasks: [{ type: 'test.noop', webhook: { url: URL_OK } }, { type: 'test.noop' }],
    });
    expect(tasks.map((t) => t.webhook)).to.deep.equal([{ url: URL_OK }, undefined]);
    const { flow } = await f.client.call('flows.create', {
      nodes: [{ key: 'a', type: 'test.noop', webhook: { url: URL_OK } }],
    });
    const node = await f.client.call('tasks.get', { id: flow.nodes[0]!.taskId });
    expect(node.webhook).to.deep.equal({ url: URL_OK });
  });
});
