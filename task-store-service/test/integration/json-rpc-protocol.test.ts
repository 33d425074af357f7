/**
 * The JSON-RPC 2.0 specification's cases (https://www.jsonrpc.org/specification, section 7),
 * operator injection through params, and the HTTP edges of the store, all over real HTTP.
 */
import { expect } from 'chai';
import { rawRpc, startStore, type StoreFixture } from '@tasks/testkit';

interface RpcErrorBody {
  code: number;
  message: string;
  data?: { type?: string; fields?: { path: string; message: string }[] };
}

interface RpcResponseBody {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: RpcErrorBody;
}

const request = (method: string, params?: unknown, id?: string | number) => ({
  jsonrpc: '2.0',
  method,
  ...(params !== undefined && { params }),
  ...(id !== undefined && { id }),
});

/** One JSON-RPC response object (not a batch); fails the test on anything else. */
function single(body: unknown): RpcResponseBody {
  expect(body, 'a single response object').to.be.an('object').and.not.be.an('array');
  expect(body).to.have.property('jsonrpc', '2.0');
  return body as RpcResponseBody;
}

function batchOf(body: unknown): RpcResponseBody[] {
  expect(body, 'a batch response').to.be.an('array');
  return body as RpcResponseBody[];
}

function expectError(r: RpcResponseBody, code: number, id: string | number | null): RpcErrorBody {
  expect(r).to.not.have.property('result');
  expect(r.id).to.equal(id);
  expect(r.error, JSON.stringify(r)).to.be.an('object');
  expect(r.error!.code).to.equal(code);
  expect(r.error!.message).to.be.a('string');
  return r.error!;
}

/** rawRpc with a deadline, for requests the server might never answer. */
async function rawRpcWithin(
  url: string,
  body: string,
  ms: number,
): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(ms),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  } catch (err) {
    if ((err as { name?: unknown }).name === 'TimeoutError') expect.fail(`no response within ${ms} ms`);
    throw err;
  }
}

