/**
 * Store errors that can pass, met through a proxy in front of the store: each is retried while
 * the message is held, and none turns into a used-up attempt or a failed task.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { startExecutorHarness, type ExecutorHarness } from '@tasks/testkit';

type Fault = 'answer-lost' | 'http-500' | 'unauthorized' | 'internal';

/** Forwards JSON-RPC calls to the store, except the next faults planned for a method. */
async function faultyProxy(
  target: string,
  plan: Map<string, Fault[]>,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const { method, id } = JSON.parse(body) as { method: string; id: unknown };
      const fault = plan.get(method)?.shift();
      const rpcError = (status: number, code: number, type: string) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message: type, data: { type } } }));
      };
      if (fault === 'http-500') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('proxy error');
        return;
      }
      if (fault === 'unauthorized') return rpcError(401, 40100, 'UNAUTHORIZED');
      if (fault === 'internal') return rpcError(200, -32603, 'INTERNAL');
      void fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
        async (r) => {
          const text = await r.text();
          // The store did the work; its answer never reaches the caller.
          if (fault === 'answer-lost') {
            req.socket.destroy();
            return;
          }
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(text);
        },
        () => req.socket.destroy(),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`, server };
}

describe('executor: store errors that can pass (integration)', function () {
  this.timeout(60_000);
  let sys: ExecutorHarness;
  let proxy: Server | undefined;
  beforeEach(async () => (sys = await startExecutorHarness()));
  afterEach(async () => {
    await sys.close();
    proxy?.closeAllConnections();
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
  });

  const startBehind = async (plan: Map<string, Fault[]>) => {
    const p = await faultyProxy(sys.storeService.url, plan);
    proxy = p.server;
    return sys.startExecutor({ STORE_URL: p.url });
  };

  it('when the answer to a claim is lost, then the retry gets the same lease: the task runs once, using one attempt', async () => {
    const plan = new Map<string, Fault[]>([['tasks.claim', ['answer-lost']]]);
    await startBehind(plan);
    const t = await sys.submit('test.sleep', { ms: 10 }, { maxAttempts: 1 });
    const done = await sys.waitFor(t.id, (x) => x.status !== 'queued' && x.status !== 'running', 30_000);
    expect(plan.get('tasks.claim'), 'the fault was met').to.deep.equal([]);
    expect(done.status).to.equal('succeeded');
    expect(done.attempts).to.equal(1);
    expect(done.history.filter((h) => h.status === 'running')).to.have.length(1);
  });

  it('when complete meets a proxy’s 500, a refused token and an internal error, then it is retried and the success stands', async () => {
    const plan = new Map<string, Fault[]>([['tasks.complete', ['http-500', 'unauthorized', 'internal']]]);
    await startBehind(plan);
    const t = await sys.submit('test.sleep', { ms: 10 });
    const done = await sys.waitFor(t.id, (x) => x.status !== 'queued' && x.status !== 'running', 30_000);
    expect(plan.get('tasks.complete'), 'every fault was met').to.deep.equal([]);
    expect(done.status, JSON.stringify(done.error)).to.equal('succeeded');
    expect(done.history.filter((h) => h.status === 'succeeded')).to.have.length(1);
  });

  it('when claims keep failing past the delivery limit, then the message is held and retried, not dead-lettered', async () => {
    const plan = new Map<string, Fault[]>([['tasks.claim', Array<Fault>(7).fill('internal')]]);
    await startBehind(plan);
    const t = await sys.submit('test.sleep', { ms: 10 }, { maxAttempts: 1 });
    const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded', 40_000);
    expect(plan.get('tasks.claim')).to.deep.equal([]);
    expect(done.attempts).to.equal(1);
    expect(await sys.getDead(), 'nothing dead-lettered').to.equal(false);
  });
});
