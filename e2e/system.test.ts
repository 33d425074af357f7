import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Flow, FlowNode, FlowSummary } from '@tasks/contracts';
import { api, followOverSse, startSystem, waitForStatus, type RunningSystem } from '@tasks/testkit';

describe('the whole system (e2e: store, gateway, executor as processes)', function () {
  this.timeout(120_000);
  let sys: RunningSystem;
  let flaky: Server;
  let flakyPort = 0;
  let failuresLeft = 0;

  before(async () => {
    // The remote endpoint of http.request tasks: a local server that fails while told to.
    flaky = createServer((_req, res) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        res.writeHead(500).end('not now');
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('fine');
      }
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    flakyPort = (flaky.address() as AddressInfo).port;
    sys = await startSystem({ executorEnv: { HTTP_ALLOW_HOSTS: `127.0.0.1:${flakyPort}` } });
  });

  after(async () => {
    const codes = await sys.stop();
    await new Promise((r) => flaky.close(r));
    expect(codes, 'every service exits 0 on SIGTERM').to.deep.equal(
      Object.fromEntries(Object.keys(codes).map((k) => [k, 0])),
    );
  });

  it('when a cpu and an io task are submitted over REST, then SSE shows each reach succeeded in order', async () => {
    const cpu = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: { type: 'primes.count', payload: { upTo: 200_000 } },
    });
    const io = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: { type: 'sleep', payload: { ms: 200 } },
    });
    expect([cpu.status, io.status]).to.deep.equal([201, 201]);
    for (const t of [cpu.body, io.body]) {
      const events = await followOverSse(sys.gatewayUrl, t.id);
      expect(events.at(-1)!.status).to.equal('succeeded');
      const versions = events.map((e) => e.version);
      expect(versions).to.deep.equal([...versions].sort((a, b) => a - b));
    }
    expect((await api(sys.gatewayUrl, `/v1/tasks/${cpu.body.id}`)).body.result).to.deep.equal({
      count: 17984,
    });
  });

  it('when a batch is submitted, then every task succeeds', async () => {
    const r = await api(sys.gatewayUrl, '/v1/tasks/batch', {
      method: 'POST',
      json: {
        tasks: Array.from({ length: 20 }, (_, i) => ({
          type: i % 2 ? 'noop' : 'hash',
          payload: i % 2 ? {} : { input: `x${i}`, algorithm: 'pbkdf2', iterations: 1000 },
        })),
      },
    });
    expect(r.status).to.equal(201);
    for (const t of r.body.items) await waitForStatus(sys.gatewayUrl, t.id, ['succeeded']);
  });

  it('when a running task is cancelled, then it ends cancelled and stays so', async () => {
    const t = (
      await api(sys.gatewayUrl, '/v1/tasks', {
        method: 'POST',
        json: { type: 'sleep', payload: { ms: 30_000 } },
      })
    ).body;
    await waitForStatus(sys.gatewayUrl, t.id, ['running']);
    const c = await api(sys.gatewayUrl, `/v1/tasks/${t.id}`, {
      method: 'PATCH',
      json: { status: 'cancelled' },
    });
    expect(c.status).to.equal(200);
    await new Promise((r) => setTimeout(r, 1_000));
    const after = (await api(sys.gatewayUrl, `/v1/tasks/${t.id}`)).body;
    expect(after.status).to.equal('cancelled');
    expect(after.history.filter((h: { status: string }) => h.status === 'succeeded')).to.have.length(0);
  });

  it('when a task fails for good and is retried, then it succeeds the second time round', async () => {
    failuresLeft = 1;
    const t = (
      await api(sys.gatewayUrl, '/v1/tasks', {
        method: 'POST',
        json: { type: 'http.request', payload: { url: `http://127.0.0.1:${flakyPort}/` }, maxAttempts: 1 },
      })
    ).body;
    const failed = await waitForStatus(sys.gatewayUrl, t.id, ['failed', 'succeeded']);
    expect(failed.status).to.equal('failed');
    const r = await api(sys.gatewayUrl, `/v1/tasks/${t.id}`, { method: 'PATCH', json: { status: 'queued' } });
    expect(r.status).to.equal(200);
    const done = await waitForStatus(sys.gatewayUrl, t.id, ['succeeded', 'failed']);
    expect(done.status).to.equal('succeeded');
    expect(done.result).to.deep.include({ status: 200 });
  });

  it('when the same submission is replayed with its Idempotency-Key, then one task exists', async () => {
    const key = `e2e-${Date.now()}`;
    const body = { type: 'noop', payload: {} };
    const a = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: body,
      headers: { 'idempotency-key': key },
    });
    const b = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: body,
      headers: { 'idempotency-key': key },
    });
    expect([a.status, b.status]).to.deep.equal([201, 200]);
    expect(b.body.id).to.equal(a.body.id);
    const done = await waitForStatus(sys.gatewayUrl, a.body.id, ['succeeded']);
    expect(done.history.filter((h: { status: string }) => h.status === 'running')).to.have.length(1);
  });

  it('when tasksctl is pointed at the running store, then it lists, shows and cancels tasks with reliable exit codes', async () => {
    const run = promisify(execFile);
    const bin = ['cli/bin/tasksctl.mjs', '--url', sys.storeUrl];
    const t = (
      await api(sys.gatewayUrl, '/v1/tasks', {
        method: 'POST',
        json: { type: 'sleep', payload: { ms: 30_000 } },
      })
    ).body;
    const stats = await run(process.execPath, [...bin, 'stats', '--json']);
    expect(JSON.parse(stats.stdout).byStatus).to.have.property('succeeded');
    const got = await run(process.execPath, [...bin, 'get', t.id, '--json']);
    expect(JSON.parse(got.stdout).id).to.equal(t.id);
    await run(process.execPath, [...bin, 'cancel', t.id, '--reason', 'e2e']);
    const again = await run(process.execPath, [...bin, 'cancel', t.id]).then(
      () => 0,
      (err: { code: number }) => err.code,
    );
    expect(again, 'cancelling twice is a conflict').to.equal(4);
    const missing = await run(process.execPath, [...bin, 'get', 'no-such-task']).then(
      () => 0,
      (err: { code: number }) => err.code,
    );
    expect(missing).to.equal(3);
  });

  /** Polls GET /v1/flows/{id} until the flow is in one of `statuses`. */
  async function waitForFlow(id: string, statuses: string[], timeoutMs = 30_000): Promise<Flow> {
    const deadline = Date.now() + timeoutMs;
    let last: Flow | undefined;
    while (Date.now() < deadline) {
      last = (await api(sys.gatewayUrl, `/v1/flows/${id}`)).body as Flow;
      if (statuses.includes(last.status)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`flow ${id} never reached ${statuses.join('|')}; last: ${JSON.stringify(last)}`);
  }

  it('when three primes.count ranges are collected by a collect node, then the flow succeeds with their counts by key', async () => {
    const created = await api(sys.gatewayUrl, '/v1/flows', {
      method: 'POST',
      json: {
        name: 'primes in three ranges',
        nodes: [
          { key: 'low', type: 'primes.count', payload: { upTo: 10_000 } },
          { key: 'mid', type: 'primes.count', payload: { upTo: 20_000 } },
          { key: 'high', type: 'primes.count', payload: { upTo: 30_000 } },
          { key: 'all', type: 'collect', payload: {}, dependsOn: ['low', 'mid', 'high'] },
        ],
      },
    });
    expect(created.status).to.equal(201);
    expect(created.headers.get('location')).to.equal(`/v1/flows/${created.body.id}`);
    expect(created.body.nodes.find((n: any) => n.key === 'all').status).to.equal('waiting');
    const events = fetch(`${sys.gatewayUrl}/v1/flows/${created.body.id}/events`, {
      signal: AbortSignal.timeout(30_000),
    }).then((r) => r.text());
    const done = await waitForFlow(created.body.id, ['succeeded', 'failed']);
    expect(done.status).to.equal('succeeded');
    const all = done.nodes.find((n) => n.key === 'all')!;
    expect(all.result).to.deep.equal({ high: { count: 3245 }, low: { count: 1229 }, mid: { count: 2262 } });
    const task = (await api(sys.gatewayUrl, `/v1/tasks/${all.taskId}`)).body;
    expect(task).to.include({ flowId: done.id, flowKey: 'all' });
    expect(task.dependencyResults.low).to.deep.equal({
      taskId: done.nodes.find((n) => n.key === 'low')!.taskId,
      status: 'succeeded',
      result: { count: 1229 },
      error: null,
    });
    const flows = (await events)
      .split('\n\n')
      .filter((b) => b.includes('event: flow'))
      .map((b) => JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as { status: string });
    expect(flows.at(-1)!.status, "the stream ends on the flow's end").to.equal('succeeded');
    const listed = (await api(sys.gatewayUrl, '/v1/flows?limit=5')).body as { items: FlowSummary[] };
    expect(listed.items.map((f) => f.id)).to.include(done.id);
  });

  it('when a node fails under fail-fast, then its dependent is cancelled, and retrying the node resumes the flow', async () => {
    failuresLeft = 1_000;
    const created = await api(sys.gatewayUrl, '/v1/flows', {
      method: 'POST',
      json: {
        nodes: [
          {
            key: 'fetch',
            type: 'http.request',
            payload: { url: `http://127.0.0.1:${flakyPort}/` },
            maxAttempts: 1,
          },
          { key: 'after', type: 'noop', payload: {}, dependsOn: ['fetch'] },
        ],
      },
    });
    expect(created.status).to.equal(201);
    const failed = await waitForFlow(created.body.id, ['failed', 'succeeded']);
    expect(failed.status).to.equal('failed');
    expect(failed.nodes.map((n) => [n.key, n.status, n.error?.code])).to.deep.equal([
      ['fetch', 'failed', failed.nodes[0]!.error?.code],
      ['after', 'cancelled', 'DEPENDENCY_FAILED'],
    ]);
    failuresLeft = 0;
    const retried = await api(sys.gatewayUrl, `/v1/tasks/${failed.nodes[0]!.taskId}`, {
      method: 'PATCH',
      json: { status: 'queued' },
    });
    expect(retried.status).to.equal(200);
    expect((await waitForFlow(created.body.id, ['succeeded'])).status).to.equal('succeeded');
  });

  it('when a flow is cancelled over REST, then its running node stops and the rest never run', async () => {
    const created = await api(sys.gatewayUrl, '/v1/flows', {
      method: 'POST',
      json: {
        nodes: [
          { key: 'long', type: 'sleep', payload: { ms: 60_000 } },
          { key: 'next', type: 'noop', payload: {}, dependsOn: ['long'] },
        ],
      },
    });
    await waitForStatus(sys.gatewayUrl, created.body.nodes[0].taskId, ['running']);
    const cancelled = await api(sys.gatewayUrl, `/v1/flows/${created.body.id}`, {
      method: 'PATCH',
      json: { status: 'cancelled' },
    });
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body.status).to.equal('cancelled');
    expect((cancelled.body as Flow).nodes.map((n: FlowNode) => n.status)).to.deep.equal([
      'cancelled',
      'cancelled',
    ]);
    // The executor was told: its run of the long node ends well before the sleep would have.
    const long = await waitForStatus(sys.gatewayUrl, created.body.nodes[0].taskId, ['cancelled']);
    expect(long.history.filter((h: { status: string }) => h.status === 'succeeded')).to.have.length(0);
  });

  it('when a flow is not a DAG or does not exist, then 400 and 404 problems', async () => {
    const cycle = await api(sys.gatewayUrl, '/v1/flows', {
      method: 'POST',
      json: {
        nodes: [
          { key: 'a', type: 'noop', payload: {}, dependsOn: ['b'] },
          { key: 'b', type: 'noop', payload: {}, dependsOn: ['a'] },
        ],
      },
    });
    expect(cycle.status).to.equal(400);
    expect(JSON.stringify(cycle.body.fields)).to.match(/cycle/);
    const missing = await api(sys.gatewayUrl, '/v1/flows/no-such-flow');
    expect(missing.status).to.equal(404);
    expect(missing.body.code).to.equal('FLOW_NOT_FOUND');
  });
});
