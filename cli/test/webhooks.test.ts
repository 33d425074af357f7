import { expect } from 'chai';
import type { WebhookDelivery } from '@tasks/contracts';
import { noopType, startStore, type StoreFixture } from '@tasks/testkit';
import { errorType, tasksctl } from './support/run.js';

describe('tasksctl webhooks against a real store (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore({ WEBHOOK_MAX_ATTEMPTS: '4' })));
  afterEach(() => f.close());

  const run = (...argv: string[]) => tasksctl([...argv, '--url', f.url]);
  /** A task with a webhook that succeeded: one delivery, pending. */
  const finished = async () => {
    const { task } = await f.client.call('tasks.create', {
      type: noopType.type,
      payload: { n: 1 },
      webhook: { url: 'http://127.0.0.1:9/hook' },
    });
    const { leaseId } = await f.client.call('tasks.claim', { id: task.id, workerId: 'w1', leaseMs: 30_000 });
    const done = await f.client.call('tasks.complete', { id: task.id, leaseId: leaseId! });
    return { id: task.id, deliveryId: `${task.id}:${done.version}` };
  };

  it('when a task has a delivery, then one row shows its id, status, state, attempts of the maximum, last code and next attempt', async () => {
    const t = await finished();
    const { code, stdout, stderr } = await run('webhooks', t.id);
    expect(code, stderr).to.equal(0);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header).to.match(/^ID\s+STATUS\s+STATE\s+ATTEMPTS\s+LAST CODE\s+NEXT ATTEMPT\s+LAST ERROR$/);
    expect(rows).to.have.length(1);
    const cells = rows[0]!.split(/\s{2,}/);
    expect(cells.slice(0, 5)).to.deep.equal([t.deliveryId, 'succeeded', 'pending', '0/4', '-']);
    expect(cells[5]).to.match(/^\d{4}-\d\d-\d\d \S+Z/);
  });

  it('when asked for JSON, then the store’s items; when a task has none, then a line says so', async () => {
    const t = await finished();
    const { stdout } = await run('webhooks', t.id, '--json');
    const items = (JSON.parse(stdout) as { items: WebhookDelivery[] }).items;
    expect(items.map((d) => [d.id, d.state])).to.deep.equal([[t.deliveryId, 'pending']]);
    const { task } = await f.client.call('tasks.create', { type: noopType.type, payload: { n: 1 } });
    expect((await run('webhooks', task.id)).stdout).to.equal('no webhook deliveries\n');
  });

  it('when a delivery is redelivered, then it is pending again with attempts from 0', async () => {
    const t = await finished();
    const { code, stdout, stderr } = await run('webhooks', 'redeliver', t.deliveryId);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.equal(`webhook delivery ${t.deliveryId} is pending again\n`);
    const [d] = (await f.client.call('webhooks.list', { taskId: t.id })).items;
    expect(d).to.include({ state: 'pending', attempts: 0 });
  });

  it('when the task or delivery is unknown or the arguments do not fit, then one error line and a non-zero exit', async () => {
    const unknownTask = await run('webhooks', 'no-such-task');
    expect(errorType(unknownTask.stderr)).to.equal('TASK_NOT_FOUND');
    expect(unknownTask.code).to.not.equal(0);
    const unknownDelivery = await run('webhooks', 'redeliver', 'no-such-task:3');
    expect(errorType(unknownDelivery.stderr)).to.equal('WEBHOOK_DELIVERY_NOT_FOUND');
    const missing = await run('webhooks', 'redeliver');
    expect(missing.code).to.not.equal(0);
    expect(missing.stderr).to.include('delivery id');
    const extra = await run('webhooks', 'some-task', 'some-task:3');
    expect(extra.code).to.not.equal(0);
  });
});
