import { expect } from 'chai';
import { startGatewayFixture, type GatewayFixture, type JsonRequestInit } from '@tasks/testkit';

describe('REST API /v1/tasks (integration: store, RabbitMQ, FerretDB)', function () {
  this.timeout(30_000);
  let f: GatewayFixture;
  before(async () => (f = await startGatewayFixture()));
  after(() => f.close());

  const countTasks = async () => (await f.store.call('tasks.stats', {})).byType['test.sleep'] ?? {};

  it('when a task is posted, then 201 with a Location, the task is published and marked published', async () => {
    const before = await f.queueDepth('test.sleep');
    const r = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 1 } },
    });
    expect(r.status).to.equal(201);
    expect(r.headers.get('location')).to.equal(`/v1/tasks/${r.body.id}`);
    expect(r.body).to.include({ status: 'queued', kind: 'io' });
    expect(r.body).not.to.have.property('leaseId');
    expect(await f.queueDepth('test.sleep')).to.equal(before + 1);
    await f.gateway.flushMarks(); // marks are sent after the response, coalesced
    expect(
      (await f.store.call('tasks.listUnpublished', { olderThanMs: 0 })).items.map((t) => t.id),
    ).not.to.include(r.body.id);
    const got = await f.request(r.headers.get('location')!);
    expect(got.status).to.equal(200);
    expect(got.body.id).to.equal(r.body.id);
  });

  it('when a delayed task is posted twice with one Idempotency-Key, then the repeat returns the first task', async () => {
    const key = `delayed-${Date.now()}`;
    const body = { type: 'test.sleep', payload: { ms: 1 }, delayMs: 60_000 };
    const post = () =>
      f.request('/v1/tasks', { method: 'POST', json: body, headers: { 'idempotency-key': key } });
    const a = await post();
    await new Promise((r) => setTimeout(r, 20)); // a later "now" must not change the request's identity
    const b = await post();
    expect([a.status, b.status]).to.deep.equal([201, 200]);
    expect(b.body).to.include({ id: a.body.id, runAt: a.body.runAt });
    expect(Date.parse(a.body.runAt) - Date.parse(a.body.createdAt)).to.equal(60_000);
  });

  it('when both delayMs and runAt are given, then 400 and nothing is created', async () => {
    const before = await f.store.call('tasks.stats', {});
    const r = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 1 }, delayMs: 10, runAt: new Date().toISOString() },
    });
    expect(r.status).to.equal(400);
    expect(await f.store.call('tasks.stats', {})).to.deep.equal(before);
  });

  it('when runAt is more than 366 days ahead or delayMs more than 366 days, then 400 naming the field and nothing is created', async () => {
    const before = await f.store.call('tasks.stats', {});
    const tooFar = new Date(Date.now() + 367 * 86_400_000).toISOString();
    const one = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 1 }, runAt: tooFar },
    });
    expect(one.status).to.equal(400);
    expect(one.body.fields).to.deep.include({ path: '/runAt', message: 'must be at most 366 days from now' });
    const delayed = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 1 }, delayMs: 367 * 86_400_000 },
    });
    expect(delayed.status).to.equal(400);
    expect(delayed.body.fields.map((x: { path: string }) => x.path)).to.include('/delayMs');
    const batch = await f.request('/v1/tasks/batch', {
      method: 'POST',
      json: {
        tasks: [
          { type: 'test.sleep', payload: { ms: 1 } },
          { type: 'test.sleep', payload: { ms: 1 }, runAt: tooFar },
        ],
      },
    });
    expect(batch.status).to.equal(400);
    expect(batch.body.fields.map((x: { path: string }) => x.path)).to.deep.equal(['/tasks/1/runAt']);
    expect(await f.store.call('tasks.stats', {})).to.deep.equal(before);
  });

  it('when the same Idempotency-Key and body come again, then 200 with the same task; another body is 409', async () => {
    const key = `key-${Date.now()}`;
    const body = { type: 'test.sleep', payload: { ms: 2 } };
    const a = await f.request('/v1/tasks', {
      method: 'POST',
      json: body,
      headers: { 'idempotency-key': key },
    });
    const b = await f.request('/v1/tasks', {
      method: 'POST',
      json: body,
      headers: { 'idempotency-key': key },
    });
    expect([a.status, b.status]).to.deep.equal([201, 200]);
    expect(b.body.id).to.equal(a.body.id);
    const c = await f.request('/v1/tasks', {
      method: 'POST',
      json: { ...body, payload: { ms: 3 } },
      headers: { 'idempotency-key': key },
    });
    expect(c.status).to.equal(409);
    expect(c.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(c.body).to.include({
      code: 'IDEMPOTENCY_CONFLICT',
      status: 409,
      type: '/problems/idempotency-conflict',
    });
    expect(c.body.instance).to.equal(c.headers.get('x-request-id'));
  });

  it('when the type is unknown, then 400 listing the known types', async () => {
    const r = await f.request('/v1/tasks', { method: 'POST', json: { type: 'no.such' } });
    expect(r.status).to.equal(400);
    expect(r.body).to.include({ code: 'UNKNOWN_TASK_TYPE' });
    expect(r.body.knownTypes).to.include('test.sleep');
  });

  it('when the payload fails the type schema, then 422 naming each failing field and nothing is created', async () => {
    const before = await countTasks();
    const r = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: -1, x: 1 } },
    });
    expect(r.status).to.equal(422);
    expect(r.body.code).to.equal('PAYLOAD_INVALID');
    expect(r.body.fields.map((x: { path: string }) => x.path)).to.include.members([
      '/payload/ms',
      '/payload/x',
    ]);
    expect(await countTasks()).to.deep.equal(before);
  });

  it('when the body is malformed, then a 4xx problem and nothing is created', async () => {
    const before = await countTasks();
    const cases: [JsonRequestInit, number, string][] = [
      [
        { method: 'POST', json: { type: 'test.sleep', payload: { ms: 1 }, extra: 1 } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        { method: 'POST', json: { type: 'test.sleep', delayMs: 10, runAt: new Date().toISOString() } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        { method: 'POST', body: '{"type":', headers: { 'content-type': 'application/json' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        {
          method: 'POST',
          body: 'type=test.sleep',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [{ method: 'POST', body: 'x' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [
        { method: 'POST', json: { type: 'test.sleep', payload: { pad: 'x'.repeat(2_000_000) } } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [{ method: 'POST', json: { type: 'test.sleep', priority: 'high' } }, 400, 'VALIDATION_FAILED'],
      // Priorities are 0..9 (docs/priorities.md).
      [{ method: 'POST', json: { type: 'test.sleep', priority: 10 } }, 400, 'VALIDATION_FAILED'],
      [{ method: 'POST', json: { type: 'test.sleep', priority: -1 } }, 400, 'VALIDATION_FAILED'],
      [{ method: 'POST', json: { type: 'test.sleep', priority: 2.5 } }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [init, status, code] of cases) {
      const r = await f.request('/v1/tasks', init);
      expect(r.status, JSON.stringify(init).slice(0, 120)).to.equal(status);
      expect(r.body.code).to.equal(code);
      expect(JSON.stringify(r.body)).not.to.match(/\s+at\s.+\.(ts|js):\d+/); // no stack trace
    }
    expect(await countTasks()).to.deep.equal(before);
  });

  it('when an unknown id is fetched or patched, then 404 problem', async () => {
    expect((await f.request('/v1/tasks/nope')).status).to.equal(404);
    expect(
      (await f.request('/v1/tasks/nope', { method: 'PATCH', json: { status: 'cancelled' } })).body.code,
    ).to.equal('TASK_NOT_FOUND');
    expect((await f.request('/v1/no-such-route')).body.code).to.equal('ROUTE_NOT_FOUND');
    expect((await f.request('/v1/tasks/x', { method: 'DELETE' })).status).to.equal(405);
  });

  it('when list query parameters are hostile or malformed, then 400 and the store is never asked', async () => {
    for (const q of [
      'status[$ne]=x',
      'status=queued&status=failed',
      'limit=abc',
      'limit=0',
      'limit=501',
      'limit=1e2',
      'cursor=forged',
      'type[$regex]=.*',
      'nope=1',
      'fields=secret',
      'fields=payload,leaseId',
      'fields=',
      'fields=payload&fields=result',
    ]) {
      const r = await f.request(`/v1/tasks?${q}`);
      expect(r.status, q).to.equal(400);
      expect(r.body.code, q).to.equal('VALIDATION_FAILED');
    }
  });

  it('when listing with filters and a cursor, then pages are consistent', async () => {
    for (let i = 0; i < 3; i++)
      await f.request('/v1/tasks', { method: 'POST', json: { type: 'test.sleep', payload: { ms: i } } });
    const first = await f.request('/v1/tasks?status=queued&type=test.sleep&limit=2');
    expect(first.status).to.equal(200);
    expect(first.body.items).to.have.length(2);
    expect(first.body.nextCursor).to.be.a('string');
    const second = await f.request(
      `/v1/tasks?status=queued&limit=2&cursor=${first.body.nextCursor as string}`,
    );
    expect(second.status).to.equal(200);
    const ids = [...first.body.items, ...second.body.items].map((t: { id: string }) => t.id);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('when listing without fields, then items are summaries; with fields, then those parts come too', async () => {
    const created = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 7 } },
    });
    const summary = await f.request('/v1/tasks?limit=1');
    expect(summary.status).to.equal(200);
    expect(summary.body.items[0]).to.include({ id: created.body.id, type: 'test.sleep', status: 'queued' });
    expect(summary.body.items[0]).to.not.have.any.keys('payload', 'result', 'history', 'leaseId');
    const full = await f.request('/v1/tasks?limit=1&fields=payload,history,payload');
    expect(full.status).to.equal(200);
    expect(full.body.items[0].payload).to.deep.equal({ ms: 7 });
    expect(full.body.items[0].history).to.have.length(1);
    expect(full.body.items[0]).to.not.have.any.keys('result', 'leaseId');
    const bad = await f.request('/v1/tasks?fields=payload,secret');
    expect(bad.status).to.equal(400);
    expect(bad.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(bad.body.fields.map((x: { path: string }) => x.path)).to.deep.equal(['?/fields']);
  });

  it('when a queued task is cancelled, then 200; cancelling again is 409 with the current status; retry queues it', async () => {
    const t = (
      await f.request('/v1/tasks', { method: 'POST', json: { type: 'test.sleep', payload: { ms: 1 } } })
    ).body;
    const c = await f.request(`/v1/tasks/${t.id}`, {
      method: 'PATCH',
      json: { status: 'cancelled', reason: 'changed my mind' },
    });
    expect(c.status).to.equal(200);
    expect(c.body.status).to.equal('cancelled');
    const again = await f.request(`/v1/tasks/${t.id}`, { method: 'PATCH', json: { status: 'cancelled' } });
    expect(again.status).to.equal(409);
    expect(again.body).to.include({ code: 'INVALID_TRANSITION', currentStatus: 'cancelled' });
    const before = await f.queueDepth('test.sleep');
    const r = await f.request(`/v1/tasks/${t.id}`, { method: 'PATCH', json: { status: 'queued' } });
    expect(r.status).to.equal(200);
    expect(r.body).to.include({ status: 'queued', attempts: 0 });
    expect(await f.queueDepth('test.sleep')).to.equal(before + 1);
    expect(
      (await f.request(`/v1/tasks/${t.id}`, { method: 'PATCH', json: { status: 'succeeded' } })).status,
    ).to.equal(400);
  });

  it('when a batch is posted, then all are created and published; one bad item creates none', async () => {
    const before = await f.queueDepth('test.sleep');
    const ok = await f.request('/v1/tasks/batch', {
      method: 'POST',
      json: { tasks: [1, 2, 3].map((ms) => ({ type: 'test.sleep', payload: { ms } })) },
    });
    expect(ok.status).to.equal(201);
    expect(ok.body.items).to.have.length(3);
    expect(await f.queueDepth('test.sleep')).to.equal(before + 3);
    const stats = await countTasks();
    const bad = await f.request('/v1/tasks/batch', {
      method: 'POST',
      json: {
        tasks: [
          { type: 'test.sleep', payload: { ms: 1 } },
          { type: 'test.sleep', payload: { ms: 'x' } },
        ],
      },
    });
    expect(bad.status).to.equal(422);
    expect(bad.body.fields[0].path).to.match(/^\/tasks\/1\/payload/);
    expect(await countTasks()).to.deep.equal(stats);
    expect((await f.request('/v1/tasks/batch', { method: 'POST', json: { tasks: [] } })).status).to.equal(
      400,
    );
  });

  it('when a batch is posted, then the event stream shows each task queued, as for single creates', async () => {
    const res = await fetch(`${f.url}/v1/events?status=queued&type=test.sleep`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: ready')) text += (await reader.read()).value ?? '';
    const single = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 1 } },
    });
    const batch = await f.request('/v1/tasks/batch', {
      method: 'POST',
      json: { tasks: [1, 2, 3].map((ms) => ({ type: 'test.sleep', payload: { ms } })) },
    });
    const wanted = [single.body.id, ...batch.body.items.map((t: { id: string }) => t.id)] as string[];
    const seen = () =>
      text
        .split('\n\n')
        .filter((b) => b.includes('event: status'))
        .map((b) => (JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as { taskId: string }).taskId);
    const deadline = setTimeout(() => void reader.cancel(), 5_000);
    while (!wanted.every((id) => seen().includes(id))) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    clearTimeout(deadline);
    await reader.cancel();
    expect(seen()).to.include.members(wanted);
  });

  it('when asked for task types, stats, health and metrics, then they answer', async () => {
    expect((await f.request('/v1/task-types')).body.items.map((t: { type: string }) => t.type)).to.include(
      'test.sleep',
    );
    expect((await f.request('/v1/stats')).body.byStatus).to.have.property('queued');
    expect((await f.request('/healthz')).status).to.equal(200);
    const ready = await f.request('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({ store: 'up', broker: 'up' });
    const metrics = await f.request('/metrics');
    expect(metrics.body).to.include('gateway_http_requests_total').and.include('gateway_publish_total');
  });
});
