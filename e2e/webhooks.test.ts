import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Task, WebhookDelivery } from '@tasks/contracts';
import { api, startSystem, waitForStatus, type RunningSystem } from '@tasks/testkit';
import { startReceiver, type WebhookReceiver } from '@tasks/testkit';

const SECRET = randomBytes(24).toString('hex'); // 48 characters

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('completion webhooks (e2e: the system as processes, a local receiver)', function () {
  this.timeout(120_000);
  let sys: RunningSystem;
  let receiver: WebhookReceiver;
  let downAnswers = 503;

  before(async () => {
    receiver = await startReceiver(SECRET, (path, _id, seen) => {
      if (path.startsWith('/flaky')) return seen === 0 ? 500 : 200;
      if (path.startsWith('/down')) return downAnswers;
      if (path.startsWith('/task-500')) return 500;
      return 200;
    });
    sys = await startSystem({
      storeEnv: { WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_RETRY_BASE_MS: '200' },
      executorEnv: { WEBHOOK_SECRET: SECRET, WEBHOOK_POLL_MS: '100', HTTP_ALLOW_HOSTS: receiver.host },
    });
  });

  after(async () => {
    const codes = await sys.stop();
    await receiver.close();
    expect(codes, 'every service exits 0 on SIGTERM').to.deep.equal(
      Object.fromEntries(Object.keys(codes).map((k) => [k, 0])),
    );
  });

  const create = async (json: object): Promise<Task> => {
    const res = await api(sys.gatewayUrl, '/v1/tasks', { method: 'POST', json });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as Task;
  };
  const deliveries = async (taskId: string): Promise<WebhookDelivery[]> => {
    const res = await api(sys.gatewayUrl, `/v1/tasks/${taskId}/webhooks`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return (res.body as { items: WebhookDelivery[] }).items;
  };
  const settled = (taskId: string, state: WebhookDelivery['state'], count = 1) =>
    until(`${count} ${state} deliveries of ${taskId}`, async () => {
      const items = await deliveries(taskId);
      return items.length === count && items.every((d) => d.state === state) ? items : undefined;
    });

  it('when a task with a webhook succeeds, then its task is POSTed once, signed over "<timestamp>.<raw body>" with WEBHOOK_SECRET', async () => {
    const t = await create({
      type: 'noop',
      payload: { n: 1 },
      webhook: { url: `${receiver.url}/ok?task=1` },
    });
    expect(t.webhook).to.deep.equal({ url: `${receiver.url}/ok?task=1` });
    const done = await waitForStatus(sys.gatewayUrl, t.id, ['succeeded']);
    const [d] = await settled(t.id, 'delivered');
    expect(d).to.include({
      id: `${t.id}:${done.version}`,
      status: 'succeeded',
      attempts: 1,
      lastStatusCode: 200,
    });
    const got = receiver.received.filter((r) => r.id === d!.id);
    expect(got).to.have.length(1);
    const r = got[0]!;
    expect(r.path).to.equal('/ok?task=1');
    expect(r.contentType).to.equal('application/json');
    expect(r.signature).to.match(/^v1=[0-9a-f]{64}$/);
    expect(r.signatureValid).to.equal(true);
    expect(r.timestamp).to.match(/^[0-9]{10}$/);
    const body = JSON.parse(r.raw) as Task;
    expect(body).to.include({ id: t.id, status: 'succeeded', version: done.version });
    expect(body.webhook).to.deep.equal({ url: `${receiver.url}/ok?task=1` });
  });

  it('when tasks fail or are cancelled, then each terminal status is POSTed; a batch carries webhooks per task', async () => {
    const res = await api(sys.gatewayUrl, '/v1/tasks/batch', {
      method: 'POST',
      json: {
        tasks: [
          // Its one attempt reaches no host (no such name, or no network): failed.
          {
            type: 'http.request',
            payload: { url: 'http://no-such-host.example/', timeoutMs: 2_000 },
            maxAttempts: 1,
            webhook: { url: `${receiver.url}/ok` },
          },
          { type: 'sleep', payload: { ms: 60_000 }, delayMs: 60_000, webhook: { url: `${receiver.url}/ok` } },
        ],
      },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const [failing, waiting] = (res.body as { items: Task[] }).items as [Task, Task];
    await waitForStatus(sys.gatewayUrl, failing.id, ['failed']);
    const cancel = await api(sys.gatewayUrl, `/v1/tasks/${waiting.id}`, {
      method: 'PATCH',
      json: { status: 'cancelled' },
    });
    expect(cancel.status).to.equal(200);
    const [f] = await settled(failing.id, 'delivered');
    const [c] = await settled(waiting.id, 'delivered');
    const statusOf = (id: string) =>
      (JSON.parse(receiver.received.find((r) => r.id === id)!.raw) as Task).status;
    expect(statusOf(f!.id)).to.equal('failed');
    expect(statusOf(c!.id)).to.equal('cancelled');
  });

  it('when the receiver answers 500 first, then the delivery is retried with the same Webhook-Id and body and ends delivered', async () => {
    const t = await create({ type: 'noop', payload: {}, webhook: { url: `${receiver.url}/flaky` } });
    const [d] = await settled(t.id, 'delivered');
    expect(d).to.include({ attempts: 2, lastStatusCode: 200, lastError: null });
    expect(d!.attemptLog.map((a) => a.statusCode)).to.deep.equal([500, 200]);
    const got = receiver.received.filter((r) => r.id === d!.id);
    expect(got.map((r) => r.answered)).to.deep.equal([500, 200]);
    expect(got[1]!.raw).to.equal(got[0]!.raw);
    expect(got.every((r) => r.signatureValid)).to.equal(true);
  });

  it('when the receiver keeps failing, then the delivery is given up after the last attempt and visible; redeliver sends it again', async () => {
    downAnswers = 503;
    const t = await create({ type: 'noop', payload: {}, webhook: { url: `${receiver.url}/down` } });
    const [d] = await settled(t.id, 'failed');
    expect(d).to.include({ attempts: 3, maxAttempts: 3, lastStatusCode: 503, nextAttemptAt: null });
    expect(receiver.received.filter((r) => r.id === d!.id)).to.have.length(3);
    downAnswers = 200;
    const again = await api(sys.gatewayUrl, `/v1/tasks/${t.id}/webhooks/${d!.id}/redeliver`, {
      method: 'POST',
      json: {},
    });
    expect(again.status, JSON.stringify(again.body)).to.equal(202);
    expect(again.body).to.include({ id: d!.id, state: 'pending', attempts: 0 });
    const [after] = await settled(t.id, 'delivered');
    expect(after!.attemptLog.map((a) => a.statusCode)).to.deep.equal([503, 503, 503, 200]);
  });

  it('when a webhook is refused or a delivery is unknown, then 400 or 404 and nothing changes', async () => {
    for (const url of ['ftp://127.0.0.1/x', 'http://u:p@127.0.0.1/x', `http://h/${'x'.repeat(2050)}`]) {
      const res = await api(sys.gatewayUrl, '/v1/tasks', {
        method: 'POST',
        json: { type: 'noop', webhook: { url } },
      });
      expect(res.status, url.slice(0, 40)).to.equal(400);
      expect(res.body.code).to.equal('VALIDATION_FAILED');
    }
    const unknown = await api(sys.gatewayUrl, '/v1/tasks/no-such-task/webhooks');
    expect([unknown.status, unknown.body.code]).to.deep.equal([404, 'TASK_NOT_FOUND']);
    const t = await create({ type: 'noop', payload: {} });
    expect(await deliveries(t.id)).to.deep.equal([]);
    for (const path of [`${t.id}:3`, 'other-task:3', `${t.id}:x`]) {
      const res = await api(sys.gatewayUrl, `/v1/tasks/${t.id}/webhooks/${path}/redeliver`, {
        method: 'POST',
        json: {},
      });
      expect([res.status, res.body.code], path).to.deep.equal([404, 'WEBHOOK_DELIVERY_NOT_FOUND']);
    }
  });
});