describe('JSON-RPC 2.0 protocol over HTTP (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    rawRpc(f.service.url, JSON.stringify(body), headers);
  const countTasks = () => f.db.collection('tasks').countDocuments();
  const seedTasks = async (n: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push((await f.client.call('tasks.create', { type: 'test.noop', payload: { n: i } })).task.id);
    }
    return ids;
  };

  describe('specification cases', () => {
    it('when the body is not valid JSON, then -32700 with id null', async () => {
      const res = await rawRpc(
        f.service.url,
        '{"jsonrpc": "2.0", "method": "tasks.get", "params": {"id": "x", "id": 1, "baz]',
      );
      expect(res.status).to.equal(200);
      expectError(single(res.body), -32700, null);
    });

    it('when a batch is not valid JSON, then one -32700 object with id null, not an array', async () => {
      const res = await rawRpc(
        f.service.url,
        '[{"jsonrpc": "2.0", "method": "tasks.stats", "id": "1"}, {"jsonrpc": "2.0", "method"]',
      );
      expectError(single(res.body), -32700, null);
    });

    it('when the request object is invalid, then -32600 with id null', async () => {
      const invalid: unknown[] = [
        { jsonrpc: '2.0', method: 1, params: 'bar' },
        { jsonrpc: '2.0', method: 'tasks.stats', params: 'bar', id: 1 },
        { jsonrpc: '2.0', method: 'tasks.stats', params: null, id: 1 },
        { jsonrpc: '2.0', method: 'tasks.stats', id: { nested: true } },
        { jsonrpc: '1.0', method: 'tasks.stats', id: 1 },
        { method: 'tasks.stats', id: 1 },
        { jsonrpc: '2.0', id: 1 },
        null,
        5,
        true,
      ];
      for (const body of invalid) {
        const res = await post(body);
        expect(res.status, JSON.stringify(body)).to.equal(200);
        expectError(single(res.body), -32600, null);
      }
    });

    it('when the body is a JSON string, then -32600 (valid JSON, but not a request object)', async () => {
      const res = await post('tasks.stats');
      expectError(single(res.body), -32600, null);
    });

    it('when the body is a JSON string holding an encoded request, then it is refused and not executed', async () => {
      const inner = JSON.stringify(request('tasks.create', { type: 'test.noop', payload: { n: 1 } }, 1));
      const res = await post(inner);
      expectError(single(res.body), -32600, null);
      expect(await countTasks()).to.equal(0);
    });

    it('when the method does not exist, then -32601 with the request id', async () => {
      const res = await post(request('tasks.explode', {}, 'abc'));
      expect(res.status).to.equal(200);
      expectError(single(res.body), -32601, 'abc');
    });

    it('when params are positional (an array), then -32602 VALIDATION_FAILED', async () => {
      const [id] = await seedTasks(1);
      const res = await post(request('tasks.get', [id], 7));
      const err = expectError(single(res.body), -32602, 7);
      expect(err.data?.type).to.equal('VALIDATION_FAILED');
    });

    it('when params are invalid, then -32602 and data.fields lists every failing field path', async () => {
      const res = await post(request('tasks.claim', { id: '', workerId: 5, leaseMs: 10, extra: true }, 1));
      const err = expectError(single(res.body), -32602, 1);
      expect(err.data?.type).to.equal('VALIDATION_FAILED');
      const paths = new Set(err.data?.fields?.map((x) => x.path));
      expect([...paths]).to.have.members(['/id', '/workerId', '/leaseMs', '/extra']);

      const missing = await post(request('tasks.claim', {}, 2));
      const err2 = expectError(single(missing.body), -32602, 2);
      expect(err2.data?.fields?.map((x) => x.path)).to.have.members(['/id', '/workerId', '/leaseMs']);
    });

    it('when the batch is empty, then a single -32600 object, not an array', async () => {
      const res = await rawRpc(f.service.url, '[]');
      expect(res.status).to.equal(200);
      expectError(single(res.body), -32600, null);
    });

    it('when a batch holds only invalid entries, then one -32600 per entry', async () => {
      const one = batchOf((await rawRpc(f.service.url, '[1]')).body);
      expect(one).to.have.length(1);
      expectError(one[0]!, -32600, null);

      const three = batchOf((await rawRpc(f.service.url, '[1,2,3]')).body);
      expect(three).to.have.length(3);
      for (const r of three) expectError(r, -32600, null);
    });

    it('when a batch entry is itself an array, then that entry gets its own -32600 error', async () => {
      const nested = await rawRpcWithin(f.service.url, '[[]]', 2_000);
      const only = batchOf(nested.body);
      expect(only).to.have.length(1);
      expectError(only[0]!, -32600, null);

      const mixed = batchOf(
        (await rawRpcWithin(f.service.url, JSON.stringify([[1], request('tasks.stats', {}, 7)]), 2_000)).body,
      );
      expect(mixed).to.have.length(2);
      expect(mixed.find((r) => r.id === 7)).to.have.property('result');
      expectError(
        mixed.find((r) => r.id === null)!,
        -32600,
        null,
      );
    });

    it('when a batch mixes a call, a notification, an invalid entry and an unknown method, then only non-notifications are answered, matched by id', async () => {
      const res = await post([
        request('tasks.create', { type: 'test.noop', payload: { n: 1 } }, '1'),
        request('tasks.create', { type: 'test.noop', payload: { n: 2 } }),
        { foo: 'boo' },
        request('foo.get', { name: 'myself' }, '5'),
        request('tasks.stats', {}, 9),
      ]);
      expect(res.status).to.equal(200);
      const responses = batchOf(res.body);
      expect(responses).to.have.length(4);
      const byId = (id: string | number | null) => responses.filter((r) => r.id === id);

      const [created] = byId('1');
      expect(created).to.not.have.property('error');
      expect(created!.result).to.have.nested.property('task.status', 'queued');
      expectError(byId(null)[0]!, -32600, null);
      expectError(byId('5')[0]!, -32601, '5');
      expect(byId(9)[0]).to.have.property('result');
      // The notification ran even though it got no answer.
      expect(await countTasks()).to.equal(2);
    });

    it('when a batch holds only notifications, then HTTP 204 with an empty body and their effects happen', async () => {
      const res = await post([
        request('tasks.create', { type: 'test.noop', payload: { n: 1 } }),
        request('tasks.create', { type: 'test.noop', payload: { n: 2 } }),
      ]);
      expect(res.status).to.equal(204);
      expect(res.body).to.equal(undefined);
      const page = await f.client.call('tasks.list', { fields: ['payload'] });
      expect(page.items.map((t) => t.payload)).to.have.deep.members([{ n: 1 }, { n: 2 }]);
    });

    it('when a notification fails, then it produces no response', async () => {
      const failing = await post(request('tasks.get', { id: 'does-not-exist' }));
      expect(failing.status).to.equal(204);
      expect(failing.body).to.equal(undefined);

      const unknown = await post(request('no.such.method', {}));
      expect(unknown.status).to.equal(204);
      expect(unknown.body).to.equal(undefined);

      const invalidParams = await post(request('tasks.claim', { id: 1 }));
      expect(invalidParams.status).to.equal(204);

      const inBatch = batchOf(
        (await post([request('tasks.get', { id: 'nope' }), request('tasks.stats', {}, 1)])).body,
      );
      expect(inBatch).to.have.length(1);
      expect(inBatch[0]!.id).to.equal(1);
    });
  });

  describe('operator injection through params', () => {
    const expectRefused = async (method: string, params: unknown, path?: string): Promise<void> => {
      const res = await post(request(method, params, 1));
      const err = expectError(single(res.body), -32602, 1);
      expect(err.data?.type).to.equal('VALIDATION_FAILED');
      if (path) expect(err.data?.fields?.map((x) => x.path)).to.include(path);
    };

    it('when an id is a query operator, then -32602 and no task is read or changed', async () => {
      await seedTasks(2);
      await expectRefused('tasks.get', { id: { $ne: null } }, '/id');
      await expectRefused('tasks.cancel', { id: { $ne: null }, by: 'attacker' }, '/id');
      await expectRefused('tasks.claim', { id: { $gt: '' }, workerId: 'w', leaseMs: 30_000 }, '/id');
      await expectRefused(
        'tasks.markPublished',
        { tasks: [{ id: { $ne: null }, version: 1 }] },
        '/tasks/0/id',
      );
      expect(await countTasks()).to.equal(2);
      expect(await f.db.collection('tasks').countDocuments({ status: { $ne: 'queued' } })).to.equal(0);
      expect(await f.db.collection('tasks').countDocuments({ version: { $ne: 1 } })).to.equal(0);
    });

    it('when a list filter is a query operator, then -32602', async () => {
      await expectRefused('tasks.list', { status: { $ne: 'queued' } }, '/status');
      await expectRefused('tasks.list', { type: { $regex: '.*' } }, '/type');
      await expectRefused('tasks.list', { createdAfter: { $gt: 0 } }, '/createdAfter');
      await expectRefused('tasks.list', { limit: { $gt: 0 } }, '/limit');
    });

    it('when params carry an unknown top-level property, then -32602 and nothing is written', async () => {
      await seedTasks(1);
      await expectRefused('tasks.list', { $where: 'true' }, '/$where');
      await expectRefused('tasks.create', {
        type: 'test.noop',
        payload: { n: 1 },
        $set: { status: 'succeeded' },
      });
      await expectRefused('tasks.create', { type: 'test.noop', status: 'succeeded' }, '/status');
      await expectRefused(
        'tasks.createMany',
        { tasks: [{ type: 'test.noop', _id: 'chosen-id' }] },
        '/tasks/0/_id',
      );
      expect(await countTasks()).to.equal(1);
    });

    it('when the cursor is forged or garbage, then -32602 on /cursor', async () => {
      await seedTasks(3);
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const cursors = [
        'garbage',
        b64([Date.now(), { $ne: null }]),
        b64([{ $gt: 0 }, 'x']),
        b64({ createdAt: Date.now(), id: 'x' }),
        b64([Date.now(), 'x', 'extra']),
        b64([1.5, 'x']),
        b64([Date.now(), 'x"}, {"$where": "1']),
      ];
      for (const cursor of cursors) await expectRefused('tasks.list', { cursor }, '/cursor');
      // Characters outside base64url are refused by the schema before decoding.
      await expectRefused('tasks.list', { cursor: '{"$ne":null}' }, '/cursor');
      await expectRefused('tasks.list', { cursor: { $ne: null } }, '/cursor');
    });
  });

  describe('HTTP edges', () => {
    it('when the content type is not application/json, then 415 and nothing runs', async () => {
      const body = JSON.stringify(request('tasks.create', { type: 'test.noop', payload: { n: 1 } }, 1));
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
        const res = await rawRpc(f.service.url, body, { 'content-type': type });
        expect(res.status, type).to.equal(415);
        expectError(single(res.body), -32600, null);
      }
      expect(await countTasks()).to.equal(0);
      const withCharset = await rawRpc(f.service.url, body, {
        'content-type': 'application/json; charset=utf-8',
      });
      expect(withCharset.status).to.equal(200);
    });

    it('when /rpc is fetched with GET, then 405 with Allow: POST', async () => {
      const res = await fetch(f.service.url);
      expect(res.status).to.equal(405);
      expect(res.headers.get('allow')).to.equal('POST');
      expectError(single(await res.json()), -32600, null);
    });

    it('when /healthz is fetched, then 200', async () => {
      const res = await fetch(new URL('/healthz', f.service.url));
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ status: 'ok' });
    });

    it('when /readyz is fetched while MongoDB is up, then 200 and mongodb up', async () => {
      const res = await fetch(new URL('/readyz', f.service.url));
      expect(res.status).to.equal(200);
      expect(await res.json()).to.include({ mongodb: 'up' });
    });

    it('when a call has been made, then /metrics counts it in task_store_rpc_calls_total', async () => {
      await f.client.call('tasks.list', {});
      await post(request('tasks.get', { id: 'missing' }, 1));
      const res = await fetch(new URL('/metrics', f.service.url));
      expect(res.status).to.equal(200);
      const text = await res.text();
      const line = (method: string, outcome: string) =>
        text
          .split('\n')
          .find(
            (l) =>
              l.startsWith('task_store_rpc_calls_total{') &&
              l.includes(`method="${method}"`) &&
              l.includes(`outcome="${outcome}"`),
          );
      expect(line('tasks.list', 'ok'), text).to.match(/ 1$/);
      expect(line('tasks.get', 'TASK_NOT_FOUND'), text).to.match(/ 1$/);
    });

    it('when a batch is posted, then task_store_rpc_requests_total counts one HTTP request and each call, and task_store_db_commands_total counts the database commands', async () => {
      const read = async () => {
        const text = await (await fetch(new URL('/metrics', f.service.url))).text();
        const value = (prefix: string, ...parts: string[]) =>
          text
            .split('\n')
            .filter((l) => l.startsWith(prefix) && parts.every((p) => l.includes(p)))
            .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
        return {
          http: value('task_store_rpc_requests_total{', 'kind="http"'),
          gets: value('task_store_rpc_requests_total{', 'kind="call"', 'method="tasks.get"'),
          finds: value('task_store_db_commands_total{', 'command="find"', 'collection="tasks"'),
        };
      };
      const before = await read();
      await post([
        request('tasks.get', { id: 'missing-1' }, 1),
        request('tasks.get', { id: 'missing-2' }, 2),
      ]);
      const after = await read();
      expect(after.http - before.http).to.equal(1);
      expect(after.gets - before.gets).to.equal(2);
      expect(after.finds - before.finds).to.equal(2);
    });

    it('when a request carries x-request-id, then the response echoes it; without one, a new id is sent', async () => {
      const res = await fetch(f.service.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-abc-123' },
        body: JSON.stringify(request('tasks.stats', {}, 1)),
      });
      expect(res.headers.get('x-request-id')).to.equal('req-abc-123');
      await res.body?.cancel();

      const health = await fetch(new URL('/healthz', f.service.url));
      expect(health.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
      await health.body?.cancel();
    });
  });
});

