/**
 * Retention against the real services (docs/retention.md): a type's retention set over REST
 * removes its finished tasks, which then answer 404, leave the lists and the counts; other types
 * keep theirs under the store's default.
 */
import { expect } from 'chai';
import type { Task } from '@tasks/contracts';
import { api, startSystem, waitForStatus, type RunningSystem } from '@tasks/testkit';

describe('retention (e2e: store, gateway, executor and broker)', function () {
  this.timeout(120_000);
  let sys: RunningSystem;

  before(async () => {
    sys = await startSystem({
      executors: 1,
      storeEnv: { TASK_RETENTION_SECONDS: '3600', RETENTION_SWEEP_INTERVAL_MS: '200' },
    });
  });
  after(async () => {
    await sys.stop();
  });

  const submit = async (type: string, payload: unknown): Promise<Task> => {
    const res = await api(sys.gatewayUrl, '/v1/tasks', { method: 'POST', json: { type, payload } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as Task;
  };

  it('when a finished task passes its type’s retention, then GET answers 404 TASK_NOT_FOUND and lists and counts drop it', async () => {
    const set = await api(sys.gatewayUrl, '/v1/task-types/noop', {
      method: 'PATCH',
      json: { retentionSeconds: 1 },
    });
    expect(set.status, JSON.stringify(set.body)).to.equal(200);
    expect(set.body.retention).to.deep.equal({ seconds: 1, source: 'type' });

    const kept = await submit('sleep', { ms: 1 });
    const removed = await submit('noop', {});
    await waitForStatus(sys.gatewayUrl, kept.id, ['succeeded']);
    await waitForStatus(sys.gatewayUrl, removed.id, ['succeeded']);

    const deadline = Date.now() + 60_000;
    let r = await api(sys.gatewayUrl, `/v1/tasks/${removed.id}`);
    while (r.status === 200 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      r = await api(sys.gatewayUrl, `/v1/tasks/${removed.id}`);
    }
    expect(r.status).to.equal(404);
    expect(r.body.code).to.equal('TASK_NOT_FOUND');
    expect((await api(sys.gatewayUrl, `/v1/tasks/${removed.id}/events`)).status).to.equal(404);

    const kept2 = await api(sys.gatewayUrl, `/v1/tasks/${kept.id}`);
    expect(kept2.status).to.equal(200);
    const list = await api(sys.gatewayUrl, '/v1/tasks?status=succeeded&limit=50');
    const ids = (list.body.items as Task[]).map((t) => t.id);
    expect(ids).to.include(kept.id);
    expect(ids).to.not.include(removed.id);
    const stats = await api(sys.gatewayUrl, '/v1/stats');
    expect(stats.body.byType.noop?.succeeded ?? 0).to.equal(0);
    expect(stats.body.byType.sleep.succeeded).to.equal(1);
  });
});
