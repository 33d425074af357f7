import { expect } from 'chai';
import amqplib from 'amqplib';
import { DELIVERY_LIMIT, type Task, type WorkMessage } from '@tasks/contracts';
import { AMQP_URL, startExecutorHarness, type ExecutorHarness } from '@tasks/testkit';

/**
 * The upgrade path from the per-kind layout (`<p>.cpu`, `<p>.io`, bound to `<p>.work` with the
 * kind as key): messages left in those queues, or published there by gateways of the previous
 * version, are moved to the queues by type by the executors and run.
 */
describe('executor: queues of the per-kind layout (integration: RabbitMQ, store, FerretDB)', function () {
  this.timeout(60_000);
  let sys: ExecutorHarness;
  let conn: amqplib.ChannelModel;
  let ch: amqplib.ConfirmChannel;
  let legacy: string;

  beforeEach(async () => {
    sys = await startExecutorHarness();
    legacy = sys.topo.legacyQueues.io;
    conn = await amqplib.connect(AMQP_URL);
    ch = await conn.createConfirmChannel();
    // The io queue as the previous version declared it.
    await ch.assertQueue(legacy, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': DELIVERY_LIMIT,
        'x-dead-letter-exchange': sys.topo.deadExchange,
      },
    });
    await ch.bindQueue(legacy, sys.topo.workExchange, 'io');
    // Registered by an executor of the previous version, as its type was before the upgrade.
    await sys.store.call('taskTypes.register', {
      workerId: 'executor-of-the-previous-version',
      types: [
        {
          type: 'test.sleep',
          kind: 'io',
          payloadSchema: { type: 'object', required: ['ms'], properties: { ms: { type: 'integer' } } },
          timeoutMs: 30_000,
          maxAttempts: 3,
        },
      ],
    });
  });

  afterEach(async () => {
    await sys.close();
    await ch.deleteQueue(legacy);
    await conn.close();
  });

  /** Creates tasks in the store and publishes their messages the way the previous gateway did (key = kind). */
  async function submitTheOldWay(n: number): Promise<Task[]> {
    const tasks: Task[] = [];
    for (let i = 0; i < n; i++) {
      const { task } = await sys.store.call('tasks.create', { type: 'test.sleep', payload: { ms: 10 } });
      const msg: WorkMessage = { taskId: task.id, type: task.type, kind: task.kind, version: task.version };
      ch.publish(sys.topo.workExchange, task.kind, Buffer.from(JSON.stringify(msg)), {
        persistent: true,
        contentType: 'application/json',
        messageId: `${task.id}:${task.version}`,
      });
      tasks.push(task);
    }
    await ch.waitForConfirms();
    await sys.store.call('tasks.markPublished', {
      tasks: tasks.map((t) => ({ id: t.id, version: t.version })),
    });
    return tasks;
  }

  async function expectAllSucceeded(tasks: Task[]): Promise<void> {
    for (const t of tasks) {
      const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded' || x.status === 'failed');
      expect(done.status, `status of ${t.id}`).to.equal('succeeded');
      expect(done.history.map((h) => h.status)).to.deep.equal(['queued', 'running', 'succeeded']);
    }
  }

  it('when the old io queue holds messages as an executor starts, then they run and the old queue ends empty', async () => {
    const tasks = await submitTheOldWay(20);
    expect(await sys.queueDepth(legacy), 'messages waiting in the old queue').to.equal(20);
    await sys.startExecutor();
    await expectAllSucceeded(tasks);
    expect(await sys.queueDepth(legacy), 'messages left in the old queue').to.equal(0);
    expect(await sys.typeQueueDepth('test.sleep'), 'messages left in the type queue').to.equal(0);
    expect(await sys.getDead(), 'a dead-lettered message').to.equal(false);
  });

  it('when a gateway of the previous version publishes into the old queue after the executor started, then those tasks run too', async () => {
    await sys.startExecutor();
    const tasks = await submitTheOldWay(5);
    await expectAllSucceeded(tasks);
    expect(await sys.queueDepth(legacy), 'messages left in the old queue').to.equal(0);
    expect(await sys.getDead(), 'a dead-lettered message').to.equal(false);
  });
});
