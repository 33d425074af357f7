import { expect } from 'chai';
import type { Task } from '@tasks/contracts';
import type { RunningGateway } from '@tasks/gateway-service';
import { freePort, noopType, startGatewayWithoutBroker, startStore, type StoreFixture } from '@tasks/testkit';
import { errorType, tasksctl } from './support/run.js';

const API_KEY = 'an-api-key-of-sixteen-chars';

describe('tasksctl submit through a real gateway (integration)', () => {
  let f: StoreFixture;
  let gateway: RunningGateway;
  beforeEach(async () => {
    f = await startStore();
    // The broker is deliberately unreachable: the gateway still answers 201 once the store has
    // the task (its dispatcher would publish it later), and no RabbitMQ state is left behind.
    gateway = await startGatewayWithoutBroker(f.url, { API_KEYS: API_KEY });
  });
  afterEach(async () => {
    await gateway.stop();
    await f.close();
  });

  const submit = (...argv: string[]) =>
    tasksctl(['submit', ...argv, '--gateway', gateway.url], { TASKS_API_KEY: API_KEY });

  it('when a valid task is submitted, then the store has it queued and exit 0', async () => {
    const { code, stdout, stderr } = await submit(
      noopType.type,
      '--payload',
      '{"n": 3}',
      '--priority',
      '5',
      '--json',
    );
    expect(code, stderr).to.equal(0);
    const task = JSON.parse(stdout) as Task;
    const stored = await f.client.call('tasks.get', { id: task.id });
    expect(stored).to.include({ type: noopType.type, status: 'queued', priority: 5 });
    expect(stored.payload).to.deep.equal({ n: 3 });
  });

  it('when the same idempotency key comes with another body, then the first is reported again, then exit 4', async () => {
    const first = await submit(noopType.type, '--payload', '{"n": 1}', '--idempotency-key', 'order-42');
    expect(first.code, first.stderr).to.equal(0);
    const id = /^task (\S+) submitted/.exec(first.stdout)?.[1];
    const same = await submit(noopType.type, '--payload', '{"n": 1}', '--idempotency-key', 'order-42');
    expect(same).to.include({
      code: 0,
      stdout: `task ${id} already submitted with this idempotency key (queued)\n`,
    });
    const other = await submit(noopType.type, '--payload', '{"n": 2}', '--idempotency-key', 'order-42');
    expect(other.code).to.equal(4);
    expect(errorType(other.stderr)).to.equal('IDEMPOTENCY_CONFLICT');
  });

  it('when the type is unknown or the payload fails its schema, then exit 2', async () => {
    const unknown = await submit('no.such.type');
    expect(unknown.code).to.equal(2);
    expect(errorType(unknown.stderr)).to.equal('UNKNOWN_TASK_TYPE');
    const invalid = await submit(noopType.type, '--payload', '{"n": -1}');
    expect(invalid.code).to.equal(2);
    expect(errorType(invalid.stderr)).to.equal('PAYLOAD_INVALID');
    expect(invalid.stderr).to.include('/n');
  });

  it('when the priority is outside 0..9, then exit 2 before anything is sent', async () => {
    for (const priority of ['10', '-1', '2.5', 'high']) {
      const { code, stderr } = await submit(noopType.type, '--priority', priority);
      expect(code, priority).to.equal(2);
      expect(stderr, priority).to.include('0 to 9');
    }
    const { items } = await f.client.call('tasks.list', {});
    expect(items).to.have.length(0);
  });

  it('when the API key is wrong, then exit 6', async () => {
    const { code, stderr } = await tasksctl([
      'submit',
      noopType.type,
      '--gateway',
      gateway.url,
      '--api-key',
      `${API_KEY}x`,
    ]);
    expect(code).to.equal(6);
    expect(errorType(stderr)).to.equal('UNAUTHORIZED');
  });

  it('when nothing listens at --gateway, then exit 5', async () => {
    const { code, stderr } = await tasksctl([
      'submit',
      noopType.type,
      '--gateway',
      `http://127.0.0.1:${await freePort()}`,
    ]);
    expect(code).to.equal(5);
    expect(errorType(stderr)).to.equal('DEPENDENCY_UNAVAILABLE');
  });
});
