import { expect } from 'chai';
import { eventRoutingKey, HEADERS, type StatusEvent } from '@tasks/contracts';
import amqplib from 'amqplib';
import { AMQP_URL, cpuMsDuring, startExecutorHarness, type ExecutorHarness } from '@tasks/testkit';

describe('executor (integration: RabbitMQ, store, FerretDB)', function () {
  this.timeout(60_000);
  let sys: ExecutorHarness;
  beforeEach(async () => (sys = await startExecutorHarness()));
  afterEach(() => sys.close());

  it('when an io task and a cpu task are published, then both succeed with their results', async () => {
    await sys.startExecutor();
    const io = await sys.submit('test.sleep', { ms: 20 });
    const cpu = await sys.submit('primes.count', { upTo: 100 });
    const doneIo = await sys.waitFor(io.id, (t) => t.status === 'succeeded');
    const doneCpu = await sys.waitFor(cpu.id, (t) => t.status === 'succeeded');
    expect(doneIo.result).to.deep.include({ slept: 20 });
    expect(doneCpu.result).to.deep.include({ count: 25 });
    expect(doneCpu.history.map((h) => h.status)).to.deep.equal(['queued', 'running', 'succeeded']);
    expect(await sys.queueDepth(sys.topo.typeQueue('test.sleep'))).to.equal(0);
    expect(await sys.queueDepth(sys.topo.typeQueue('primes.count'))).to.equal(0);
  });

  it('when messages arrive together, then their claims and outcomes share JSON-RPC batches and every task succeeds once', async () => {
    await (await sys.startExecutor()).stop(); // registers the task types
    const tasks = [];
    for (let i = 0; i < 20; i++) tasks.push(await sys.submit('noop', {}));
    // Started after the publishes: the 20 messages are delivered at once.
    const running = await sys.startExecutor({ STORE_BATCH_WINDOW_MS: '50' });
    for (const t of tasks) {
      const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded');
      expect(done.history.map((h) => h.status)).to.deep.equal(['queued', 'running', 'succeeded']);
    }
    const text = await (await fetch(`${running.opsUrl}/metrics`)).text();
    const value = (name: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
          ?.split(' ')
          .pop(),
      );
    const requests = value('executor_store_batch_calls_count');
    const calls = value('executor_store_batch_calls_sum');
    expect(calls).to.equal(40); // a claim and a complete per task
    expect(requests).to.be.below(calls);
  });

  it('when the executor starts, then its task types, built-in and from TASKS_DIR, are registered', async () => {
    await sys.startExecutor();
    const { items } = await sys.store.call('taskTypes.list', {});
    expect(items.map((t) => t.type)).to.include.members([
      'primes.count',
      'noop',
      'sleep',
      'http.request',
      'test.flaky',
      'test.spin',
    ]);
  });

  it('when a task fails once, then it is retried after a backoff and succeeds on attempt 2', async () => {
    await sys.startExecutor();
    const t = await sys.submit('test.flaky', { key: `k-${t0()}`, failTimes: 1 });
    const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded');
    expect(done.attempts).to.equal(2);
    expect(done.history.map((h) => h.status)).to.deep.equal([
      'queued',
      'running',
      'queued',
      'running',
      'succeeded',
    ]);
    expect(done.history[2]!.error).to.deep.include({ code: 'FLAKY' });
  });

  it('when every attempt fails, then the task ends failed after maxAttempts', async () => {
    await sys.startExecutor();
    const t = await sys.submit('test.flaky', { key: `k-${t0()}`, failTimes: 99 }, { maxAttempts: 2 });
    const done = await sys.waitFor(t.id, (x) => x.status === 'failed');
    expect(done.attempts).to.equal(2);
    expect(done.error).to.deep.include({ code: 'FLAKY' });
  });

  it('when the handler says the error is not retryable, then the task fails at once', async () => {
    await sys.startExecutor();
    const t = await sys.submit('test.flaky', { key: `k-${t0()}`, failTimes: 1, retryable: false });
    const done = await sys.waitFor(t.id, (x) => x.status === 'failed');
    expect(done.attempts).to.equal(1);
  });

  it('when an io task outlives its timeout, then it is recorded as TIMEOUT', async () => {
    await sys.startExecutor();
    const t = await sys.submit('test.sleep', { ms: 10_000 }, { timeoutMs: 300, maxAttempts: 1 });
    const done = await sys.waitFor(t.id, (x) => x.status === 'failed');
    expect(done.error).to.deep.include({ code: 'TIMEOUT' });
  });

  it('when a cpu task outlives its timeout, then its thread is stopped and it is recorded as TIMEOUT', async () => {
    await sys.startExecutor();
    const t = await sys.submit('test.spin', {}, { timeoutMs: 2_000 });
    await sys.waitFor(t.id, (x) => x.status === 'running');
    // Relative, not absolute, so a busy machine cannot fail it: the thread's CPU must vanish.
    const spinning = await cpuMsDuring(1_000);
    expect(spinning, 'the spinning thread burns CPU').to.be.greaterThan(150);
    const done = await sys.waitFor(t.id, (x) => x.status === 'failed');
    expect(done.error).to.deep.include({ code: 'TIMEOUT' });
    // Piscina replaces the terminated thread; let the new one finish loading (tsx) before measuring.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await cpuMsDuring(1_000), 'no thread spins after the timeout').to.be.lessThan(spinning / 2);
  });

  it('when a cpu task waits for a pool thread, then the wait does not count toward its timeout', async () => {
    await sys.startExecutor(); // CPU_WORKERS=1 and a prefetch of 2: the second task waits for the first
    const opts = { timeoutMs: 2_500, maxAttempts: 1 };
    const first = await sys.submit('test.block', { ms: 1_500 }, opts);
    const second = await sys.submit('test.block', { ms: 1_500 }, opts);
    const done = await Promise.all(
      [first, second].map((t) => sys.waitFor(t.id, (x) => x.status !== 'queued' && x.status !== 'running')),
    );
    const [a, b] = done.map((t) => [Date.parse(t.startedAt!), Date.parse(t.finishedAt!)] as const);
    expect(
      Math.max(a![1], b![1]) - Math.min(a![0], b![0]),
      'one thread ran them one after the other',
    ).to.be.greaterThan(2_500);
    for (const t of done) expect(t, JSON.stringify(t.error)).to.include({ status: 'succeeded' });
  });

  it('when a running cpu task is cancelled, then its thread stops and the cancel stands', async () => {
    await sys.startExecutor();
    const t = await sys.submit('test.spin', {});
    await sys.waitFor(t.id, (x) => x.status === 'running');
    const spinning = await cpuMsDuring(1_000);
    expect(spinning, 'the spinning thread burns CPU').to.be.greaterThan(150);
    const cancelled = await sys.store.call('tasks.cancel', { id: t.id, by: 'test' });
    // What the gateway does after recording a cancel: tell executors.
    const conn = await amqplib.connect(AMQP_URL);
    const ch = await conn.createConfirmChannel();
    const event: StatusEvent = {
      taskId: t.id,
      type: t.type,
      status: 'cancelled',
      version: cancelled.version,
      attempts: 1,
      at: cancelled.updatedAt,
    };
    ch.publish(
      sys.topo.eventsExchange,
      eventRoutingKey('cancelled', t.type),
      Buffer.from(JSON.stringify(event)),
    );
    await ch.waitForConfirms();
    await conn.close();
    await new Promise((r) => setTimeout(r, 4_000)); // the replacement thread loads meanwhile
    expect(await cpuMsDuring(1_000), 'no thread spins after the cancel').to.be.lessThan(spinning / 2);
    expect((await sys.store.call('tasks.get', { id: t.id })).status).to.equal('cancelled');
    expect(await sys.queueDepth(sys.topo.typeQueue('primes.count'))).to.equal(0);
  });

  it('when a message is poison, then it is dead-lettered with the reason and the next task still runs', async () => {
    await sys.startExecutor();
    await sys.publishRaw('test.sleep', Buffer.from('{not json'));
    await sys.publishRaw('test.sleep', Buffer.from(JSON.stringify({ taskId: 'x', kind: 'io', version: 1 })));
    const t = await sys.submit('test.sleep', { ms: 1 });
    await sys.waitFor(t.id, (x) => x.status === 'succeeded');
    const reasons: string[] = [];
    for (let i = 0; i < 20 && reasons.length < 2; i++) {
      const m = await sys.getDead();
      if (m) reasons.push(String(m.properties.headers?.[HEADERS.deadReason]));
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(reasons).to.have.length(2);
    expect(reasons.some((r) => r.includes('not JSON'))).to.equal(true);
    expect(reasons.some((r) => r.includes('not a work message'))).to.equal(true);
  });

  it('when a message of a type this executor does not serve reaches it, then it is moved to that type’s queue, not dead-lettered', async () => {
    await sys.startExecutor();
    const body = { taskId: 'x', type: 'not.served.here', kind: 'io', version: 1 };
    await sys.publishRaw('test.sleep', Buffer.from(JSON.stringify(body)));
    let waiting = 0;
    for (let i = 0; i < 50 && waiting === 0; i++) {
      waiting = await sys.typeQueueDepth('not.served.here');
      if (waiting === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(waiting, 'the message waits in its own type’s queue').to.equal(1);
    expect(await sys.getDead()).to.equal(false);
  });

  it('when a duplicate message arrives while the task runs, then the task runs once', async () => {
    await sys.startExecutor();
    await sys.startExecutor();
    const t = await sys.submit('test.sleep', { ms: 500 });
    await sys.publishRaw(
      'test.sleep',
      Buffer.from(JSON.stringify({ taskId: t.id, type: t.type, kind: t.kind, version: t.version })),
    );
    const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded');
    await new Promise((r) => setTimeout(r, 300));
    expect(done.history.filter((h) => h.status === 'running')).to.have.length(1);
    expect(done.attempts).to.equal(1);
    expect(await sys.queueDepth(sys.topo.typeQueue('test.sleep'))).to.equal(0);
  });

  it('when a message arrives before its task is due, then it is delayed again and runs once due, not held', async () => {
    const ex = await sys.startExecutor();
    const runAt = new Date(Date.now() + 2_500).toISOString();
    const { task } = await sys.store.call('tasks.create', { type: 'test.sleep', payload: { ms: 1 }, runAt });
    await sys.publishRaw(
      'test.sleep',
      Buffer.from(JSON.stringify({ taskId: task.id, type: task.type, kind: task.kind, version: 1 })),
    );
    await new Promise((r) => setTimeout(r, 600));
    expect(ex.executor.inFlight, 'the early delivery is not held while waiting').to.equal(0);
    const done = await sys.waitFor(task.id, (x) => x.status === 'succeeded', 20_000);
    expect(Date.parse(done.startedAt!)).to.be.at.least(Date.parse(runAt));
  });

  it('when a result cannot be recorded, then the task fails with RESULT_REJECTED instead of looping', async () => {
    await sys.startExecutor();
    const t = await sys.submit('test.bad-result', {});
    const done = await sys.waitFor(t.id, (x) => x.status === 'failed');
    expect(done.error).to.deep.include({ code: 'RESULT_REJECTED' });
    expect(done.attempts).to.equal(1);
  });
});

let counter = 0;
function t0(): string {
  return `${process.pid}-${Date.now()}-${counter++}`;
}
