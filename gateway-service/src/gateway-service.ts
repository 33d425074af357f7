/** Builds and starts the gateway without reading the environment (main.ts and tests share it). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TaskStoreClient, topology } from '@tasks/contracts';
import {
  answerClientErrors,
  applyHttpLimits,
  httpServerOptions,
  runShutdownSteps,
  SHUTDOWN_CLOSE_ALLOWANCE_MS,
} from '@tasks/service-runtime';
import { Broker } from '@tasks/messaging';
import { traceStoreRequests } from '@tasks/telemetry';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { problemForClientError } from './middleware/problem-details.js';
import type { Config } from './config.js';
import { Dispatcher } from './dispatcher/dispatcher.js';
import { Reconciler } from './dispatcher/reconciler.js';
import { DeadLetterRecorder } from './events/dead-letters.js';
import { EventHub } from './events/event-hub.js';
import { createMetrics } from './metrics.js';
import { TaskPublisher } from './task-publisher.js';

export interface RunningGateway {
  url: string;
  port: number;
  dispatcher: Dispatcher;
  reconciler: Reconciler;
  broker: Broker;
  /** Resolves once every task published so far is marked published in the store. */
  flushMarks(): Promise<void>;
  stop(): Promise<void>;
}

/** How long a stopping gateway keeps answering (with `connection: close`) before it stops listening. */
const DRAIN_MS = 500;

export async function startGateway(
  config: Readonly<Config>,
  log: Logger,
  options: { dispatcher?: boolean } = {},
): Promise<RunningGateway> {
  if (config.apiKeys.length === 0)
    log.warn('API_KEYS is not set: the REST API is open to anyone who can reach it');
  const store = new TaskStoreClient({
    url: config.storeUrl,
    token: config.rpcToken,
    timeoutMs: config.storeTimeoutMs,
    onRequest: traceStoreRequests(),
  });
  const metrics = createMetrics();
  const broker = new Broker(config.amqpUrl, topology(config.amqpPrefix), log);
  const publisher = new TaskPublisher(broker, store, metrics, config.publishTimeoutMs, log);
  const hub = new EventHub(config.sseMaxBufferBytes, metrics);
  hub.attach(broker);
  const deadLetters = new DeadLetterRecorder(store, publisher, metrics, log);
  let draining = false;
  let stopping: Promise<void> | undefined;
  const { app } = createApp({
    config,
    store,
    broker,
    publisher,
    hub,
    metrics,
    log,
    isDraining: () => draining,
  });
  const dispatcher = new Dispatcher(config, store, publisher, metrics, log);
  const reconciler = new Reconciler(config, store, broker, publisher, metrics, log);

  const handle = app.callback();
  const server: Server = applyHttpLimits(
    createServer(httpServerOptions(config), (req, res) => {
      // While stopping, every answer tells the client to open a new connection for its next
      // request, so that no request is sent down a kept-alive socket just as it is closed.
      if (draining) res.setHeader('connection', 'close');
      void handle(req, res);
    }),
    config,
  );
  answerClientErrors(server, problemForClientError);
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // The background loops (tests drive them by hand when they turn them off).
  if (options.dispatcher !== false) {
    dispatcher.start();
    reconciler.start();
    deadLetters.attach(broker);
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.host}:${port}`,
    port,
    dispatcher,
    reconciler,
    broker,
    flushMarks: () => publisher.flushMarks(),
    stop() {
      // Every step is bounded by one deadline: with the store or the broker gone (or black-holed)
      // a dispatcher pass, a mark or a broker close can hang.
      let grace: NodeJS.Timeout | undefined;
      draining = true;
      stopping ??= runShutdownSteps(
        [
          {
            name: 'stop dispatcher, reconciler and dead-letter recorder',
            run: async () => {
              deadLetters.stop();
              await Promise.all([dispatcher.stop(), reconciler.stop()]);
            },
          },
          {
            name: 'drain HTTP requests',
            run: async () => {
              // Busy keep-alive clients get their `connection: close` within a request or two, and
              // /readyz says 503 so that a load balancer stops sending; then the listener closes and
              // new connections are refused, which a client can safely retry.
              await new Promise((r) => setTimeout(r, Math.min(DRAIN_MS, config.shutdownGraceMs)));
              hub.closeAll();
              const closed = new Promise<void>((r) => server.close(() => r()));
              server.closeIdleConnections();
              grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
              await closed;
            },
          },
          { name: 'mark published tasks in the store', run: () => publisher.flushMarks() },
          { name: 'close broker connection', run: () => broker.close() },
        ],
        config.shutdownGraceMs + SHUTDOWN_CLOSE_ALLOWANCE_MS,
      ).finally(() => clearTimeout(grace));
      return stopping;
    },
  };
}
