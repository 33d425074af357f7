/**
 * Runs the system on this machine: a MongoDB-wire server (MONGO_URL, else mongodb-memory-server,
 * else FerretDB with its data in .data/ferretdb so tasks survive a restart), the task store, the
 * gateway and one or more executors (`--executors N`; RabbitMQ at AMQP_URL must be running).
 * Output of each process is prefixed with its name; Ctrl-C stops everything in reverse order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import amqplib from 'amqplib';
import { provisionMongo } from '@tasks/dev-mongo';

const say = (line: string) => process.stdout.write(`[start] ${line}\n`);

function prefixed(name: string, child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream)
      createInterface({ input: stream }).on('line', (l) => process.stdout.write(`[${name}] ${l}\n`));
  }
}

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

async function brokerReachable(): Promise<boolean> {
  try {
    const conn = await amqplib.connect(AMQP_URL, { timeout: 3_000 });
    await conn.close();
    return true;
  } catch {
    return false;
  }
}

function startService(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import=tsx', entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  prefixed(name, child);
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  if (!(await brokerReachable())) {
    say(
      `RabbitMQ is not reachable at ${AMQP_URL.replace(/\/\/[^@]*@/, '//')}: start one (\`rabbitmq-server -detached\`, or \`docker compose up -d rabbitmq\`) or set AMQP_URL`,
    );
    process.exit(1);
  }
  mkdirSync('.data/ferretdb', { recursive: true });
  say('starting MongoDB-wire server');
  const mongo = await provisionMongo({ dataDir: '.data/ferretdb', log: say });
  const storePort = process.env.STORE_PORT ?? '4001';
  const base = `http://127.0.0.1:${storePort}`;
  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    for (const child of [...children].reverse()) await stopChild(child);
    await mongo.stop();
    say('stopped');
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  const watch = (name: string, child: ChildProcess) => {
    children.push(child);
    child.once('exit', (code) => {
      if (!stopping) {
        say(`${name} exited with ${code}; stopping`);
        void stop(1);
      }
    });
  };

  watch(
    'task-store',
    startService('task-store', 'task-store-service/src/main.ts', {
      MONGO_URL: mongo.url,
      HOST: '127.0.0.1',
      PORT: storePort,
    }),
  );
  if (!(await waitReady(`${base}/readyz`, () => stopping))) return;
  const gatewayPort = process.env.GATEWAY_PORT ?? '8080';
  const gateway = `http://127.0.0.1:${gatewayPort}`;
  watch(
    'gateway',
    startService('gateway', 'gateway-service/src/main.ts', {
      STORE_URL: `${base}/rpc`,
      AMQP_URL,
      // Open (no API key, no token) on loopback only; the services refuse that on any other address.
      HOST: '127.0.0.1',
      PORT: gatewayPort,
    }),
  );
  const executors = executorCount();
  const firstMetricsPort = Number(process.env.EXECUTOR_METRICS_PORT ?? 9464);
  for (let i = 0; i < executors; i++) {
    const name = executors === 1 ? 'executor' : `executor-${i + 1}`;
    watch(
      name,
      startService(name, 'executor-service/src/main.ts', {
        STORE_URL: `${base}/rpc`,
        AMQP_URL,
        METRICS_PORT: String(firstMetricsPort + i),
      }),
    );
  }
  const ready = [
    `${gateway}/readyz`,
    ...Array.from({ length: executors }, (_, i) => `http://127.0.0.1:${firstMetricsPort + i}/readyz`),
  ];
  for (const url of ready) if (!(await waitReady(url, () => stopping))) return;
  say(`dashboard:        ${gateway}/`);
  say(`REST API:         ${gateway}/v1/tasks`);
  say(`API docs:         ${gateway}/docs   (OpenAPI: ${gateway}/openapi.json)`);
  say(`live events:      ${gateway}/v1/events   (Server-Sent Events)`);
  say(`gateway metrics:  ${gateway}/metrics`);
  say(`task store RPC:   ${base}/rpc   (JSON-RPC 2.0, POST; metrics ${base}/metrics)`);
  say(
    `executors:        ${executors} (metrics on ports ${firstMetricsPort}..${firstMetricsPort + executors - 1})`,
  );
  say(`MongoDB:          ${mongo.server} at ${mongo.url}`);
  say('press Ctrl-C to stop');
}

function executorCount(): number {
  const i = process.argv.indexOf('--executors');
  const n = i > 0 ? Number(process.argv[i + 1]) : 1;
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    say('--executors takes a whole number from 1 to 16');
    process.exit(2);
  }
  return n;
}

async function waitReady(url: string, cancelled: () => boolean): Promise<boolean> {
  for (let i = 0; i < 300 && !cancelled(); i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

main().catch((err: unknown) => {
  process.stderr.write(`[start] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
