/**
 * Runs the system on this machine: a MongoDB-wire server (MONGO_URL, else mongodb-memory-server
 * with its data in .data/mongod, else FerretDB with its state in .data/ferretdb, so tasks survive
 * a restart), the task store, the gateway and N executors (`--executors N`, 0 to 16; RabbitMQ at
 * AMQP_URL must be running). Output of each process is prefixed with its name. Arguments are
 * checked before anything starts; whatever ends start.ts (Ctrl-C, SIGTERM, SIGHUP, a service
 * dying, an error here) stops every process it started, newest first (scripts/start/).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import amqplib from 'amqplib';
import { prepareDatabase, provisionMongo } from '@tasks/dev-mongo';
import { EQUALITY_FILTERED_FIELDS } from '@tasks/task-store-service';
import { parseStartOptions, USAGE, type StartOptions } from './start/start-options.js';
import { lineFormatter } from './start/log-format.js';
import { Supervisor } from './start/supervisor.js';

const say = (line: string) => process.stdout.write(`[start] ${line}\n`);
const DATA = fileURLToPath(new URL('../.data/', import.meta.url));
const LOOPBACK = '127.0.0.1';
/** The store's MongoDB database (MONGO_DB as the store reads it), named here so that it can be prepared. */
const STORE_DATABASE = process.env.MONGO_DB ?? 'tasks';

async function brokerReachable(url: string): Promise<boolean> {
  try {
    const conn = await amqplib.connect(url, { timeout: 3_000 });
    await conn.close();
    return true;
  } catch {
    return false;
  }
}

