import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import amqplib from 'amqplib';
import { expect } from 'chai';
import {
  createLogger as storeLogger,
  loadConfig as storeConfig,
  startStoreService,
} from '@tasks/task-store-service';
import {
  AMQP_URL,
  dispatchOnce,
  startExecutorHarness,
  startTcpProxy,
  type ExecutorHarness,
  testMongoUrl,
} from '@tasks/testkit';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

type Call = { method: string; params?: { stopping?: boolean } };

interface StoreHopHooks {
  /** Sees each request's calls before it is forwarded; may hold it there. */
  before?(calls: Call[]): Promise<void> | void;
  /** May change the store's answer to them. */
  rewrite?(calls: Call[], answer: string): string;
}

/** An HTTP hop in front of the store, for a test to hold or change what passes. */
async function storeHop(storeUrl: string, hooks: StoreHopHooks): Promise<Server & { url: string }> {
  const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const parsed = JSON.parse(body) as Call | Call[];
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    await hooks.before?.(calls);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const h of ['authorization', 'x-request-id'])
      if (req.headers[h]) headers[h] = String(req.headers[h]);
    const upstream = await fetch(storeUrl, { method: 'POST', headers, body });
    const answer = await upstream.text();
    res
      .writeHead(upstream.status, { 'content-type': 'application/json' })
      .end(hooks.rewrite ? hooks.rewrite(calls, answer) : answer);
  };
  const server = createServer((req, res) => void forward(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(server, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

/**
 * A hop that holds each periodic heartbeat for `holdMs` and tells the executor to beat every
 * 100 ms: a heartbeat is always in flight when the executor stops.
 */
function slowHeartbeats(storeUrl: string, holdMs: number): Promise<Server & { url: string }> {
  const periodic = (calls: Call[]) =>
    calls.some((c) => c.method === 'executors.heartbeat' && !c.params?.stopping);
  return storeHop(storeUrl, {
    before: async (calls) => {
      if (periodic(calls)) await new Promise((r) => setTimeout(r, holdMs));
    },
    rewrite: (calls, answer) =>
      periodic(calls) ? answer.replace(/"liveForMs":\d+/, '"liveForMs":300') : answer,
  });
}

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`. */
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('executor under faults (integration)', function () {
  this.timeout(90_000);
  let sys: ExecutorHarness;
  beforeEach(async () => (sys = await startExecutorHarness()));
  afterEach(() => sys.close());

  it('when the store is down as a task finishes, then the outcome is recorded once it is back, and only then acked', async () => {
    const ex = await sys.startExecutor();
    const t = await sys.submit('test.sleep', { ms: 1_500 });
    await sys.waitFor(t.id, (x) => x.status === 'running');
    const port = sys.storeService.port;
    await sys.storeService.close();
    await new Promise((r) => setTimeout(r, 2_500)); // the task finished meanwhile; complete is being retried
    expect(ex.executor.inFlight, 'the delivery is still held, unacked').to.equal(1);
    // Same database, same port: a restarted store.
    const restarted = await startStoreService(
      storeConfig({ MONGO_URL: testMongoUrl(), MONGO_DB: sys.storeDbName, PORT: String(port) }),
      storeLogger('silent'),
    );
    try {
      const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded');
      expect(done.history.filter((h) => h.status === 'succeeded')).to.have.length(1);
      for (let i = 0; i < 50 && ex.executor.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(ex.executor.inFlight).to.equal(0);
      expect(await sys.queueDepth(sys.topo.typeQueue('test.sleep'))).to.equal(0);
    } finally {
      sys.storeService = restarted;
    }
  });

  it('when an executor is killed mid-task, then another finishes it and the history shows one success', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import=tsx', MAIN], {
      env: { ...process.env, ...sys.executorEnv, WORKER_ID: 'doomed', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      for (let i = 0; i < 300; i++) {
        const { items } = await sys.store.call('taskTypes.list', {});
        if (items.some((x) => x.type === 'test.sleep')) break; // the child has started and registered
        await new Promise((r) => setTimeout(r, 100));
      }
      const t = await sys.submit('test.sleep', { ms: 4_000 });
      const running = await sys.waitFor(t.id, (x) => x.status === 'running', 30_000);
      expect(running.leaseOwner).to.equal('doomed');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await sys.startExecutor({ WORKER_ID: 'survivor' });
      // The redelivered message meets a live lease and is skipped; once the lease expires the
      // dispatcher (the gateway's job) re-queues and re-publishes the task.
      await sys.waitFor(
        t.id,
        (x) => x.leaseExpiresAt !== null && Date.parse(x.leaseExpiresAt) < Date.now(),
        10_000,
      );
      expect(await dispatchOnce(sys)).to.equal(1);
      const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded', 30_000);
      expect(done.history.filter((h) => h.status === 'succeeded')).to.have.length(1);
      expect(done.history.filter((h) => h.status === 'running').map((h) => h.by)).to.deep.equal([
        'doomed',
        'survivor',
      ]);
      expect(done.attempts).to.equal(2);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('when the executor shuts down with a task still running past the grace period, then the task is handed back uncounted', async () => {
    const ex = await sys.startExecutor({ SHUTDOWN_GRACE_MS: '300' });
    const quick = await sys.submit('test.sleep', { ms: 100 });
    const slow = await sys.submit('test.sleep', { ms: 20_000 });
    await sys.waitFor(slow.id, (x) => x.status === 'running');
    await ex.stop();
    expect((await sys.store.call('tasks.get', { id: quick.id })).status).to.equal('succeeded');
    const back = await sys.store.call('tasks.get', { id: slow.id });
    expect(back).to.include({ status: 'queued', attempts: 0 });
    expect(
      await sys.queueDepth(sys.topo.typeQueue('test.sleep')),
      'the message is back in the queue',
    ).to.equal(1);
  });
  it('when an executor stops with a delivery it never started, then it hands it back as a new message, not counted toward the delivery limit', async () => {
    await (await sys.startExecutor()).stop(); // registers the task types
    // One io slot, two io types (each consumer has a prefetch of 1): one task runs, the other is
    // delivered and waits for the slot. Which one runs is up to the broker.
    const tasks = [await sys.submit('test.sleep', { ms: 60_000 }), await sys.submit('sleep', { ms: 60_000 })];
    const ex = await sys.startExecutor({ IO_CONCURRENCY: '1', SHUTDOWN_GRACE_MS: '100' });
    const started = await Promise.any(tasks.map((t) => sys.waitFor(t.id, (x) => x.status === 'running')));
    for (let n = 0; (await sys.typeQueueDepth('test.sleep')) + (await sys.typeQueueDepth('sleep')) > 0; n++) {
      if (n > 200) throw new Error('the waiting task was not delivered to the executor');
      await new Promise((r) => setTimeout(r, 25));
    }
    await ex.stop();
    const waiter = tasks.find((t) => t.id !== started.id)!;
    expect(await sys.store.call('tasks.get', { id: waiter.id })).to.include({
      status: 'queued',
      attempts: 0,
      version: waiter.version,
    });
    const back = await sys.takeWork(waiter.type);
    expect(back && JSON.parse(back.content.toString())).to.include({
      taskId: waiter.id,
      version: waiter.version,
    });
    // A nack would have returned it with a count; five such stops would have dead-lettered it.
    expect(back && Number(back.properties.headers?.['x-delivery-count'] ?? 0)).to.equal(0);
    expect(back && back.fields.redelivered).to.equal(false);
    // The one that ran was released (its attempt not counted) and its message returned.
    expect(await sys.store.call('tasks.get', { id: started.id })).to.include({
      status: 'queued',
      attempts: 0,
    });
    expect(await sys.typeQueueDepth(started.type)).to.equal(1);
  });

  it('when an executor stops while a heartbeat is in flight, then stats name its types unserved at once', async () => {
    const hop = await slowHeartbeats(sys.storeService.url, 400);
    try {
      const ex = await sys.startExecutor({ STORE_URL: hop.url, SHUTDOWN_GRACE_MS: '100' });
      await new Promise((r) => setTimeout(r, 500)); // the periodic beats have begun
      await ex.stop();
      await sys.submit('test.sleep', { ms: 10 });
      const { unservedTypes } = await sys.store.call('tasks.stats', {});
      // Had the held beat landed after the leaving one, the executor would count as live for 30 s.
      expect(unservedTypes.map((u) => u.type)).to.include('test.sleep');
    } finally {
      hop.close();
    }
  });
  it('when a stopping executor loses its broker connection, then it reconnects without consuming, and the store records only the claims it had sent', async () => {
    // The executor's broker connection goes through a proxy this test can reset; its store calls
    // through a hop that holds every claim until the test lets them go.
    const broker = new URL(AMQP_URL);
    const amqpProxy = await startTcpProxy(Number(broker.port || 5672), broker.hostname);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let claimsSeen = 0;
    const hop = await storeHop(sys.storeService.url, {
      before: async (calls) => {
        const claims = calls.filter((c) => c.method === 'tasks.claim').length;
        if (claims === 0) return;
        claimsSeen += claims;
        await gate;
      },
    });
    const via = new URL(AMQP_URL);
    via.hostname = '127.0.0.1';
    via.port = String(amqpProxy.port);
    let conn: amqplib.ChannelModel | undefined;
    try {
      const ex = await sys.startExecutor({
        WORKER_ID: 'stopping',
        STORE_URL: hop.url,
        AMQP_URL: via.toString(),
        SHUTDOWN_GRACE_MS: '10000',
      });
      const sent = [await sys.submit('test.sleep', { ms: 50 }), await sys.submit('test.sleep', { ms: 50 })];
      await until('both claims held in the hop', () => claimsSeen === 2);
      const stopped = ex.stop();
      expect(ex.executor.claimsInFlight, 'claims sent and unanswered when shutdown began').to.equal(2);

      const connections = amqpProxy.accepted;
      amqpProxy.reset();
      await until('the executor to reconnect to the broker', () => amqpProxy.accepted > connections);
      // Its channels are set up again now. (Before the reset, a queue's consumer count is no
      // witness: a quorum queue counts a cancelled consumer while it holds unacked deliveries.)
      const later = [];
      for (let i = 0; i < 3; i++) later.push(await sys.submit('test.sleep', { ms: 50 }));
      // A consumer set up again would take them within milliseconds, and claim them through the hop.
      const queue = sys.topo.typeQueue('test.sleep');
      const ch = await (conn = await amqplib.connect(AMQP_URL)).createChannel();
      for (const t0 = Date.now(); Date.now() - t0 < 1_500;) {
        const { consumerCount } = await ch.checkQueue(queue);
        expect(consumerCount, 'consumers of the queue after the reconnect').to.equal(0);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(claimsSeen, 'claims sent after shutdown began').to.equal(2);
      // The three new ones, and the two whose deliveries the reset returned to the queue.
      expect(await sys.queueDepth(queue), 'messages waiting in the queue').to.equal(5);

      release();
      await stopped;
      for (const t of sent) {
        const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded');
        expect(done.history.filter((h) => h.status === 'running').map((h) => h.by)).to.deep.equal([
          'stopping',
        ]);
      }
      await sys.startExecutor({ WORKER_ID: 'next' });
      for (const t of later) {
        const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded');
        expect(done.history.filter((h) => h.status === 'running').map((h) => h.by)).to.deep.equal(['next']);
      }
    } finally {
      release();
      await conn?.close();
      hop.close();
      await amqpProxy.close();
    }
  });
});
