import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import amqplib from 'amqplib';
import { expect } from 'chai';
import { deleteTopology, topology } from '@tasks/contracts';
import { createLogger, loadConfig, startGateway, type RunningGateway } from '../../src/index.js';
import { AMQP_URL } from '@tasks/testkit';

describe('gateway with the store unreachable (integration)', function () {
  this.timeout(20_000);
  let gw: RunningGateway;
  let slow: RunningGateway;
  /** A store that accepts connections and never answers. */
  let silent: Server;
  const prefix = `test-outage-${process.pid}-${Date.now()}`;
  before(async () => {
    gw = await startGateway(
      loadConfig({ STORE_URL: 'http://127.0.0.1:9/rpc', AMQP_URL, AMQP_PREFIX: prefix, PORT: '0' }),
      createLogger('silent'),
      { dispatcher: false },
    );
    silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/rpc`;
    slow = await startGateway(
      loadConfig({ STORE_URL: silentUrl, STORE_TIMEOUT_MS: '300', AMQP_URL, AMQP_PREFIX: prefix, PORT: '0' }),
      createLogger('silent'),
      { dispatcher: false },
    );
  });
  after(async () => {
    await gw.stop();
    await slow.stop();
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
    const conn = await amqplib.connect(AMQP_URL);
    const ch = await conn.createChannel();
    await deleteTopology(ch, topology(prefix), ['test.sleep']);
    await conn.close();
  });

  it('when a request needs the store, then 503 problem with Retry-After, and readyz says the store is down', async () => {
    for (const [path, init] of [
      ['/v1/stats', {}],
      [
        '/v1/tasks',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"noop"}' },
      ],
    ] as const) {
      const res = await fetch(`${gw.url}${path}`, init);
      expect(res.status, path).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('2');
      const body = (await res.json()) as { code: string; detail: string };
      expect(body.code).to.equal('DEPENDENCY_UNAVAILABLE');
      expect(body.detail).not.to.include('127.0.0.1:9'); // internals are not shown on 5xx
    }
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).to.equal(503);
    expect(((await ready.json()) as { store: string }).store).to.equal('down');
  });

  it('when the store accepts the request but never answers, then 503 within STORE_TIMEOUT_MS saying it did not answer in time', async () => {
    const res = await fetch(`${slow.url}/v1/tasks/some-task`);
    expect(res.status).to.equal(503);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body).to.include({
      code: 'DEPENDENCY_UNAVAILABLE',
      detail: 'the task store did not answer in time',
    });
  });
});
