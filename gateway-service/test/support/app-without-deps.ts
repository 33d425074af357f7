/**
 * The gateway's Koa app on a free loopback port, for the routes that never reach the store,
 * broker, publisher or hub (the dashboard's page and assets, the API docs): those are left
 * empty. The request-id and metrics middleware run on every request, so those two are real.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';

export interface ServedApp {
  base: string;
  port: number;
  close(): void;
}

export async function serveAppWithoutDeps(env: Record<string, string> = {}): Promise<ServedApp> {
  const { app } = createApp({
    config: loadConfig(env),
    store: {} as never,
    broker: {} as never,
    publisher: {} as never,
    hub: {} as never,
    metrics: createMetrics(),
    log: createLogger('silent'),
  });
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
