/**
 * Flow control against the real services (docs/flow-control.md): a concurrency limit that two
 * executors never exceed together, a rate within its stated bound, pause and resume, deadlines,
 * and all of it kept across a restart of the store and of the gateway.
 */
import { expect } from 'chai';
import type { Task } from '@tasks/contracts';
import { api, startSystem, waitForStatus, type RunningSystem } from '@tasks/testkit';

describe('flow control (e2e: two executors, real store, gateway and broker)', function () {
  this.timeout(120_000);
  let sys: RunningSystem;

  before(async () => {
    // Leases long enough that the restart test's store outage (longer on a busy machine) never
    // expires one: a lease expiry would rightly run a task again, which is not what is tested here.
    sys = await startSystem({ executors: 2, executorEnv: { LEASE_MS: '30000' } });
  });
  after(async () => {
    await sys.stop();
  });

  const submit = async (type: string, payload: unknown, extra: object = {}): Promise<Task> => {
    const res = await api(sys.gatewayUrl, '/v1/tasks', { method: 'POST', json: { type, payload, ...extra } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as Task;
  };
  const limits = async (type: string, body: object) => {
    const res = await api(sys.gatewayUrl, `/v1/task-types/${type}/limits`, { method: 'PUT', json: body });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { concurrency: number | null; ratePerSecond: number | null; rateBurst: number | null };
  };
  const pause = async (type: string, paused: boolean) => {
    const res = await api(sys.gatewayUrl, `/v1/task-types/${type}`, { method: 'PATCH', json: { paused } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { paused: boolean };
  };
  const allEnded = (tasks: Task[], timeoutMs = 60_000) =>
    Promise.all(
      tasks.map((t) => waitForStatus(sys.gatewayUrl, t.id, ['succeeded', 'failed', 'cancelled'], timeoutMs)),
    ) as Promise<Task[]>;
  /** The largest number of runs that overlapped, from the store's start and finish times. */
  const largestOverlap = (tasks: Task[]): number => {
    const edges = tasks.flatMap((t) => [
      { at: Date.parse(t.startedAt!), d: 1 },
      { at: Date.parse(t.finishedAt!), d: -1 },
    ]);
    edges.sort((a, b) => a.at - b.at || a.d - b.d); // an end before a start at the same ms
    let now = 0;
    let most = 0;
    for (const e of edges) most = Math.max(most, (now += e.d));
    return most;
  };

  it('when sleep has concurrency 2, then two executors never run more than 2 at once, and no attempt is spent waiting', async () => {
    expect(await limits('sleep', { concurrency: 2 })).to.include({ concurrency: 2, ratePerSecond: null });
    const tasks = await Promise.all(Array.from({ length: 10 }, () => submit('sleep', { ms: 300 })));
    const ended = await allEnded(tasks);
    for (const t of ended) expect(t).to.include({ status: 'succeeded', attempts: 1 });
    expect(largestOverlap(ended)).to.be.at.most(2);
    await limits('sleep', { concurrency: null });
  });

  it('when noop is limited to 5 starts a second, then 20 tasks start no faster than burst + rate × (time + 1 s)', async () => {
    const set = await limits('noop', { ratePerSecond: 5 });
    expect(set).to.include({ ratePerSecond: 5, rateBurst: 5 });
    const tasks = await Promise.all(Array.from({ length: 20 }, () => submit('noop', {})));
    const ended = await allEnded(tasks);
    for (const t of ended) expect(t).to.include({ status: 'succeeded', attempts: 1 });
    const starts = ended.map((t) => Date.parse(t.startedAt!)).sort((a, b) => a - b);
    // Over any span of T seconds at most burst + 5·(T + 1) starts (docs/flow-control.md: a start
    // time is honoured up to a second late), plus one for the span's own edge.
    for (let i = 0; i < starts.length; i++) {
      for (let j = i + 1; j < starts.length; j++) {
        const allowed = 5 + 5 * ((starts[j]! - starts[i]!) / 1000 + 1) + 1;
        expect(j - i + 1, `starts ${i}..${j}`).to.be.at.most(allowed);
      }
    }
    await limits('noop', { ratePerSecond: null });
  });

  it('when a type is paused, then its tasks wait queued without attempts, and resuming runs them', async () => {
    expect(await pause('noop', true)).to.include({ paused: true });
    const tasks = await Promise.all([1, 2, 3].map(() => submit('noop', {})));
    await new Promise((r) => setTimeout(r, 1_500));
    for (const t of tasks) {
      const now = (await api(sys.gatewayUrl, `/v1/tasks/${t.id}`)).body as Task;
      expect(now).to.include({ status: 'queued', attempts: 0 });
    }
    const shown = await api(sys.gatewayUrl, '/v1/task-types/noop');
    expect(shown.body).to.include({ type: 'noop', paused: true });
    await pause('noop', false);
    for (const t of await allEnded(tasks, 15_000)) expect(t).to.include({ status: 'succeeded', attempts: 1 });
  });

  it('when a task is not started by its expiresAt, then it ends failed with EXPIRED and never runs', async () => {
    await pause('noop', true);
    const late = await submit('noop', {}, { expiresAt: new Date(Date.now() + 1_000).toISOString() });
    const ended = await waitForStatus(sys.gatewayUrl, late.id, ['failed'], 15_000);
    expect(ended).to.include({ attempts: 0, startedAt: null });
    expect(ended.error).to.include({ code: 'EXPIRED' });
    await pause('noop', false);
    const inTime = await submit('noop', {}, { expiresAt: new Date(Date.now() + 30_000).toISOString() });
    expect(await waitForStatus(sys.gatewayUrl, inTime.id, ['succeeded'], 15_000)).to.include({ attempts: 1 });
    const bad = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: { type: 'noop', expiresAt: new Date(Date.now() - 1_000).toISOString() },
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.fields).to.deep.equal([{ path: '/expiresAt', message: 'must lie in the future' }]);
  });

  it('when the store and the gateway restart, then pause and limits hold and every task runs once', async () => {
    await limits('sleep', { concurrency: 1 });
    await pause('noop', true);
    const sleeps = await Promise.all(Array.from({ length: 4 }, () => submit('sleep', { ms: 400 })));
    const paused = await submit('noop', {});
    for (const name of ['store', 'gateway']) {
      sys.children.get(name)!.kill('SIGTERM');
      expect(await sys.exited(name)).to.equal(0);
      await sys.restart(name);
    }
    const ended = await allEnded(sleeps);
    for (const t of ended) expect(t).to.include({ status: 'succeeded', attempts: 1 });
    expect(largestOverlap(ended)).to.equal(1);
    expect((await api(sys.gatewayUrl, `/v1/tasks/${paused.id}`)).body).to.include({
      status: 'queued',
      attempts: 0,
    });
    expect((await api(sys.gatewayUrl, '/v1/task-types/noop')).body).to.include({ paused: true });
    await pause('noop', false);
    expect(await waitForStatus(sys.gatewayUrl, paused.id, ['succeeded'], 15_000)).to.include({ attempts: 1 });
    await limits('sleep', { concurrency: null });
  });

  it('when limits or pause name an unknown type or a bad value, then 404 and 400 problems', async () => {
    const unknown = await api(sys.gatewayUrl, '/v1/task-types/no.such/limits', {
      method: 'PUT',
      json: { concurrency: 1 },
    });
    expect(unknown.status).to.equal(404);
    expect(unknown.body).to.include({ code: 'TASK_TYPE_NOT_FOUND' });
    const zero = await api(sys.gatewayUrl, '/v1/task-types/noop/limits', {
      method: 'PUT',
      json: { concurrency: 0 },
    });
    expect(zero.status).to.equal(400);
    const notBool = await api(sys.gatewayUrl, '/v1/task-types/noop', {
      method: 'PATCH',
      json: { paused: 'yes' },
    });
    expect(notBool.status).to.equal(400);
    const read = await api(sys.gatewayUrl, '/v1/task-types/noop/limits');
    expect(read.body).to.include({ type: 'noop', concurrency: null, ratePerSecond: null, paused: false });
  });
});
