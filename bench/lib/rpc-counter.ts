/**
 * An HTTP proxy in front of the task store's /rpc that counts what passes through it: HTTP
 * requests, and the JSON-RPC calls they carry by method (a batch counts each of its calls). One
 * per client (the gateway, the executors) tells who makes which calls; it works against any
 * version of the store.
 */
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class RpcCounter {
  httpRequests = 0;
  readonly calls = new Map<string, number>();
  private readonly agent = new Agent({ keepAlive: true });

  private server: Server | undefined;
  port = 0;

  /** Listens on a free loopback port; `targetPort` is the store's. */
  static async start(targetPort: number): Promise<RpcCounter> {
    const counter = new RpcCounter();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        counter.note(req.url ?? '', body);
        const upstream = request(
          {
            host: '127.0.0.1',
            port: targetPort,
            path: req.url,
            method: req.method,
            headers: req.headers,
            agent: counter.agent,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    counter.server = server;
    counter.port = (server.address() as AddressInfo).port;
    return counter;
  }

  private note(path: string, body: Buffer): void {
    if (!path.startsWith('/rpc')) return;
    this.httpRequests++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return;
    }
    for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
      const method = (call as { method?: unknown } | null)?.method;
      const name = typeof method === 'string' ? method : '?';
      this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    }
  }

  snapshot(): { httpRequests: number; calls: Map<string, number> } {
    return { httpRequests: this.httpRequests, calls: new Map(this.calls) };
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
