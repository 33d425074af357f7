/**
 * Runs the abuse corpus (cases.ts) against one whole system. Every refused request must get a
 * 4xx (or a JSON-RPC error object) of the expected type with a message, never a 5xx, and leave
 * the store's documents exactly as they were. Slow clients must be cut off within the configured
 * timeouts; http.request tasks aimed inward must end failed without reaching the internal server.
 */
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { ERRORS, type ErrorType } from '@tasks/contracts';
import { api } from '@tasks/testkit';
import {
  CASES,
  type AbuseCase,
  type RawCase,
  type RestCase,
  type RpcCase,
  type SlowCase,
} from './cases/index.js';
import {
  API_KEY,
  LIMITS,
  rawRequest,
  RPC_TOKEN,
  startHarness,
  type Harness,
  type RawResult,
} from './harness.js';

const lazy = <T>(v: T | ((h: Harness) => T), h: Harness): T =>
  typeof v === 'function' ? (v as (h: Harness) => T)(h) : v;

function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    // Host, port and path as they are: a URL object would resolve %2e%2e segments first.
    const { hostname, port } = new URL(url.slice(0, url.indexOf('/', 8)));
    const path = url.slice(url.indexOf('/', 8));
    const req = httpRequest({ host: hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function runRest(h: Harness, c: RestCase): Promise<void> {
  const body = lazy(c.body, h);
  const headers: Record<string, string> = {};
  const auth = c.authorization === undefined ? `Bearer ${API_KEY}` : c.authorization;
  if (auth !== null) headers.authorization = auth;
  let bytes: Buffer | undefined;
  if (body !== undefined) {
    bytes = Buffer.isBuffer(body)
      ? body
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    headers['content-type'] = 'application/json';
  }
  for (const [k, v] of Object.entries(c.headers ?? {})) {
    if (v === '') delete headers[k];
    else headers[k] = v;
  }
  const res = await send(`${h.gatewayUrl}${lazy(c.path, h)}`, c.method, headers, bytes);
  const problem = JSON.parse(res.text) as Record<string, unknown>;
  expect({ status: res.status, code: problem.code }, res.text.slice(0, 500)).to.deep.equal(c.expect);
  expect(res.type).to.match(/^application\/problem\+json/);
  expect(problem.detail, 'a human-readable detail').to.be.a('string').and.not.equal('');
  expect(problem.status).to.equal(res.status);
}

function expectRpcError(error: any, types: ErrorType[], where: string): void {
  expect(error, `${where}: an error object`).to.be.an('object');
  expect(
    types.map((t) => ERRORS[t].code),
    `${where}: ${JSON.stringify(error).slice(0, 300)}`,
  ).to.include(error.code);
  expect(error.message, `${where}: a message`).to.be.a('string').and.not.equal('');
}

async function runRpc(h: Harness, c: RpcCase): Promise<void> {
  const res = await h.rpc(lazy(c.body, h), {
    ...(c.raw !== undefined && { raw: c.raw }),
    ...(c.token !== undefined && { token: c.token }),
    ...(c.contentType !== undefined && { contentType: c.contentType }),
    ...(c.httpMethod !== undefined && { method: c.httpMethod }),
  });
  const where = JSON.stringify(res.body)?.slice(0, 300) ?? String(res.status);
  expect(res.status, where).to.equal(c.expect.http);
  if ('error' in c.expect) {
    expect(res.body, where).to.be.an('object').and.not.be.an('array');
    expect(res.body.jsonrpc).to.equal('2.0');
    const types = Array.isArray(c.expect.error) ? c.expect.error : [c.expect.error];
    expectRpcError(res.body.error, types, 'response');
  } else if ('batchErrors' in c.expect) {
    expect(res.body, where).to.be.an('array').with.length(c.expect.batchErrors.length);
    c.expect.batchErrors.forEach((t, i) => expectRpcError(res.body[i].error, [t], `entry ${i}`));
  } else {
    expect(res.body.error, where).to.equal(undefined);
    expect(res.body.result).to.deep.include(lazy(c.expect.result, h));
  }
}

async function runRaw(h: Harness, c: RawCase): Promise<void> {
  const url = c.target === 'gateway' ? h.gatewayUrl : h.storeUrl;
  const res = await rawRequest(url, lazy(c.request, h));
  expect(res.status, res.text.slice(0, 300)).to.equal(c.expect.status);
  expect(res.closedAfterMs, 'the server closes the connection').to.not.equal(undefined);
  const body = res.text.split('\r\n\r\n').slice(1).join('\r\n\r\n');
  expect(body, 'an error body says what was wrong').to.match(/"(detail|message|error)":"[^"]+/);
}

async function runSlow(h: Harness, c: SlowCase): Promise<RawResult> {
  const base =
    c.target === 'gateway' ? h.gatewayUrl : c.target === 'store' ? h.storeUrl : h.sys.urlOf('executor-1');
  const path = c.target === 'store' ? '/rpc' : '/healthz';
  const waitMs = LIMITS.REQUEST_TIMEOUT_MS + 3_000;
  if (c.mode === 'headers') {
    return rawRequest(base, `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Slow: `, {
      waitMs,
      dribble: { chunk: 'a', everyMs: 100 },
    });
  }
  if (c.mode === 'body') {
    const auth = c.target === 'store' ? `Bearer ${RPC_TOKEN}` : `Bearer ${API_KEY}`;
    const head = `POST ${c.target === 'store' ? '/rpc' : '/v1/tasks'} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`;
    return rawRequest(base, head, { waitMs, dribble: { chunk: ' ', everyMs: 100 } });
  }
  return rawRequest(base, `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`, { waitMs });
}

const describeCase = (c: AbuseCase): string => {
  switch (c.kind) {
    case 'rest':
      return `[${c.category}] when ${c.name}, then ${c.expect.status} ${c.expect.code}`;
    case 'rpc':
      return `[${c.category}] when ${c.name}, then ${
        'error' in c.expect
          ? [c.expect.error].flat().join(' or ')
          : 'batchErrors' in c.expect
            ? 'an error per entry'
            : 'nothing changes'
      }`;
    case 'raw':
      return `[${c.category}] when ${c.name}, then ${c.expect.status} and the connection is closed`;
    case 'ssrf-runtime':
      return `[${c.category}] when ${c.name}, then the task fails with ${c.expect.errorCode} and nothing internal is reached`;
    case 'slow':
      return `[${c.category}] when ${c.name}, then the connection is closed within the configured timeouts`;
  }
};

describe('abuse corpus (e2e: hostile requests against the whole system)', function () {
  this.timeout(60_000);
  let h: Harness;
  let last: { hash: string; tasks: number };

  before(async function () {
    this.timeout(120_000);
    h = await startHarness();
    last = await h.fingerprint();
    // One per status, and the waiting one's flow has a second node (the dependency it waits for).
    expect(last.tasks, 'the fixture tasks are in the database being fingerprinted').to.equal(7);
  });

  after(async function () {
    this.timeout(60_000);
    await h?.stop();
  });

  it(`the corpus holds at least 100 cases (${CASES.length})`, () => {
    expect(CASES.length).to.be.at.least(100);
  });

  describe('refused, with the store unchanged', () => {
    for (const c of CASES) {
      if (c.kind !== 'rest' && c.kind !== 'rpc' && c.kind !== 'raw') continue;
      it(describeCase(c), async () => {
        const before = last;
        try {
          if (c.kind === 'rest') await runRest(h, c);
          else if (c.kind === 'rpc') await runRpc(h, c);
          else await runRaw(h, c);
        } finally {
          last = await h.fingerprint(); // the next case compares with this, whatever happened here
        }
        expect(last, 'the store changed').to.deep.equal(before);
      });
    }
  });

  describe('slow clients', () => {
    const slow = CASES.filter((c): c is SlowCase => c.kind === 'slow');
    const results = new Map<SlowCase, RawResult>();
    before(async function () {
      this.timeout(20_000);
      const all = await Promise.all(slow.map((c) => runSlow(h, c)));
      slow.forEach((c, i) => results.set(c, all[i]!));
    });
    for (const c of slow) {
      it(describeCase(c), async () => {
        const r = results.get(c)!;
        const [min, max] =
          c.mode === 'idle'
            ? // Node closes an idle connection 1 s after the keep-alive timeout it announces
              [LIMITS.KEEP_ALIVE_TIMEOUT_MS * 0.8, LIMITS.KEEP_ALIVE_TIMEOUT_MS + 2_000]
            : [LIMITS.HEADERS_TIMEOUT_MS * 0.8, LIMITS.REQUEST_TIMEOUT_MS + 1_000];
        expect(r.closedAfterMs, `closed (got ${r.text.slice(0, 200)})`).to.be.a('number');
        expect(r.closedAfterMs).to.be.within(min, max);
        if (c.mode !== 'idle') expect(r.status, r.text.slice(0, 200)).to.equal(408);
        const now = await h.fingerprint();
        expect(now, 'the store changed').to.deep.equal(last);
      });
    }
  });

  describe('http.request aimed inward at run time', () => {
    const runtime = CASES.filter((c) => c.kind === 'ssrf-runtime');
    const created = new Map<AbuseCase, string>();
    before(async function () {
      this.timeout(30_000);
      for (const c of runtime) {
        const r = await api(h.gatewayUrl, '/v1/tasks', {
          method: 'POST',
          headers: { authorization: `Bearer ${API_KEY}` },
          json: { type: 'http.request', payload: { url: lazy(c.url, h), timeoutMs: 5_000 } },
        });
        expect(r.status, `${c.name}: ${JSON.stringify(r.body)}`).to.equal(201);
        created.set(c, r.body.id as string);
      }
    });
    for (const c of runtime) {
      it(describeCase(c), async () => {
        const id = created.get(c)!;
        const t = await waitForStatusWithKey(h, id);
        expect(t.status, JSON.stringify(t.error)).to.equal('failed');
        expect(t.error.code).to.equal(c.expect.errorCode);
        expect(t.error.message).to.be.a('string').and.not.equal('');
        expect(t.attempts, 'refusals are not retried').to.equal(1);
      });
    }
  });

  it('the internal server was never reached, by any case', () => {
    expect(h.internalHits()).to.equal(0);
  });
});

/** waitForStatus with the API key (the gateway requires one here). */
async function waitForStatusWithKey(h: Harness, id: string): Promise<any> {
  const deadline = Date.now() + 20_000;
  let last: any;
  while (Date.now() < deadline) {
    last = (await api(h.gatewayUrl, `/v1/tasks/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } }))
      .body;
    if (last.status === 'failed' || last.status === 'succeeded' || last.status === 'cancelled') return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}
