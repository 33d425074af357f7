/** TaskStoreClient against a small local HTTP server that answers however each test needs. */
import { expect } from 'chai';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isStoreError, STORE_TIMEOUT_MESSAGE, TaskStoreClient, type StoreError } from '../src/index.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface FakeStore {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

type Answer = (body: unknown, res: ServerResponse, n: number) => void;

async function fakeStore(answer: Answer): Promise<FakeStore> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      received.push({ headers: req.headers, body });
      answer(body, res, received.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function unavailable(res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'text/plain' });
  res.end('service unavailable');
}

const idOf = (body: unknown) => (body as { id: number }).id;

async function storeErrorOf(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    expect(isStoreError(err), String(err)).to.equal(true);
    return err as StoreError;
  }
  expect.fail('expected a StoreError');
}

describe('TaskStoreClient', () => {
  let store: FakeStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  const task = { id: 't1', status: 'queued' };

  it('when an idempotent call (tasks.get) gets a 503, then it is retried with the same request id and succeeds', async () => {
    store = await fakeStore((body, res, n) =>
      n === 1 ? unavailable(res) : json(res, 200, { jsonrpc: '2.0', id: idOf(body), result: task }),
    );
    const client = new TaskStoreClient({ url: store.url, retries: 2, retryBaseMs: 1 });
    expect(await client.call('tasks.get', { id: 't1' })).to.deep.equal(task);
    expect(store.received).to.have.length(2);
    const [first, second] = store.received;
    expect(second!.headers['x-request-id']).to.equal(first!.headers['x-request-id']);
  });

  it('when an idempotent call keeps getting 503, then it gives up after retries + 1 attempts with a retryable error', async () => {
    store = await fakeStore((_body, res) => unavailable(res));
    const client = new TaskStoreClient({ url: store.url, retries: 2, retryBaseMs: 1 });
    const err = await storeErrorOf(client.call('tasks.get', { id: 't1' }));
    expect(err.type).to.equal('DEPENDENCY_UNAVAILABLE');
    expect(err.retryable).to.equal(true);
    expect(store.received).to.have.length(3);
  });

  it('when a non-idempotent call (tasks.claim) gets a 503, then it is not retried', async () => {
    store = await fakeStore((body, res, n) =>
      n === 1 ? unavailable(res) : json(res, 200, { jsonrpc: '2.0', id: idOf(body), result: task }),
    );
    const client = new TaskStoreClient({ url: store.url, retries: 2, retryBaseMs: 1 });
    const err = await storeErrorOf(client.call('tasks.claim', { id: 't1', workerId: 'w1', leaseMs: 30_000 }));
    expect(err.type).to.equal('DEPENDENCY_UNAVAILABLE');
    expect(store.received).to.have.length(1);
  });

  it('when a non-idempotent call is marked idempotent for this call, then it is retried', async () => {
    store = await fakeStore((body, res, n) =>
      n === 1
        ? unavailable(res)
        : json(res, 200, { jsonrpc: '2.0', id: idOf(body), result: { task, created: false } }),
    );
    const client = new TaskStoreClient({ url: store.url, retries: 2, retryBaseMs: 1 });
    const result = await client.call(
      'tasks.create',
      { type: 'x', idempotencyKey: 'k' },
      { idempotent: true },
    );
    expect(result.created).to.equal(false);
    expect(store.received).to.have.length(2);
  });

  it('when the server answers a non-JSON 500, then INTERNAL, not retried', async () => {
    store = await fakeStore((_body, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<h1>oops</h1>');
    });
    const client = new TaskStoreClient({ url: store.url, retries: 2, retryBaseMs: 1 });
    const err = await storeErrorOf(client.call('tasks.get', { id: 't1' }));
    expect(err.type).to.equal('INTERNAL');
    expect(err.retryable).to.equal(false);
    expect(store.received).to.have.length(1);
  });

  it('when the store answers a JSON-RPC error, then a StoreError of the matching type with its data', async () => {
    store = await fakeStore((body, res) =>
      json(res, 200, {
        jsonrpc: '2.0',
        id: idOf(body),
        error: { code: 40400, message: 'no task with id t1', data: { type: 'TASK_NOT_FOUND', id: 't1' } },
      }),
    );
    const client = new TaskStoreClient({ url: store.url, retries: 2, retryBaseMs: 1 });
    const err = await storeErrorOf(client.call('tasks.get', { id: 't1' }));
    expect(err).to.include({ type: 'TASK_NOT_FOUND', code: 40400, retryable: false });
    expect(err.data).to.deep.include({ id: 't1' });
    expect(store.received).to.have.length(1);
  });

  it('when a JSON-RPC error carries only a code, then the type comes from the error table', async () => {
    const answers = [
      { code: 40400, type: 'TASK_NOT_FOUND', retryable: false },
      { code: -32602, type: 'VALIDATION_FAILED', retryable: false },
      { code: 50300, type: 'BUSY', retryable: true },
      { code: 12345, type: 'INTERNAL', retryable: false },
    ];
    store = await fakeStore((body, res, n) =>
      json(res, 200, { jsonrpc: '2.0', id: idOf(body), error: { code: answers[n - 1]!.code, message: 'x' } }),
    );
    const client = new TaskStoreClient({ url: store.url, retries: 0 });
    for (const { code, type, retryable } of answers) {
      const err = await storeErrorOf(client.call('tasks.claim', { id: 't1', workerId: 'w', leaseMs: 1_000 }));
      expect(err, String(code)).to.include({ type, code, retryable });
    }
  });

  it('when the connection is refused, then a retryable StoreError of type DEPENDENCY_UNAVAILABLE', async () => {
    const closed = await fakeStore(() => undefined);
    const url = closed.url;
    await closed.close();
    const client = new TaskStoreClient({ url, retries: 0 });
    const err = await storeErrorOf(client.call('tasks.get', { id: 't1' }));
    expect(err.type).to.equal('DEPENDENCY_UNAVAILABLE');
    expect(err.retryable).to.equal(true);
  });

  it('when the server never answers, then the per-call timeout gives a StoreError', async () => {
    store = await fakeStore(() => undefined);
    const client = new TaskStoreClient({ url: store.url, retries: 0 });
    const started = Date.now();
    const err = await storeErrorOf(client.call('tasks.get', { id: 't1' }, { timeoutMs: 200 }));
    expect(Date.now() - started).to.be.below(2_000);
    expect(err.type).to.equal('DEPENDENCY_UNAVAILABLE');
    expect(err.message).to.equal(STORE_TIMEOUT_MESSAGE);
    expect(err.timedOut).to.equal(true);
    expect(err.retryable).to.equal(true);
  });

  it('when an idempotent call times out, then its retries share the one time budget instead of each getting a new one', async () => {
    store = await fakeStore(() => undefined);
    const client = new TaskStoreClient({ url: store.url, retries: 2, retryBaseMs: 10 });
    const err = await storeErrorOf(client.call('tasks.get', { id: 't1' }, { timeoutMs: 300 }));
    expect(err.type).to.equal('DEPENDENCY_UNAVAILABLE');
    // With a fresh 300 ms per attempt there would be three requests; the budget allows only one.
    expect(store.received).to.have.length(1);
  });

  it('when the server sends headers but stalls the body, then the per-call timeout still gives a StoreError', async () => {
    store = await fakeStore((_body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"jsonrpc":"2.0",');
    });
    const client = new TaskStoreClient({ url: store.url, retries: 0 });
    const started = Date.now();
    const err = await storeErrorOf(client.call('tasks.get', { id: 't1' }, { timeoutMs: 200 }));
    expect(Date.now() - started).to.be.below(2_000);
    expect(err.retryable).to.equal(true);
  });

  it('when batch responses come back in another order, then results are in call order', async () => {
    store = await fakeStore((body, res) => {
      const calls = body as { id: number; method: string; params: { id: string } }[];
      const answers = calls.map((c) =>
        c.params.id === 'missing'
          ? {
              jsonrpc: '2.0',
              id: c.id,
              error: { code: 40400, message: 'x', data: { type: 'TASK_NOT_FOUND' } },
            }
          : { jsonrpc: '2.0', id: c.id, result: { id: c.params.id } },
      );
      json(res, 200, answers.reverse());
    });
    const client = new TaskStoreClient({ url: store.url });
    const results = await client.batch([
      { method: 'tasks.get', params: { id: 'a' } },
      { method: 'tasks.get', params: { id: 'missing' } },
      { method: 'tasks.get', params: { id: 'c' } },
    ]);
    expect(results).to.have.length(3);
    expect(results[0]).to.deep.equal({ ok: true, result: { id: 'a' } });
    expect(results[1]!.ok).to.equal(false);
    if (!results[1]!.ok) expect(results[1]!.error.type).to.equal('TASK_NOT_FOUND');
    expect(results[2]).to.deep.equal({ ok: true, result: { id: 'c' } });
    expect(store.received[0]!.body).to.be.an('array').with.length(3);
  });

  it('when a batch is refused as a whole (one error with a null id), then batch() throws that error instead of failing each call as INTERNAL', async () => {
    store = await fakeStore((_body, res) =>
      json(res, 413, {
        jsonrpc: '2.0',
        id: null,
        error: { code: 41300, message: 'too large', data: { type: 'PAYLOAD_TOO_LARGE' } },
      }),
    );
    const client = new TaskStoreClient({ url: store.url });
    const err = await client
      .batch([
        { method: 'tasks.get', params: { id: 'a' } },
        { method: 'tasks.get', params: { id: 'b' } },
      ])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isStoreError(err, 'PAYLOAD_TOO_LARGE'), String(err)).to.equal(true);
  });

  it('when a call is made, then it sends the bearer token, the request id and a JSON content type', async () => {
    store = await fakeStore((body, res) => json(res, 200, { jsonrpc: '2.0', id: idOf(body), result: task }));
    const client = new TaskStoreClient({ url: store.url, token: 'a-token-of-sixteen-chars' });
    await client.call('tasks.get', { id: 't1' }, { requestId: 'req-42' });
    await client.call('tasks.get', { id: 't1' });
    const [given, generated] = store.received;
    expect(given!.headers).to.include({
      authorization: 'Bearer a-token-of-sixteen-chars',
      'x-request-id': 'req-42',
      'content-type': 'application/json',
    });
    expect(generated!.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    expect(given!.body).to.deep.include({ jsonrpc: '2.0', method: 'tasks.get', params: { id: 't1' } });
  });

  it('when no token is configured, then no Authorization header is sent', async () => {
    store = await fakeStore((body, res) => json(res, 200, { jsonrpc: '2.0', id: idOf(body), result: task }));
    const client = new TaskStoreClient({ url: store.url });
    await client.call('tasks.get', { id: 't1' });
    expect(store.received[0]!.headers).to.not.have.property('authorization');
  });
});
