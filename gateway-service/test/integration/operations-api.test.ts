import { expect } from 'chai';
import { startGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';

describe('REST API /v1/dead-letters and /v1/workers (integration: store, RabbitMQ, FerretDB)', function () {
  this.timeout(30_000);
  let f: GatewayFixture;
  before(async () => {
    f = await startGatewayFixture();
  });
  after(async () => {
    await f.close();
  });

  it('when a message is dead-lettered, then it is counted, listed as recent, and stays in the dead-letter queue', async () => {
    const before = await f.request('/v1/dead-letters');
    expect(before.status).to.equal(200);
    expect(before.body).to.deep.equal({ count: 0, recent: [] });

    await f.gateway.deadLetters.ready; // the gateway's copy queue is bound
    const msg = { taskId: 'dead-1', type: 'test.sleep', kind: 'io', version: 1 };
    f.channel.publish(f.topo.deadExchange, '', Buffer.from(JSON.stringify(msg)), {
      headers: { 'x-death': [{ reason: 'delivery_limit', queue: f.topo.queues.io, count: 1 }] },
    });
    await f.channel.waitForConfirms();

    const deadline = Date.now() + 20_000;
    let r = await f.request('/v1/dead-letters');
    while ((r.body.count !== 1 || r.body.recent.length !== 1) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      r = await f.request('/v1/dead-letters');
    }
    expect(r.body.count).to.equal(1);
    expect(r.body.recent[0]).to.include({
      taskId: 'dead-1',
      type: 'test.sleep',
      kind: 'io',
      reason: 'delivery_limit',
      queue: f.topo.queues.io,
    });
    // Reading the count twice does not consume the message.
    expect((await f.request('/v1/dead-letters')).body.count).to.equal(1);
    expect((await f.channel.checkQueue(f.topo.deadQueue)).messageCount).to.equal(1);
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