describe('request body limit (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore({ MAX_BODY_BYTES: '2048' })));
  afterEach(() => f.close());

  /** A valid request padded with insignificant whitespace to the given size. */
  const paddedBody = (call: object, bytes: number) => {
    const text = JSON.stringify(call);
    return `{${' '.repeat(bytes - Buffer.byteLength(text))}${text.slice(1)}`;
  };

  it('when the body is above MAX_BODY_BYTES, then 413 with a PAYLOAD_TOO_LARGE JSON-RPC error and nothing runs', async () => {
    const body = paddedBody(request('tasks.create', { type: 'test.noop', payload: { n: 1 } }, 1), 4_000);
    expect(Buffer.byteLength(body)).to.equal(4_000);
    const res = await rawRpc(f.service.url, body);
    expect(res.status).to.equal(413);
    const err = expectError(single(res.body), 41300, null);
    expect(err.data?.type).to.equal('PAYLOAD_TOO_LARGE');
    expect(await f.db.collection('tasks').countDocuments()).to.equal(0);
  });

  it('when the body is exactly MAX_BODY_BYTES, then it is served', async () => {
    const body = paddedBody(request('tasks.create', { type: 'test.noop', payload: { n: 1 } }, 1), 2_048);
    expect(Buffer.byteLength(body)).to.equal(2_048);
    const res = await rawRpc(f.service.url, body);
    expect(res.status).to.equal(200);
    expect(single(res.body)).to.have.nested.property('result.created', true);
  });
});
