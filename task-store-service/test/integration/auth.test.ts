import { expect } from 'chai';
import { isStoreError, TaskStoreClient } from '@tasks/contracts';
import { rawRpc, startStore, type StoreFixture } from '@tasks/testkit';

const TOKEN = 'a-token-of-sixteen-chars';

interface RpcErrorResponse {
  jsonrpc: '2.0';
  id: null;
  error: { code: number; message: string; data?: { type?: string } };
}

const createCall = (id?: number) =>
  JSON.stringify({
    jsonrpc: '2.0',
    method: 'tasks.create',
    params: { type: 'test.noop', payload: { n: 1 } },
    ...(id !== undefined && { id }),
  });

function expectUnauthorized(res: { status: number; body: unknown }): void {
  expect(res.status).to.equal(401);
  const body = res.body as RpcErrorResponse;
  expect(body.jsonrpc).to.equal('2.0');
  expect(body.id).to.equal(null);
  expect(body.error.code).to.equal(40100);
  expect(body.error.data?.type).to.equal('UNAUTHORIZED');
}

describe('bearer token auth (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore({ RPC_TOKEN: TOKEN })));
  afterEach(() => f.close());

  const countTasks = () => f.db.collection('tasks').countDocuments();

  it('when a call has no Authorization header, then 401 UNAUTHORIZED (40100) and nothing is written', async () => {
    const res = await rawRpc(f.service.url, createCall(1));
    expectUnauthorized(res);
    expect(await countTasks()).to.equal(0);
  });

  it('when a call has no Authorization header, then the 401 names the Bearer scheme', async () => {
    const res = await fetch(f.service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: createCall(1),
    });
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.equal('Bearer');
    await res.body?.cancel();
  });

  it('when the token is wrong, then 401 and nothing is written', async () => {
    const wrong = [
      `Bearer ${TOKEN.slice(0, -1)}X`, // same length
      `Bearer ${TOKEN}-and-more`,
      `Bearer ${TOKEN.slice(0, 4)}`,
      'Bearer ',
      TOKEN, // no scheme
      `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`,
    ];
    for (const authorization of wrong) {
      expectUnauthorized(await rawRpc(f.service.url, createCall(1), { authorization }));
    }
    expect(await countTasks()).to.equal(0);
  });

  it('when unauthenticated notifications or batches are sent, then 401 and none of them runs', async () => {
    expectUnauthorized(await rawRpc(f.service.url, createCall()));
    expectUnauthorized(await rawRpc(f.service.url, `[${createCall()},${createCall(2)}]`));
    expect(await countTasks()).to.equal(0);
  });

  it('when the right token is sent through TaskStoreClient, then calls work', async () => {
    const { task } = await f.client.call('tasks.create', { type: 'test.noop', payload: { n: 1 } });
    expect((await f.client.call('tasks.get', { id: task.id })).id).to.equal(task.id);
    expect(await countTasks()).to.equal(1);
  });

  it('when the right token is sent on a raw request, then the call works', async () => {
    const res = await rawRpc(f.service.url, createCall(1), { authorization: `Bearer ${TOKEN}` });
    expect(res.status).to.equal(200);
    expect(res.body).to.have.nested.property('result.created', true);
  });

  it('when the auth scheme is written in another case, then the token is still accepted (RFC 9110 §11.1)', async () => {
    const res = await rawRpc(f.service.url, createCall(1), { authorization: `bearer ${TOKEN}` });
    expect(res.status).to.equal(200);
    expect(res.body).to.have.nested.property('result.created', true);
  });

  it('when TaskStoreClient has no token or a wrong one, then it surfaces a non-retryable StoreError of type UNAUTHORIZED', async () => {
    for (const token of [undefined, 'not-the-right-token']) {
      const client = new TaskStoreClient({ url: f.service.url, retries: 0, ...(token && { token }) });
      let caught: unknown;
      try {
        await client.call('tasks.list', {});
      } catch (err) {
        caught = err;
      }
      expect(isStoreError(caught, 'UNAUTHORIZED'), String(caught)).to.equal(true);
      expect(caught).to.include({ code: 40100, retryable: false });
    }
  });

  it('when auth is on, then the health probes still answer without a token', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(new URL(path, f.service.url));
      expect(res.status, path).to.equal(200);
      await res.body?.cancel();
    }
  });
});

describe('auth switched off (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  it('when no RPC_TOKEN is configured, then calls without an Authorization header work', async () => {
    const res = await rawRpc(f.service.url, createCall(1));
    expect(res.status).to.equal(200);
    expect(res.body).to.have.nested.property('result.created', true);
    expect(await f.db.collection('tasks').countDocuments()).to.equal(1);
  });

  it('when no RPC_TOKEN is configured, then an Authorization header is ignored', async () => {
    const res = await rawRpc(f.service.url, createCall(1), { authorization: 'Bearer whatever-it-is' });
    expect(res.status).to.equal(200);
    const client = new TaskStoreClient({
      url: f.service.url,
      token: 'some-token-nobody-asked-for',
      retries: 0,
    });
    expect((await client.call('tasks.list', {})).items).to.have.length(1);
  });
});
