import { expect } from 'chai';
import {
  createLogger as executorLogger,
  loadConfig as executorConfig,
  startExecutor,
  type RunningExecutor,
} from '@tasks/executor-service';
import { AMQP_URL, startGatewayFixture, type GatewayFixture } from '@tasks/testkit';
import { startTcpProxy, type TcpProxy } from '@tasks/testkit';

/** Reads an SSE stream until it closes (or the deadline), returning the `status` events' data. */
async function readEvents(url: string, deadlineMs: number): Promise<{ status: string; version: number }[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(deadlineMs) });
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: status'))
    .map((block) => JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as { status: string; version: number });
}

describe('gateway behaviour (integration)', function () {
  this.timeout(60_000);

  describe('with an executor running', () => {
    let f: GatewayFixture;
    let ex: RunningExecutor;
    before(async () => {
      f = await startGatewayFixture();
      ex = await startExecutor(
        executorConfig({
          STORE_URL: f.env.STORE_URL!,
          AMQP_URL,
          AMQP_PREFIX: f.prefix,
          METRICS_PORT: '0',
          CPU_WORKERS: '1',
        }),
        executorLogger('silent'),
      );
    });
    after(async () => {
      await ex.stop();
      await f.close();
    });

    it('when a task is followed over SSE, then every change arrives in order and the stream closes at the end', async () => {
      const t = (
        await f.request('/v1/tasks', { method: 'POST', json: { type: 'sleep', payload: { ms: 300 } } })
      ).body;
      const events = await readEvents(`${f.url}/v1/tasks/${t.id}/events`, 15_000);
      const versions = events.map((e) => e.version);
      expect(versions).to.deep.equal([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).to.equal(versions.length);
      expect(events.at(-1)!.status).to.equal('succeeded');
      expect(events.map((e) => e.status)).to.include('running');
    });

    it('when a finished task is followed, then its state is sent and the stream closes', async () => {
      const t = (await f.request('/v1/tasks', { method: 'POST', json: { type: 'noop', payload: {} } })).body;
      for (let i = 0; i < 100; i++) {
        if ((await f.request(`/v1/tasks/${t.id}`)).body.status === 'succeeded') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const events = await readEvents(`${f.url}/v1/tasks/${t.id}/events`, 5_000);
      expect(events.map((e) => e.status)).to.deep.equal(['succeeded']);
      expect((await f.request('/v1/tasks/nope/events')).status).to.equal(404);
    });

    it('when an SSE client goes away mid-stream, then the gateway prints no error for it', async () => {
      // Koa's default error handler prints every stream error to stderr with its stack; a client
      // closing its event stream is routine and must not look like a failure in the logs.
      const printed: unknown[][] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => void printed.push(args);
      try {
        const running = (
          await f.request('/v1/tasks', { method: 'POST', json: { type: 'sleep', payload: { ms: 2_000 } } })
        ).body;
        for (const path of ['/v1/events', `/v1/tasks/${running.id}/events`]) {
          const controller = new AbortController();
          const res = await fetch(`${f.url}${path}`, { signal: controller.signal }).catch(() => undefined);
          if (res?.body) await res.body.getReader().read();
          controller.abort();
        }
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        console.error = original;
      }
      expect(printed.map((args) => args.map(String).join(' '))).to.deep.equal([]);
    });

    it('when a running task is cancelled through the API, then the executor stops it and it stays cancelled', async () => {
      const t = (
        await f.request('/v1/tasks', { method: 'POST', json: { type: 'sleep', payload: { ms: 20_000 } } })
      ).body;
      for (let i = 0; i < 100; i++) {
        if ((await f.request(`/v1/tasks/${t.id}`)).body.status === 'running') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const c = await f.request(`/v1/tasks/${t.id}`, { method: 'PATCH', json: { status: 'cancelled' } });
      expect(c.body.status).to.equal('cancelled');
      for (let i = 0; i < 50 && ex.executor.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(ex.executor.inFlight, 'the executor let go of it').to.equal(0);
      expect((await f.request(`/v1/tasks/${t.id}`)).body.status).to.equal('cancelled');
    });
  });

  describe('when the broker is unreachable', () => {
    let proxy: TcpProxy;
    let f: GatewayFixture;
    before(async () => {
      proxy = await startTcpProxy(5672);
      proxy.cut();
      f = await startGatewayFixture({ AMQP_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}` });
    });
    after(async () => {
      await f.close();
      await proxy.close();
    });

    it('then a task is still accepted (201), readyz says 503, and the task is published once the broker is back', async () => {
      const r = await f.request('/v1/tasks', {
        method: 'POST',
        json: { type: 'test.sleep', payload: { ms: 1 } },
      });
      expect(r.status).to.equal(201);
      const ready = await f.request('/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.body.broker).to.equal('down');
      expect(await f.queueDepth('test.sleep')).to.equal(0);
      proxy.restore();
      let published = false;
      for (let i = 0; i < 100 && !published; i++) {
        await new Promise((res) => setTimeout(res, 100));
        published = (await f.queueDepth('test.sleep')) >= 1;
      }
      expect(published, 'published after the broker came back').to.equal(true);
      for (let i = 0; i < 50; i++) {
        const left = (await f.store.call('tasks.listUnpublished', { olderThanMs: 0 })).items;
        if (left.length === 0) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect((await f.store.call('tasks.listUnpublished', { olderThanMs: 0 })).items).to.have.length(0);
    });
  });

  describe('when the gateway is told to stop', () => {
    let f: GatewayFixture;
    before(async () => (f = await startGatewayFixture()));
    after(async () => {
      await f.close(); // stop() again: it returns the same stop
    });

    it('then it answers a moment more with connection: close and /readyz 503 stopping, then stops listening', async () => {
      const before = await fetch(`${f.url}/readyz`);
      expect(before.status).to.equal(200);
      expect(before.headers.get('connection')).to.equal('keep-alive');
      const stopping = f.gateway.stop();
      const during = await fetch(`${f.url}/readyz`);
      expect(during.status).to.equal(503);
      expect(await during.json()).to.deep.equal({ store: 'up', broker: 'up', stopping: true });
      expect(during.headers.get('connection')).to.equal('close');
      await stopping;
      const after = await fetch(`${f.url}/readyz`).catch((err: Error) => err);
      expect(after).to.be.instanceOf(Error);
    });
  });

  describe('the dispatcher', () => {
    let f: GatewayFixture;
    before(async () => (f = await startGatewayFixture({ DISPATCHER: 'off' })));
    after(() => f.close());

    it('when a lease expires, then the task is queued again and re-published', async () => {
      const t = (
        await f.request('/v1/tasks', { method: 'POST', json: { type: 'test.sleep', payload: { ms: 1 } } })
      ).body;
      await f.channel.purgeQueue(f.topo.typeQueue('test.sleep'));
      await f.store.call('tasks.claim', { id: t.id, workerId: 'vanished', leaseMs: 1_000 });
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await f.gateway.dispatcher.runOnce()).to.equal(1);
      expect((await f.request(`/v1/tasks/${t.id}`)).body.status).to.equal('queued');
      expect(await f.queueDepth('test.sleep')).to.equal(1);
      expect(await f.gateway.dispatcher.runOnce(), 'nothing left to do').to.equal(0);
    });
  });

  describe('with API keys and a rate limit', () => {
    let f: GatewayFixture;
    const key = 'k'.repeat(32);
    before(async () => {
      f = await startGatewayFixture({ API_KEYS: `${key},${'z'.repeat(20)}`, RATE_LIMIT_PER_MINUTE: '5' });
    });
    after(() => f.close());

    it('when no or a wrong key is sent, then 401 with WWW-Authenticate; health stays open; the right key works', async () => {
      const none = await f.request('/v1/stats');
      expect(none.status).to.equal(401);
      expect(none.headers.get('www-authenticate')).to.match(/^Bearer/);
      expect(none.body.code).to.equal('UNAUTHORIZED');
      expect((await f.request('/v1/stats', { headers: { authorization: 'Bearer wrong' } })).status).to.equal(
        401,
      );
      expect((await f.request('/healthz')).status).to.equal(200);
      expect((await f.request('/v1/stats', { headers: { authorization: `Bearer ${key}` } })).status).to.equal(
        200,
      );
    });

    it('when a client goes over the rate limit, then 429 with Retry-After', async () => {
      const statuses: number[] = [];
      let last: Awaited<ReturnType<GatewayFixture['request']>> | undefined;
      for (let i = 0; i < 7; i++) {
        last = await f.request('/v1/stats', { headers: { authorization: `Bearer ${'z'.repeat(20)}` } });
        statuses.push(last.status);
      }
      expect(statuses).to.include(429);
      expect(last!.body.code).to.equal('RATE_LIMITED');
      expect(Number(last!.headers.get('retry-after'))).to.be.greaterThan(0);
    });
  });
});
