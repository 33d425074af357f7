/**
 * Priorities against the real broker and store: one executor that runs one io task at a time
 * starts waiting tasks of a type highest priority first, in creation order among equals
 * (docs/priorities.md). The order is read from the store's startedAt.
 */
import { expect } from 'chai';
import amqplib from 'amqplib';
import { DELIVERY_LIMIT, type Task } from '@tasks/contracts';
import { AMQP_URL, startExecutorHarness, type ExecutorHarness } from '@tasks/testkit';

const PRIORITIES = [0, 3, 9, 0, 9, 3, 5, 0, 9, 1];

/** The tasks' priorities in the order they started (startedAt), with ids to check FIFO within a priority. */
function startOrder(tasks: Task[]): Task[] {
  return [...tasks].sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
}

/** Expected: by priority, highest first, then in creation (submission) order. */
function expectedOrder(submitted: Task[]): string[] {
  return submitted
    .map((t, i) => ({ t, i }))
    .sort((a, b) => b.t.priority - a.t.priority || a.i - b.i)
    .map(({ t }) => t.id);
}

describe('priorities (integration: RabbitMQ, store, FerretDB)', function () {
  this.timeout(60_000);
  let sys: ExecutorHarness;
  beforeEach(async () => (sys = await startExecutorHarness()));
  afterEach(() => sys.close());

  async function submitMixed(): Promise<Task[]> {
    const submitted: Task[] = [];
    for (const priority of PRIORITIES)
      submitted.push(await sys.submit('test.sleep', { ms: 30 }, { priority }));
    return submitted;
  }

  async function finished(submitted: Task[]): Promise<Task[]> {
    const done: Task[] = [];
    for (const t of submitted) done.push(await sys.waitFor(t.id, (x) => x.status === 'succeeded'));
    return done;
  }

  it('when tasks of mixed priorities wait for an executor of their type, then it starts them highest priority first, FIFO among equals', async () => {
    await (await sys.startExecutor()).stop(); // registers the types and declares their queues
    const submitted = await submitMixed();
    await sys.startExecutor({ IO_CONCURRENCY: '1' });
    const order = startOrder(await finished(submitted));
    expect(order.map((t) => t.priority)).to.deep.equal([...PRIORITIES].sort((a, b) => b - a));
    expect(order.map((t) => t.id)).to.deep.equal(expectedOrder(submitted));
  });

  it('when tasks of mixed priorities arrive while the executor is busy, then the freed slot goes to the highest priority first', async () => {
    await sys.startExecutor({ IO_CONCURRENCY: '1' });
    // Long enough for the ten submissions to be in before the slot frees, even on a busy machine.
    const blocker = await sys.submit('test.sleep', { ms: 4_000 });
    await sys.waitFor(blocker.id, (t) => t.status === 'running');
    const submitted = await submitMixed();
    const allIn = Date.now();
    const order = startOrder(await finished(submitted));
    const blockerDone = await sys.waitFor(blocker.id, (t) => t.status === 'succeeded');
    expect(allIn, 'every task submitted while the blocker ran').to.be.below(
      Date.parse(blockerDone.finishedAt!),
    );
    expect(Date.parse(order[0]!.startedAt!), 'all waited for the blocker').to.be.at.least(
      Date.parse(blockerDone.finishedAt!),
    );
    expect(order.map((t) => t.id)).to.deep.equal(expectedOrder(submitted));
  });

  it('when a message of a priority band passes the delivery limit, then it is dead-lettered from its band’s queue', async () => {
    const band5 = sys.topo.typeQueue('test.sleep', 5);
    const body = { taskId: 'poison', type: 'test.sleep', kind: 'io', version: 1, priority: 5 };
    await sys.publishRaw('test.sleep', Buffer.from(JSON.stringify(body)), 5);
    const conn = await amqplib.connect(AMQP_URL);
    const ch = await conn.createChannel();
    for (let i = 0; i <= DELIVERY_LIMIT; i++) {
      let msg = await ch.get(band5);
      for (let n = 0; !msg && n < 50; n++) {
        await new Promise((r) => setTimeout(r, 50));
        msg = await ch.get(band5);
      }
      expect(msg, `delivery ${i + 1}`).to.not.equal(false);
      if (msg) ch.nack(msg, false, true);
    }
    let dead = await sys.getDead();
    for (let n = 0; !dead && n < 50; n++) {
      await new Promise((r) => setTimeout(r, 50));
      dead = await sys.getDead();
    }
    await conn.close();
    expect(dead, 'dead-lettered').to.not.equal(false);
    if (!dead) return;
    expect(JSON.parse(dead.content.toString())).to.include({ taskId: 'poison', priority: 5 });
    const death = (dead.properties.headers?.['x-death'] as { queue: string; reason: string }[])[0];
    expect(death).to.include({ queue: band5, reason: 'delivery_limit' });
  });
});
