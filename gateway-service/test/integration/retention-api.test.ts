import { expect } from 'chai';
import { startGatewayFixture, type GatewayFixture } from '@tasks/testkit';

describe('REST API: a task type’s retention (integration: store, RabbitMQ, FerretDB)', function () {
  this.timeout(30_000);
  let f: GatewayFixture;
  before(async () => (f = await startGatewayFixture()));
  after(() => f.close());

  it('when retentionSeconds is patched, then GET shows it as the type’s own, and null returns to the default', async () => {
    const patched = await f.request('/v1/task-types/test.sleep', {
      method: 'PATCH',
      json: { retentionSeconds: 86_400 },
    });
    expect(patched.status).to.equal(200);
    expect(patched.body).to.include({ type: 'test.sleep', retentionSeconds: 86_400, paused: false });
    expect(patched.body.retention).to.deep.equal({ seconds: 86_400, source: 'type' });

    const shown = await f.request('/v1/task-types/test.sleep');
    expect(shown.body).to.include({ kind: 'io', retentionSeconds: 86_400 });
    expect(shown.body.retention).to.deep.equal({ seconds: 86_400, source: 'type' });
    expect((await f.request('/v1/task-types/test.sleep/limits')).body).to.include({
      retentionSeconds: 86_400,
    });

    const list = await f.request('/v1/task-types');
    expect(list.body.retention).to.deep.equal({ defaultSeconds: 604_800, idempotencyKeyTtlSeconds: 86_400 });
    expect(list.body.items.find((t: { type: string }) => t.type === 'test.sleep')).to.include({
      retentionSeconds: 86_400,
    });

    // Together with paused, and back to the default.
    const both = await f.request('/v1/task-types/test.sleep', {
      method: 'PATCH',
      json: { paused: true, retentionSeconds: null },
    });
    expect(both.status).to.equal(200);
    expect(both.body).to.include({ paused: true, retentionSeconds: null });
    expect(both.body.retention).to.deep.equal({ seconds: 604_800, source: 'default' });
    // Pausing alone keeps the retention as it is.
    await f.request('/v1/task-types/test.sleep', { method: 'PATCH', json: { retentionSeconds: 120 } });
    const resumed = await f.request('/v1/task-types/test.sleep', {
      method: 'PATCH',
      json: { paused: false },
    });
    expect(resumed.body).to.include({ paused: false, retentionSeconds: 120 });
  });

  it('when retentionSeconds is out of bounds, fractional, a string, or the body is empty, then 400 VALIDATION_FAILED naming the field, and nothing changes', async () => {
    const before = (await f.request('/v1/task-types/test.sleep')).body;
    for (const json of [
      { retentionSeconds: 0 },
      { retentionSeconds: 315_360_001 },
      { retentionSeconds: 2.5 },
      { retentionSeconds: '3600' },
      { retentionSeconds: 60, other: 1 },
      {},
    ]) {
      const r = await f.request('/v1/task-types/test.sleep', { method: 'PATCH', json });
      expect(r.status, JSON.stringify(json)).to.equal(400);
      expect(r.body.code).to.equal('VALIDATION_FAILED');
      expect(r.body.fields).to.be.an('array').that.is.not.empty;
    }
    const after = (await f.request('/v1/task-types/test.sleep')).body;
    expect(after).to.deep.equal(before);
  });

  it('when the type is unknown, then 404 TASK_TYPE_NOT_FOUND', async () => {
    const r = await f.request('/v1/task-types/no.such.type', {
      method: 'PATCH',
      json: { retentionSeconds: 60 },
    });
    expect(r.status).to.equal(404);
    expect(r.body.code).to.equal('TASK_TYPE_NOT_FOUND');
  });
});
