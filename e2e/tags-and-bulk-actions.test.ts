/**
 * Bulk retry by filter against the whole system (docs/tags-and-bulk-actions.md): tasks that
 * failed for good run again once each and succeed once; the same request again changes nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { api, startSystem, waitForStatus, type RunningSystem } from '@tasks/testkit';

describe('bulk actions by tag (e2e: store, gateway, executor as processes)', function () {
  this.timeout(180_000);
  let sys: RunningSystem;
  let remote: Server;
  let port = 0;
  /** Requests per path: the first one of each path fails. */
  const hits = new Map<string, number>();

  before(async () => {
    remote = createServer((req, res) => {
      const n = (hits.get(req.url!) ?? 0) + 1;
      hits.set(req.url!, n);
      if (n === 1) res.writeHead(500).end('not yet');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('fine');
    });
    await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
    port = (remote.address() as AddressInfo).port;
    sys = await startSystem({ executorEnv: { HTTP_ALLOW_HOSTS: `127.0.0.1:${port}` } });
  });

  after(async () => {
    await sys?.stop();
    await new Promise((r) => remote.close(r));
  });

  it('when more than a page of failed tasks is retried by tag, then each succeeds exactly once and a repeat is a no-op', async () => {
    const count = 120;
    const created = await api(sys.gatewayUrl, '/v1/tasks/batch', {
      method: 'POST',
      json: {
        tasks: Array.from({ length: count }, (_, i) => ({
          type: 'http.request',
          payload: { url: `http://127.0.0.1:${port}/${i}` },
          maxAttempts: 1,
          tags: ['nightly-import'],
          metadata: { batch: '7' },
        })),
      },
    });
    expect(created.status).to.equal(201);
    const ids: string[] = created.body.items.map((t: { id: string }) => t.id);
    for (const id of ids)
      expect((await waitForStatus(sys.gatewayUrl, id, ['failed', 'succeeded'])).status).to.equal('failed');

    const body = { action: 'retry', filter: { tag: 'nightly-import', type: 'http.request' } };
    const dry = await api(sys.gatewayUrl, '/v1/tasks/actions', {
      method: 'POST',
      json: { ...body, dryRun: true },
    });
    expect(dry.body).to.deep.equal({ action: 'retry', dryRun: true, matched: count, changed: 0 });
    const listed = await api(
      sys.gatewayUrl,
      '/v1/tasks?tag=nightly-import&metadata.batch=7&status=failed&limit=500',
    );
    expect(listed.body.items).to.have.length(count);

    const run = await api(sys.gatewayUrl, '/v1/tasks/actions', { method: 'POST', json: body });
    expect(run.body).to.deep.equal({ action: 'retry', dryRun: false, matched: count, changed: count });
    for (const id of ids) {
      const done = await waitForStatus(sys.gatewayUrl, id, ['succeeded']);
      expect(done.history.filter((h: { status: string }) => h.status === 'succeeded')).to.have.length(1);
    }
    const again = await api(sys.gatewayUrl, '/v1/tasks/actions', { method: 'POST', json: body });
    expect(again.body).to.deep.equal({ action: 'retry', dryRun: false, matched: 0, changed: 0 });
    // Two requests per task: the failure, then the one success.
    expect([...hits.values()].every((n) => n === 2)).to.equal(true);
    expect(hits.size).to.equal(count);
  });
});
