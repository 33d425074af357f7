import { expect } from 'chai';
import { startGatewayFixture, type GatewayFixture } from '@tasks/testkit';

describe('REST tags, metadata and POST /v1/tasks/actions (integration: store, RabbitMQ, FerretDB)', function () {
  this.timeout(60_000);
  let f: GatewayFixture;
  beforeEach(async () => {
    // No outbox relay: what reaches a queue is what the requests published.
    f = await startGatewayFixture({ DISPATCHER: 'off' });
  });
  afterEach(() => f.close());

  const post = (json: unknown) => f.request('/v1/tasks', { method: 'POST', json });
  const ids = (r: { body: { items: { id: string }[] } }) => r.body.items.map((t) => t.id);

  it('when tasks are posted with tags and metadata, then reads show them and ?tag= and ?metadata.<key>= filter lists', async () => {
    const a = await post({
      type: 'test.sleep',
      payload: { ms: 1 },
      tags: ['red', 'big'],
      metadata: { team: 'core' },
    });
    const b = await post({
      type: 'test.sleep',
      payload: { ms: 1 },
      tags: ['red'],
      metadata: { team: 'web' },
    });
    const batch = await f.request('/v1/tasks/batch', {
      method: 'POST',
      json: { tasks: [{ type: 'test.sleep', payload: { ms: 1 }, tags: ['big'] }] },
    });
    expect([a.status, b.status, batch.status]).to.deep.equal([201, 201, 201]);
    expect(a.body).to.deep.include({ tags: ['red', 'big'], metadata: { team: 'core' } });
    expect(batch.body.items[0].tags).to.deep.equal(['big']);
    expect((await f.request(`/v1/tasks/${a.body.id}`)).body.metadata).to.deep.equal({ team: 'core' });

    expect(ids(await f.request('/v1/tasks?tag=red'))).to.deep.equal([b.body.id, a.body.id]);
    expect(ids(await f.request('/v1/tasks?tag=red&tag=big'))).to.deep.equal([a.body.id]);
    expect(ids(await f.request('/v1/tasks?tag=big&status=queued&type=test.sleep'))).to.deep.equal([
      batch.body.items[0].id,
      a.body.id,
    ]);
    expect(ids(await f.request('/v1/tasks?metadata.team=web'))).to.deep.equal([b.body.id]);
    expect(ids(await f.request('/v1/tasks?tag=red&metadata.team=core'))).to.deep.equal([a.body.id]);
    const paged = await f.request('/v1/tasks?tag=red&limit=1');
    expect(ids(paged)).to.deep.equal([b.body.id]);
    const next = await f.request(`/v1/tasks?tag=red&limit=1&cursor=${paged.body.nextCursor}`);
    expect(ids(next)).to.deep.equal([a.body.id]);
  });

  it('when tags, metadata or their filters are malformed, then 400 naming the field and nothing is created', async () => {
    const bad = [
      { tags: ['a b'] },
      { tags: ['x', 'x'] },
      { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
      { metadata: { 'a.b': 'c' } },
      { metadata: { k: 'v'.repeat(257) } },
    ];
    for (const extra of bad) {
      const r = await post({ type: 'test.sleep', payload: { ms: 1 }, ...extra });
      expect(r.status, JSON.stringify(extra)).to.equal(400);
      expect(r.body.fields[0].path).to.match(/^\/(tags|metadata)/);
    }
    expect((await f.request('/v1/tasks')).body.items).to.have.length(0);
    for (const q of [
      'tag=',
      'tag=a%20b',
      'metadata.a.b=c',
      'metadata.=x',
      'metadata.k=1&metadata.k=2',
      'meta.k=1',
    ]) {
      const r = await f.request(`/v1/tasks?${q}`);
      expect(r.status, q).to.equal(400);
    }
  });

  it('when a bulk cancel runs, then dryRun changes nothing and the real run cancels every match and is announced', async () => {
    for (let i = 0; i < 5; i++)
      await post({ type: 'test.sleep', payload: { ms: 1 }, tags: i < 3 ? ['drop'] : ['keep'] });
    const dry = await f.request('/v1/tasks/actions', {
      method: 'POST',
      json: { action: 'cancel', filter: { tag: 'drop' }, dryRun: true },
    });
    expect(dry.status).to.equal(200);
    expect(dry.body).to.deep.equal({ action: 'cancel', dryRun: true, matched: 3, changed: 0 });
    expect(ids(await f.request('/v1/tasks?status=queued'))).to.have.length(5);
    const real = await f.request('/v1/tasks/actions', {
      method: 'POST',
      json: { action: 'cancel', filter: { tag: 'drop' } },
    });
    expect(real.body).to.deep.equal({ action: 'cancel', dryRun: false, matched: 3, changed: 3 });
    expect(ids(await f.request('/v1/tasks?status=cancelled&tag=drop'))).to.have.length(3);
    expect(ids(await f.request('/v1/tasks?status=queued&tag=keep'))).to.have.length(2);
    const again = await f.request('/v1/tasks/actions', {
      method: 'POST',
      json: { action: 'cancel', filter: { tag: 'drop' } },
    });
    expect(again.body).to.include({ matched: 0, changed: 0 });
  });

  it('when a bulk retry covers more than one page with Accept: application/x-ndjson, then progress lines come per page and every task is published once', async () => {
    const { tasks } = await f.store.call('tasks.createMany', {
      tasks: Array.from({ length: 130 }, () => ({ type: 'test.sleep', payload: { ms: 1 }, tags: ['many'] })),
    });
    for (const t of tasks) await f.store.call('tasks.cancel', { id: t.id });
    const depth = await f.queueDepth('test.sleep');
    const res = await fetch(`${f.url}/v1/tasks/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ action: 'retry', filter: { tag: 'many', status: 'cancelled' } }),
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).to.deep.equal({
      action: 'retry',
      dryRun: false,
      matched: 130,
      changed: 130,
      done: true,
    });
    const progress = lines.slice(0, -1);
    expect(progress.length).to.be.at.least(2);
    expect(progress[0]).to.deep.equal({ matched: 100, changed: 100, done: false });
    expect(progress.at(-1)).to.deep.equal({ matched: 130, changed: 130, done: false });
    expect(await f.queueDepth('test.sleep')).to.equal(depth + 130);
    const repeat = await f.request('/v1/tasks/actions', {
      method: 'POST',
      json: { action: 'retry', filter: { tag: 'many', status: 'cancelled' } },
    });
    expect(repeat.body).to.deep.equal({ action: 'retry', dryRun: false, matched: 0, changed: 0 });
    expect(await f.queueDepth('test.sleep')).to.equal(depth + 130);
  });

  it('when a bulk action body is malformed or its filter empty, then 400 and nothing changes', async () => {
    await post({ type: 'test.sleep', payload: { ms: 1 } });
    const bad: unknown[] = [
      { action: 'cancel', filter: {} },
      { action: 'cancel' },
      { action: 'purge', filter: { type: 'test.sleep' } },
      { action: 'cancel', filter: { type: 'test.sleep' }, dryrun: true },
      { action: 'cancel', filter: { type: 'test.sleep', tags: ['x'] } },
      { action: 'cancel', filter: { type: 'test.sleep' }, cursor: '0' },
      { action: 'cancel', filter: { status: 'failed' } },
      { action: 'retry', filter: { createdBefore: 'yesterday' } },
      [],
    ];
    for (const json of bad) {
      for (const accept of ['application/json', 'application/x-ndjson']) {
        const r = await f.request('/v1/tasks/actions', { method: 'POST', json, headers: { accept } });
        expect(r.status, JSON.stringify(json)).to.equal(400);
        expect(r.body.code).to.equal('VALIDATION_FAILED');
      }
    }
    expect(ids(await f.request('/v1/tasks?status=queued'))).to.have.length(1);
  });
});
