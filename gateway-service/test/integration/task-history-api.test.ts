import { expect } from 'chai';
import { startGatewayFixture, type GatewayFixture } from '@tasks/testkit';

describe('REST API /v1/tasks/{id}/history (integration: store, RabbitMQ, FerretDB)', function () {
  this.timeout(60_000);
  let f: GatewayFixture;
  let id: string;
  const cycles = 20; // 61 changes: more than a task document carries
  before(async () => {
    f = await startGatewayFixture();
    const created = await f.request('/v1/tasks', {
      method: 'POST',
      json: { type: 'test.sleep', payload: { ms: 1 } },
    });
    id = created.body.id;
    for (let n = 0; n < cycles; n++) {
      const leaseId = `lease-${n}`;
      await f.store.call('tasks.claim', { id, workerId: `w${n}`, leaseMs: 30_000, leaseId });
      await f.store.call('tasks.fail', {
        id,
        leaseId,
        error: { code: 'BOOM', message: `n${n}`, retryable: false },
      });
      const retried = await f.request(`/v1/tasks/${id}`, { method: 'PATCH', json: { status: 'queued' } });
      expect(retried.status).to.equal(200);
    }
  });
  after(() => f.close());

  it('when the history is paged, then every change comes once, oldest first, and the body is exactly {items, nextCursor}', async () => {
    const items: { status: string; by: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `?limit=8${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await f.request(`/v1/tasks/${id}/history${q}`);
      expect(r.status).to.equal(200);
      expect(Object.keys(r.body).sort()).to.deep.equal(['items', 'nextCursor']);
      items.push(...(r.body.items as { status: string; by: string }[]));
      cursor = r.body.nextCursor as string | null;
      pages++;
    } while (cursor);
    expect(pages).to.equal(Math.ceil((1 + 3 * cycles) / 8));
    expect(items.map((h) => h.status)).to.deep.equal([
      'queued',
      ...Array.from({ length: cycles }, () => ['running', 'failed', 'queued']).flat(),
    ]);
    expect(items.filter((h) => h.status === 'running').map((h) => h.by)).to.deep.equal(
      Array.from({ length: cycles }, (_, n) => `w${n}`),
    );
    const task = await f.request(`/v1/tasks/${id}`);
    expect(task.body.historyOffset).to.equal(items.length - task.body.history.length);
    expect(items.slice(-task.body.history.length)).to.deep.equal(task.body.history);
    const all = await f.request(`/v1/tasks/${id}/history?limit=500`);
    expect(all.body).to.deep.equal({ items, nextCursor: null });
    // Default: 50 entries.
    const first = await f.request(`/v1/tasks/${id}/history`);
    expect(first.body.items).to.deep.equal(items.slice(0, 50));
    expect(first.body.nextCursor).to.be.a('string');
  });

  it('when limit or cursor is bad, then 400 naming it; an unknown task is 404', async () => {
    for (const q of [
      'limit=0',
      'limit=501',
      'limit=abc',
      'limit=5&limit=6',
      'cursor=%24ne',
      'cursor=aDk5OTk5',
      'other=1',
    ]) {
      const r = await f.request(`/v1/tasks/${id}/history?${q}`);
      expect(r.status, q).to.equal(400);
      expect(r.headers.get('content-type'), q).to.match(/^application\/problem\+json/);
      expect(r.body.code, q).to.equal('VALIDATION_FAILED');
    }
    const limit = await f.request(`/v1/tasks/${id}/history?limit=501`);
    expect(JSON.stringify(limit.body.fields)).to.include('limit');
    const forged = await f.request(`/v1/tasks/${id}/history?cursor=aDk5OTk5`); // "h99999", past the end
    expect(JSON.stringify(forged.body.fields)).to.include('cursor');
    for (const missing of ['no-such-task', 'bad%20id']) {
      const r = await f.request(`/v1/tasks/${missing}/history`);
      expect(r.status, missing).to.equal(404);
      expect(r.body.code).to.equal('TASK_NOT_FOUND');
    }
  });

  it('when the OpenAPI document is read, then it describes the history route', async () => {
    const doc = await f.request('/openapi.json');
    const op = doc.body.paths['/v1/tasks/{id}/history'].get;
    expect(op.operationId).to.equal('task-history');
    expect(op.parameters.map((p: { name?: string; $ref?: string }) => p.name ?? p.$ref)).to.include.members([
      'limit',
      'cursor',
    ]);
  });
});
