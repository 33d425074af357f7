/**
 * http.request against local servers on 127.0.0.1. A guard on net.Socket#connect records every
 * connection attempt and destroys any that is not to 127.0.0.1 before a packet leaves, so a
 * regression in the SSRF check shows up as a recorded violation, never as real traffic.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { TaskContext } from '../../src/tasks/task-definition.js';
import httpRequestTask, {
  httpRequest,
  MAX_RESPONSE_BYTES,
  type HttpRequestPayload,
  type HttpRequestResult,
} from '../../src/tasks/builtin/http-request.task.js';

interface LocalServer {
  port: number;
  origin: string;
  /** TCP connections accepted so far. */
  connections: number;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

async function startServer(handler: Handler): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      s.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', () => s.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const s: LocalServer = {
    port,
    origin: `http://127.0.0.1:${port}`,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return s;
}

type Failure = Error & { code?: string; retryable?: boolean; status?: number };

async function failureOf(work: Promise<unknown>): Promise<Failure> {
  try {
    await work;
  } catch (err) {
    return err as Failure;
  }
  expect.fail('expected the request to fail');
}

function ctx(allowHosts: string[] = [], signal = new AbortController().signal): TaskContext {
  return { signal, allowHosts, progress: () => undefined, dependencies: {} };
}

const run = (payload: HttpRequestPayload, allowHosts: string[] = [], signal?: AbortSignal) =>
  httpRequestTask.handler(payload, ctx(allowHosts, signal)) as Promise<HttpRequestResult>;

