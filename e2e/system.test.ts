import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { api, followOverSse, startSystem, waitForStatus, type RunningSystem } from './system.js';

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
});
