import { expect } from 'chai';
import { startGatewayFixture, type GatewayFixture } from '@tasks/testkit';

describe('REST API /v1/dead-letters and /v1/workers (integration: store, RabbitMQ, FerretDB)', function () {
  this.timeout(30_000);
  let f: GatewayFixture;
  before(async () => (f = await startGatewayFixture()));
  after(() => f.close());

  it('when the message of a queued task is dead-lettered, then the task fails DEAD_LETTERED, retryable, and the store lists the dead letter', async () => {
    const before = await f.request('/v1/dead-letters');
    expect(before.status).to.equal(200);
    expect(before.body).to.deep.equal({ count: 0, recent: [] });

    const created = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 1 } },
    });
    expect(created.status).to.equal(201);
    const t = created.body;
    const msg = { taskId: t.id, type: t.type, kind: t.kind, version: t.version };
    f.channel.publish(f.topo.deadExchange, '', Buffer.from(JSON.stringify(msg)), {
      headers: {
        'x-death': [{ reason: 'delivery_limit', queue: f.topo.typeQueue('test.sleep'), count: 1 }],
        'x-delivery-count': 6,
      },
    });
    // Not a work message at all: recorded too, with no task.
    f.channel.publish(f.topo.deadExchange, '', Buffer.from('{not json'), {
      headers: { 'x-dead-reason': 'body is not JSON' },
    });
    await f.channel.waitForConfirms();

    const deadline = Date.now() + 20_000;
    let r = await f.request('/v1/dead-letters');
    const both = (body: { recent: { taskId: string | null }[] }): boolean =>
      body.recent.some((d) => d.taskId === t.id) && body.recent.some((d) => d.taskId === null);
    while (!both(r.body) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      r = await f.request('/v1/dead-letters');
    }
    expect(r.body.count).to.equal(2);
    const recorded = r.body.recent.find((d: any) => d.taskId === t.id);
    expect(recorded, JSON.stringify(r.body.recent)).to.be.an('object');
    expect(recorded).to.include({
      type: 'test.sleep',
      kind: 'io',
      version: t.version,
      reason: 'delivery_limit',
      queue: f.topo.typeQueue('test.sleep'),
      deliveries: 6,
      outcome: 'failed',
    });
    expect(r.body.recent.find((d: any) => d.taskId === null)).to.include({
      reason: 'body is not JSON',
      outcome: 'no-task',
    });
    const failed = (await f.request(`/v1/tasks/${t.id}`)).body;
    expect(failed.status).to.equal('failed');
    expect(failed.error.code).to.equal('DEAD_LETTERED');
    expect(failed.error.message).to.contain('delivery_limit');
    // Recorded, so no longer held by the broker; and retryable like any failed task.
    expect((await f.channel.checkQueue(f.topo.deadQueue)).messageCount).to.equal(0);
    const retried = await f.request(`/v1/tasks/${t.id}`, { method: 'PATCH', json: { status: 'queued' } });
    expect(retried.status).to.equal(200);
    expect(retried.body.status).to.equal('queued');
  });

  it('when a dead letter names a task that has moved on, then the task is left as it is', async () => {
    const created = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 1 } },
    });
    const t = created.body;
    await f.store.call('tasks.claim', { id: t.id, workerId: 'w-moved-on', leaseMs: 30_000 });
    const recorded = await f.store.call('deadLetters.record', {
      taskId: t.id,
      version: t.version,
      reason: 'delivery_limit',
    });
    expect(recorded.deadLetter.outcome).to.equal('moved-on');
    expect((await f.request(`/v1/tasks/${t.id}`)).body.status).to.equal('running');
  });

  it('when a worker holds a task, then /v1/workers lists it with that task', async () => {
    const created = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 1 } },
    });
    expect(created.status).to.equal(201);
    const claim = await f.store.call('tasks.claim', {
      id: created.body.id,
      workerId: 'worker-under-test',
      leaseMs: 30_000,
    });
    expect(claim).to.be.an('object');
    const r = await f.request('/v1/workers');
    expect(r.status).to.equal(200);
    expect(r.body.windowMs).to.be.a('number');
    const w = r.body.items.find((x: any) => x.id === 'worker-under-test');
    expect(w, JSON.stringify(r.body)).to.exist;
    expect(w.running.map((t: { taskId: string }) => t.taskId)).to.deep.equal([created.body.id]);
  });
});