describe('http.request task', function () {
  const attempts: string[] = [];
  const violations: string[] = [];
  let originalConnect: typeof net.Socket.prototype.connect;
  let server: LocalServer;
  let other: LocalServer;
  let allowServer: string[];

  before(() => {
    // eslint-disable-next-line @typescript-eslint/unbound-method
    originalConnect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
      const opts = (typeof first === 'object' && first !== null ? first : { port: first, host: args[1] }) as {
        host?: unknown;
        port?: unknown;
        path?: unknown;
      };
      if (typeof opts.path !== 'string') {
        const host = typeof opts.host === 'string' ? opts.host : 'localhost';
        attempts.push(`${host}:${String(opts.port)}`);
        if (host !== '127.0.0.1') {
          violations.push(`${host}:${String(opts.port)}`);
          return this.destroy(new Error(`test guard: no connections to ${host}`));
        }
      }
      return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
    };
  });

  after(() => {
    net.Socket.prototype.connect = originalConnect;
  });

  beforeEach(async () => {
    attempts.length = 0;
    violations.length = 0;
    server = await startServer((req, res, body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const to = url.searchParams.get('to');
      if (url.pathname === '/redirect' && to !== null) {
        res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to }).end();
      } else if (url.pathname === '/loop') {
        res.writeHead(302, { location: '/loop' }).end();
      } else if (url.pathname === '/status') {
        res
          .writeHead(Number(url.searchParams.get('code')), { 'content-type': 'text/plain' })
          .end('status page');
      } else if (url.pathname === '/big') {
        const bytes = Number(url.searchParams.get('bytes'));
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let sent = 0; sent < bytes; sent += 65_536)
          res.write('x'.repeat(Math.min(65_536, bytes - sent)));
        res.end();
      } else if (url.pathname === '/hang') {
        // never answers
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'x-test': 'yes' });
        res.end(JSON.stringify({ method: req.method, path: req.url, host: req.headers.host, body }));
      }
    });
    other = await startServer((_, res) => res.end('other'));
    allowServer = [`127.0.0.1:${server.port}`];
  });

  afterEach(async () => {
    await Promise.all([server.close(), other.close()]);
    expect(violations, 'connections to anything but 127.0.0.1').to.deep.equal([]);
  });

  describe('SSRF checks before connecting', () => {
    it('when a loopback server is not allow-listed, then the request is refused without connecting', async () => {
      for (const url of [
        `${server.origin}/`,
        `http://0x7f000001:${server.port}/`,
        `http://127.1:${server.port}/`,
      ]) {
        const err = await failureOf(run({ url }));
        expect(err, url).to.include({ code: 'SSRF_BLOCKED', retryable: false });
      }
      expect(server.connections).to.equal(0);
      expect(attempts).to.deep.equal([]);
    });

    for (const target of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:PORT/',
      'http://localhost:PORT/',
      'http://10.0.0.1/',
      'http://0.0.0.0:PORT/',
      'http://[::ffff:127.0.0.1]:PORT/',
      'http://100.64.0.1/',
      'https://[fe80::1]/',
      'http://224.0.0.1/',
    ]) {
      it(`when the target is ${target}, then it is refused before any connection`, async () => {
        const err = await failureOf(run({ url: target.replace('PORT', String(server.port)) }, allowServer));
        expect(err).to.include({ code: 'SSRF_BLOCKED', retryable: false });
        expect(attempts).to.deep.equal([]);
        expect(server.connections).to.equal(0);
      });
    }

    it('when the allow list names another port of the same host, then the request is refused', async () => {
      const err = await failureOf(run({ url: `${server.origin}/` }, [`127.0.0.1:${other.port}`]));
      expect(err).to.include({ code: 'SSRF_BLOCKED' });
      expect(attempts).to.deep.equal([]);
    });

    it('when the URL is not http(s) or a header is forbidden, then the payload is refused', async () => {
      for (const payload of <HttpRequestPayload[]>[
        { url: 'file:///etc/passwd' },
        { url: 'not a url' },
        { url: `${server.origin}/`, headers: { Host: 'metadata.google.internal' } },
        { url: `${server.origin}/`, headers: { 'bad header': 'x' } },
      ]) {
        const err = await failureOf(run(payload, allowServer));
        expect(err, JSON.stringify(payload)).to.include({ code: 'PAYLOAD_INVALID', retryable: false });
      }
      expect(attempts).to.deep.equal([]);
    });
  });

  describe('allowed requests', () => {
    it('when the host:port is allow-listed, then the request is made and the answer returned', async () => {
      const r = await run({ url: `${server.origin}/hello?x=1`, method: 'POST', body: 'ping' }, allowServer);
      expect(r).to.include({ status: 200, truncated: false, url: `${server.origin}/hello?x=1` });
      expect(r.headers).to.include({ 'content-type': 'application/json', 'x-test': 'yes' });
      expect(JSON.parse(r.body)).to.deep.equal({
        method: 'POST',
        path: '/hello?x=1',
        host: `127.0.0.1:${server.port}`,
        body: 'ping',
      });
      expect(r.bytes).to.equal(Buffer.byteLength(r.body));
      expect(attempts).to.deep.equal([`127.0.0.1:${server.port}`]);
    });

    it('when the allow list names the host without a port, then any port is allowed', async () => {
      const r = await run({ url: `${other.origin}/` }, ['127.0.0.1']);
      expect(r).to.include({ status: 200, body: 'other' });
    });

    it('when a name is allow-listed, then it is resolved once and the vetted address is connected to', async () => {
      let lookups = 0;
      const lookup = (hostname: string) => {
        lookups++;
        expect(hostname).to.equal('pinned.test');
        return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
      };
      const r = await httpRequest(
        { url: `http://pinned.test:${server.port}/` },
        ctx([`pinned.test:${server.port}`]),
        lookup,
      );
      expect(JSON.parse(r.body)).to.include({ host: `pinned.test:${server.port}` });
      expect(lookups).to.equal(1);
      expect(attempts).to.deep.equal([`127.0.0.1:${server.port}`]);
    });

    it('when a name resolves to loopback and is not allow-listed, then it is refused', async () => {
      const lookup = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
      const err = await failureOf(
        httpRequest({ url: `http://rebind.test:${server.port}/` }, ctx(allowServer), lookup),
      );
      expect(err).to.include({ code: 'SSRF_BLOCKED' });
      expect(attempts).to.deep.equal([]);
    });
  });

  describe('redirects', () => {
    const redirect = (to: string, status = 302) =>
      `${server.origin}/redirect?status=${status}&to=${encodeURIComponent(to)}`;

    it('when redirected to the metadata address, then the redirect is refused before connecting', async () => {
      const err = await failureOf(
        run({ url: redirect('http://169.254.169.254/latest/meta-data/') }, allowServer),
      );
      expect(err).to.include({ code: 'SSRF_BLOCKED', retryable: false });
      expect(server.requests).to.have.length(1);
      expect(attempts).to.deep.equal([`127.0.0.1:${server.port}`]);
    });

    it('when redirected to a loopback port that is not allow-listed, then the redirect is refused', async () => {
      const err = await failureOf(run({ url: redirect(`${other.origin}/`) }, allowServer));
      expect(err).to.include({ code: 'SSRF_BLOCKED' });
      expect(other.connections).to.equal(0);
    });

    it('when redirected within the allowed host, then the redirect is followed', async () => {
      const r = await run({ url: redirect('/final') }, allowServer);
      expect(r).to.include({ status: 200, url: `${server.origin}/final` });
      expect(server.requests.map((q) => q.url)).to.deep.equal([
        `/redirect?status=302&to=${encodeURIComponent('/final')}`,
        '/final',
      ]);
    });

    it('when a POST is answered with 303, then a GET without body follows; with 307 the POST is repeated', async () => {
      await run({ url: redirect('/after-303', 303), method: 'POST', body: 'data' }, allowServer);
      await run({ url: redirect('/after-307', 307), method: 'POST', body: 'data' }, allowServer);
      const follow = server.requests.filter((q) => q.url.startsWith('/after'));
      expect(follow.map((q) => [q.url, q.method, q.body])).to.deep.equal([
        ['/after-303', 'GET', ''],
        ['/after-307', 'POST', 'data'],
      ]);
    });

    it('when a redirect leaves the origin, then credentials are not sent on', async () => {
      await run(
        { url: redirect(`${other.origin}/`), headers: { Authorization: 'Bearer secret', 'X-Keep': '1' } },
        [...allowServer, `127.0.0.1:${other.port}`],
      );
      expect(server.requests[0]!.headers.authorization).to.equal('Bearer secret');
      expect(other.requests[0]!.headers.authorization).to.equal(undefined);
      expect(other.requests[0]!.headers['x-keep']).to.equal('1');
    });

    it('when redirects never end, then it stops after 5 with a non-retryable failure', async () => {
      const err = await failureOf(run({ url: `${server.origin}/loop` }, allowServer));
      expect(err).to.include({ code: 'TOO_MANY_REDIRECTS', retryable: false });
      expect(server.requests).to.have.length(6);
    });
  });

  describe('limits and outcomes', () => {
    it('when the response is larger than 1 MiB, then the body is cut at 1 MiB and marked truncated', async () => {
      const r = await run({ url: `${server.origin}/big?bytes=${3 * MAX_RESPONSE_BYTES}` }, allowServer);
      expect(r).to.include({ status: 200, truncated: true, bytes: MAX_RESPONSE_BYTES });
      expect(r.body).to.have.length(MAX_RESPONSE_BYTES);
    });

    it('when the response is exactly 1 MiB, then it is complete', async () => {
      const r = await run({ url: `${server.origin}/big?bytes=${MAX_RESPONSE_BYTES}` }, allowServer);
      expect(r).to.include({ truncated: false, bytes: MAX_RESPONSE_BYTES });
    });

    it('when the server does not answer in time, then it fails with a retryable timeout', async () => {
      const started = performance.now();
      const err = await failureOf(run({ url: `${server.origin}/hang`, timeoutMs: 200 }, allowServer));
      expect(err).to.include({ code: 'HTTP_TIMEOUT', retryable: true });
      expect(performance.now() - started).to.be.within(150, 2_000);
    });

    it('when the task is aborted, then it rejects with the abort reason', async () => {
      const controller = new AbortController();
      const reason = Object.assign(new Error('cancelled'), { code: 'CANCELLED' });
      setTimeout(() => controller.abort(reason), 50);
      const err = await failureOf(run({ url: `${server.origin}/hang` }, allowServer, controller.signal));
      expect(err).to.equal(reason);
    });

    it('when the server answers 5xx, then it fails with a retryable error', async () => {
      const err = await failureOf(run({ url: `${server.origin}/status?code=503` }, allowServer));
      expect(err).to.include({ code: 'HTTP_SERVER_ERROR', retryable: true, status: 503 });
    });

    it('when the server answers 4xx, then the status is the result', async () => {
      const r = await run({ url: `${server.origin}/status?code=404` }, allowServer);
      expect(r).to.include({ status: 404, body: 'status page', truncated: false });
    });

    it('when nothing listens on the port, then it fails with a retryable network error', async () => {
      const closed = await startServer(() => undefined);
      await closed.close();
      const err = await failureOf(run({ url: `${closed.origin}/` }, [`127.0.0.1:${closed.port}`]));
      expect(err).to.include({ code: 'HTTP_NETWORK_ERROR', retryable: true });
    });
  });
});
