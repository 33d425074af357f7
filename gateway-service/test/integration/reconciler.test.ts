import { expect } from 'chai';
import { PUBLISH_HORIZON_MS } from '@tasks/contracts';
import { startGatewayFixture, type GatewayFixture } from '@tasks/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reconciler: the store is the truth, the broker only delivers (integration)', function () {
  this.timeout(30_000);
  let f: GatewayFixture;
  beforeEach(async () => {
    // Loops off: each test drives the reconciler by hand.
    f = await startGatewayFixture({ DISPATCHER: 'off', RECONCILE_AFTER_MS: '1000' });
  });
  afterEach(() => f.close());

  const post = async (body: object = { type: 'test.sleep', payload: { ms: 1 } }) => {
    const r = await f.request('/v1/tasks', { method: 'POST', json: body });
    expect(r.status).to.equal(201);
    return r.body as { id: string; version: number };
  };

  it('when a queued task’s message is lost after its confirm, then it is published again once, after RECONCILE_AFTER_MS', async () => {
    const t = await post();
    await f.gateway.flushMarks();
    expect(await f.queueDepth('test.sleep')).to.equal(1);
    await f.channel.purgeQueue(f.topo.typeQueue('test.sleep')); // the message is gone; the task is queued
    const early = await f.gateway.reconciler.runOnce();
    expect(early.republished, 'not before RECONCILE_AFTER_MS').to.equal(0);
    await sleep(1_100);
    const pass = await f.gateway.reconciler.runOnce();
    expect(pass.republished).to.equal(1);
    expect(await f.queueDepth('test.sleep')).to.equal(1);
    const body = JSON.parse(
      (
        (await f.channel.get(f.topo.typeQueue('test.sleep'), { noAck: true })) as { content: Buffer }
      ).content.toString(),
    ) as { taskId: string };
    expect(body.taskId).to.equal(t.id);
    // Lost again at once: this gateway waits RECONCILE_AFTER_MS before publishing it another time.
    expect((await f.gateway.reconciler.runOnce()).republished).to.equal(0);
  });

  it('when a type has messages ready (a legitimate backlog), then nothing of it is published again, and it is reported unserved', async () => {
    for (let i = 0; i < 3; i++) await post();
    await f.gateway.flushMarks();
    await sleep(1_100);
    const pass = await f.gateway.reconciler.runOnce();
    expect(pass.republished, 'a backlog is never flooded').to.equal(0);
    expect(pass.unserved).to.deep.equal(['test.sleep']);
    expect(await f.queueDepth('test.sleep')).to.equal(3);
  });

  it('when a task has a priority, then its message waits in its band’s queue, and the reconciler counts that band', async () => {
    const t = await post({ type: 'test.sleep', payload: { ms: 1 }, priority: 7 });
    await f.gateway.flushMarks();
    const band7 = f.topo.typeQueue('test.sleep', 7);
    expect((await f.channel.checkQueue(band7)).messageCount).to.equal(1);
    expect((await f.channel.checkQueue(f.topo.typeQueue('test.sleep'))).messageCount).to.equal(0);
    await sleep(1_100);
    const waiting = await f.gateway.reconciler.runOnce();
    expect(waiting.republished, 'a message ready in any band is a backlog').to.equal(0);
    expect(waiting.unserved).to.deep.equal(['test.sleep']);
    await f.channel.purgeQueue(band7);
    const pass = await f.gateway.reconciler.runOnce();
    expect(pass.republished).to.equal(1);
    const msg = (await f.channel.get(band7, { noAck: true })) as { content: Buffer };
    expect(JSON.parse(msg.content.toString())).to.include({ taskId: t.id, priority: 7 });
  });

  it('when a task is due beyond the publish horizon, then it is not put on the broker now, and the outbox relay leaves it until it comes within reach', async () => {
    const runAt = new Date(Date.now() + PUBLISH_HORIZON_MS + 10 * 60_000).toISOString();
    const t = await post({ type: 'test.sleep', payload: { ms: 1 }, runAt });
    expect(await f.queueDepth('test.sleep')).to.equal(0);
    const longestWait = f.topo.waitQueue(PUBLISH_HORIZON_MS);
    expect(
      (await f.channel.checkQueue(longestWait)).messageCount,
      'not cycling through delay queues',
    ).to.equal(0);
    const { items } = await f.store.call('tasks.listUnpublished', { olderThanMs: 0 });
    expect(items.map((x) => x.id)).to.not.include(t.id);
    expect(await f.gateway.dispatcher.runOnce(), 'the outbox relay publishes nothing yet').to.equal(0);
    // Still queued, and not a stale task either: it is not due.
    expect((await f.gateway.reconciler.runOnce()).republished).to.equal(0);
    expect((await f.request(`/v1/tasks/${t.id}`)).body.status).to.equal('queued');
  });
});
