/**
 * Runs the system on this machine: a MongoDB-wire server (MONGO_URL, else mongodb-memory-server,
 * else FerretDB with its data in .data/ferretdb so tasks survive a restart), the task store and
 * an executor (RabbitMQ at AMQP_URL must be running). Output of each process is prefixed with
 * its name; Ctrl-C stops everything in order (executor first, then the store, then MongoDB).
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
    startService('task-store', 'task-store-service/src/main.ts', { MONGO_URL: mongo.url, PORT: storePort }),
  );
  if (!(await waitReady(`${base}/readyz`, () => stopping))) return;
  const metricsPort = process.env.EXECUTOR_METRICS_PORT ?? '9464';
  watch(
    'executor',
    startService('executor', 'executor-service/src/main.ts', {
      STORE_URL: `${base}/rpc`,
      AMQP_URL,
      METRICS_PORT: metricsPort,
    }),
  );
  if (!(await waitReady(`http://127.0.0.1:${metricsPort}/readyz`, () => stopping))) return;
  say(`MongoDB:          ${mongo.server} at ${mongo.url}`);
  say(`task store RPC:   ${base}/rpc   (JSON-RPC 2.0, POST)`);
  say(`store health:     ${base}/healthz  ${base}/readyz  metrics: ${base}/metrics`);
  say(
    `executor health:  http://127.0.0.1:${metricsPort}/readyz  metrics: http://127.0.0.1:${metricsPort}/metrics`,
  );
  say('press Ctrl-C to stop');
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
