/**
 * What tracing costs (docs/observability.md): the task store's JSON-RPC call rate with tracing
 * off (no OTLP endpoint: the SDK is not loaded) and on (every span exported to a local OTLP/HTTP
 * receiver, http/json), rounds alternated so that the machine's drift falls on both; and the
 * CPU the code path adds per call while tracing is off, measured in-process. Writes
 * bench/results/tracing-cost.md, which render-benchmarks.ts puts into BENCHMARKS.md.
 *   npx tsx --conditions=source bench/tracing-cost.ts [--seconds=10] [--rounds=2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import { TaskStoreClient } from '@tasks/contracts';
import { provisionMongo } from '@tasks/dev-mongo';
import { callTraceparents, traceStoreRequests, withSpan } from '@tasks/telemetry';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = fileURLToPath(new URL('./results/tracing-cost.md', import.meta.url));
const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const SECONDS = arg('seconds', 10);
const ROUNDS = arg('rounds', 2);
const CONNECTIONS = 16;

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A receiver that only counts what it is sent. */
async function receiver(): Promise<{ url: string; spans: () => number; close(): void }> {
  let spans = 0;
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    spans: () => spans,
    close: () => srv.close(),
  };
}

async function startStore(mongoUrl: string, db: string, env: Record<string, string>) {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import=tsx', 'task-store-service/src/main.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        MONGO_URL: mongoUrl,
        MONGO_DB: db,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 600) throw new Error('store not ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

async function measure(mongoUrl: string, mode: 'off' | 'on', otlp: string) {
  const db = `trace_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const env: Record<string, string> =
    mode === 'on' ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } : {};
  const store = await startStore(mongoUrl, db, env);
  try {
    const client = new TaskStoreClient({ url: `${store.url}/rpc` });
    await client.call('taskTypes.register', {
      workerId: 'bench',
      types: [
        { type: 'noop', kind: 'io', payloadSchema: { type: 'object' }, timeoutMs: 1_000, maxAttempts: 1 },
      ],
    });
    const { task } = await client.call('tasks.create', { type: 'noop', payload: {} });
    // A traced caller: the store continues its trace (the gateway's and executors' calls do).
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (mode === 'on') headers.traceparent = `00-${randomUUID().replaceAll('-', '')}-${'1'.repeat(16)}-01`;
    const result = await autocannon({
      url: `${store.url}/rpc`,
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tasks.get', params: { id: task.id } }),
      connections: CONNECTIONS,
      duration: SECONDS,
    });
    return { rate: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
  } finally {
    await store.stop();
    const mongo = new MongoClient(mongoUrl);
    await mongo.db(db).dropDatabase();
    await mongo.close();
  }
}

/** ns per call of what a JSON-RPC call runs through while tracing is off (server and client side). */
async function offPathNs(): Promise<number> {
  const hook = traceStoreRequests();
  const headers = { 'content-type': 'application/json', 'x-request-id': 'x' };
  const answer = Promise.resolve([{ id: 1 }] as const);
  const calls = [{ id: 1, method: 'tasks.get' as const }];
  const n = 200_000;
  const run = async (traced: boolean) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      if (traced) {
        callTraceparents(headers, 1);
        await withSpan('tasks.get', {}, () => hook(calls, { ...headers }, () => answer));
      } else await answer;
    }
    return Number(process.hrtime.bigint() - t0) / n;
  };
  await run(true);
  await run(false);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) samples.push((await run(true)) - (await run(false)));
  return samples.sort((a, b) => a - b)[2]!;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const each = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');

async function main(): Promise<void> {
  const load = loadavg()[0]!;
  const mongo = await provisionMongo({ log: (l) => process.stderr.write(`${l}\n`) });
  const otlp = await receiver();
  const runs: Record<'off' | 'on', { rate: number; p50: number; p99: number }[]> = { off: [], on: [] };
  try {
    for (let r = 0; r < ROUNDS; r++)
      for (const mode of ['off', 'on'] as const) {
        const m = await measure(mongo.url, mode, otlp.url);
        runs[mode].push(m);
        process.stderr.write(
          `round ${r + 1} ${mode}: ${m.rate.toFixed(0)} calls/s, p50 ${m.p50} ms, p99 ${m.p99} ms\n`,
        );
      }
  } finally {
    otlp.close();
    await mongo.stop();
  }
  const ns = await offPathNs();
  const off = mean(runs.off.map((m) => m.rate));
  const on = mean(runs.on.map((m) => m.rate));
  const row = (mode: 'off' | 'on') => {
    const r = runs[mode];
    const label =
      mode === 'off'
        ? 'off (no endpoint: SDK not loaded)'
        : 'on (every span to a local OTLP/HTTP receiver, http/json)';
    return `| ${label} | ${mean(r.map((m) => m.rate)).toFixed(0)} (${each(r.map((m) => m.rate))}) | ${each(r.map((m) => m.p50))} | ${each(r.map((m) => m.p99))} |`;
  };
  const md = [
    '## Tracing cost',
    '',
    `The task store's \`tasks.get\` over JSON-RPC (a MongoDB read each), ${CONNECTIONS} connections for ${SECONDS} s, ${ROUNDS} rounds alternating off and on (calls/s: mean, then each round; latencies: each round); 1-minute load average ${load.toFixed(2)} at the start, on a machine shared with other work. Command: \`npx tsx --conditions=source bench/tracing-cost.ts\` (docs/observability.md).`,
    '',
    '| tracing | calls/s | p50 ms | p99 ms |',
    '| --- | ---: | ---: | ---: |',
    row('off'),
    row('on'),
    '',
    `On: ${(((on - off) / off) * 100).toFixed(0)} % calls/s against off (the store makes an HTTP server span, a JSON-RPC server span and a MongoDB span per call, and exports them; ${otlp.spans()} spans received). Off: the code path adds ${ns.toFixed(0)} ns of CPU per JSON-RPC call (client hook, server span wrapper and header read, measured in-process against a bare call) — below what these call rates can resolve; with no endpoint set no OpenTelemetry SDK module is loaded.`,
    '',
  ].join('\n');
  writeFileSync(OUT, md);
  process.stdout.write(md);
}

void main();