function readOptions(): StartOptions {
  try {
    const parsed = parseStartOptions(process.argv.slice(2), process.env, process.stdout.isTTY === true);
    if (!parsed.help) return parsed.options;
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } catch (err) {
    say(`${err instanceof Error ? err.message : String(err)} (npm start -- --help)`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  const { amqpUrl, storePort, gatewayPort, firstMetricsPort, executors } = options;
  if (!(await brokerReachable(amqpUrl))) {
    say(
      `RabbitMQ is not reachable at ${amqpUrl.replace(/\/\/[^@]*@/, '//')}: start one (\`rabbitmq-server -detached\`, or \`docker compose up -d rabbitmq\`) or set AMQP_URL`,
    );
    process.exit(1);
  }

  // From here on every way out goes through stop(): nothing started is left behind.
  const supervisor = new Supervisor(
    say,
    (name, code, signal) => stop(1, `${name} exited (${code ?? signal})`),
    lineFormatter(options.logFormat, process.stdout.isTTY === true),
  );
  let exitCode = 0;
  const stop = (code: number, reason: string) => {
    if (supervisor.stopping) return;
    exitCode = code;
    say(`stopping: ${reason}`);
    void supervisor.stop().then(() => {
      say('stopped');
      process.exit(exitCode);
    });
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => stop(0, `received ${signal}`));
  process.on('uncaughtException', (err) => stop(1, `uncaught exception: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => stop(1, `unhandled rejection: ${String(err)}`));

  try {
    say('starting MongoDB-wire server');
    mkdirSync(`${DATA}ferretdb`, { recursive: true });
    const mongo = await supervisor.database(() =>
      provisionMongo({
        dataDir: `${DATA}ferretdb`,
        mongodDataDir: `${DATA}mongod`,
        ownProcessGroup: true,
        log: say,
      }),
    );
    if (supervisor.stopping) return;
    // The store's database, tuned for FerretDB on PostgreSQL (nothing to do on MongoDB).
    await prepareDatabase(mongo, STORE_DATABASE, EQUALITY_FILTERED_FIELDS);
    const base = `http://${LOOPBACK}:${storePort}`;
    supervisor.start('task-store', 'task-store-service/src/main.ts', {
      MONGO_URL: mongo.url,
      MONGO_DB: STORE_DATABASE,
      HOST: LOOPBACK,
      PORT: String(storePort),
    });
    if (!(await waitReady(`${base}/readyz`, () => supervisor.stopping))) return;
    const gateway = `http://${LOOPBACK}:${gatewayPort}`;
    supervisor.start('gateway', 'gateway-service/src/main.ts', {
      STORE_URL: `${base}/rpc`,
      AMQP_URL: amqpUrl,
      HOST: LOOPBACK,
      PORT: String(gatewayPort),
    });
    for (let i = 0; i < executors; i++) {
      const name = executors === 1 ? 'executor' : `executor-${i + 1}`;
      supervisor.start(name, 'executor-service/src/main.ts', {
        STORE_URL: `${base}/rpc`,
        AMQP_URL: amqpUrl,
        METRICS_HOST: LOOPBACK,
        METRICS_PORT: String(firstMetricsPort + i),
      });
    }
    const ready = [
      `${gateway}/readyz`,
      ...Array.from({ length: executors }, (_, i) => `http://${LOOPBACK}:${firstMetricsPort + i}/readyz`),
    ];
    for (const url of ready) if (!(await waitReady(url, () => supervisor.stopping))) return;
    banner(options, mongo.server, mongo.url, mongo.data);
  } catch (err) {
    stop(1, `start failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function banner(options: StartOptions, server: string, url: string, data: string | undefined): void {
  const gateway = `http://${LOOPBACK}:${options.gatewayPort}`;
  const base = `http://${LOOPBACK}:${options.storePort}`;
  const { executors, firstMetricsPort } = options;
  say(`dashboard:        ${gateway}/`);
  say(`REST API:         ${gateway}/v1/tasks`);
  say(`API docs:         ${gateway}/docs   (OpenAPI: ${gateway}/openapi.json)`);
  say(`live events:      ${gateway}/v1/events   (Server-Sent Events)`);
  say(`gateway metrics:  ${gateway}/metrics`);
  say(`task store RPC:   ${base}/rpc   (JSON-RPC 2.0, POST; metrics ${base}/metrics)`);
  say(
    executors === 0
      ? 'executors:        none (--executors 0; add one with `npm run dev -w executor-service`, see the README)'
      : `executors:        ${executors} (metrics on ports ${firstMetricsPort}..${firstMetricsPort + executors - 1})`,
  );
  // Executors inherit this environment: WEBHOOK_SECRET and HTTP_ALLOW_HOSTS reach them as set here.
  say(
    `webhooks:         ${process.env.WEBHOOK_SECRET ? 'signed with WEBHOOK_SECRET' : 'not sent (set WEBHOOK_SECRET, 32+ characters)'}` +
      (process.env.HTTP_ALLOW_HOSTS ? `; HTTP_ALLOW_HOSTS=${process.env.HTTP_ALLOW_HOSTS}` : ''),
  );
  say(`MongoDB:          ${server} at ${url}${data ? ` (data: ${data})` : ''}`);
  // The services inherit this environment: the OTEL_* variables reach them as set here.
  const otlp = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  say(
    `tracing:          ${otlp ? `OpenTelemetry spans to ${otlp}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT, docs/observability.md)'}`,
  );
  say(`logs:             ${options.logFormat} (LOG_FORMAT=json|pretty)`);
  const apiKeys = process.env.API_KEYS ? 'API keys from API_KEYS' : 'open (no API keys)';
  const rpcToken = process.env.RPC_TOKEN ? 'RPC token from RPC_TOKEN' : 'no RPC token';
  say(`access:           ${apiKeys}, ${rpcToken}; every port on ${LOOPBACK} only (this machine)`);
  say('press Ctrl-C to stop');
}

/** True once `url` answers 2xx; false if `cancelled()` first; throws after 60 s. */
async function waitReady(url: string, cancelled: () => boolean): Promise<boolean> {
  for (let i = 0; i < 300; i++) {
    if (cancelled()) return false;
    if (
      await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false,
      )
    )
      return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after 60 s`);
}

void main();
