/**
 * The outside check of issue 13's targets against a running `make start` (`make bench-targets`):
 * it knows only the ports and this machine. Best of 3 runs of 2,000 `noop` tasks (batches of 500,
 * all in flight), every list filter shape on its first page and five pages deep, get and stats
 * p50, one batch of 1,000 (before the reads), and the CPU of the processes listening on the gateway's, the store's
 * and the executor's ports; with --prefill, first at the store's current size, then again after
 * writing finished tasks into the store's database until it holds 30,000 (--stored). Prints a table
 * and exits 0 when every target is met, 1 when one is missed, 2 when none is missed but some
 * could not be measured (without --prefill: the throughput ratio, and the reads when fewer than
 * 30,000 are stored), 3 when it cannot run. The reads start once the batch's tasks have ended.
 *
 *   npx tsx --conditions=source bench/targets.ts [--prefill [--stored=30000]] [--runs=3] [--n=2000]
 *     [--gateway=http://127.0.0.1:8080] [--store=http://127.0.0.1:4001] [--executor=http://127.0.0.1:9464]
 *
 * API_KEY (the gateway's, when it has API_KEYS) and RPC_TOKEN (the store's) are sent when set.
 * Done is told by the status events on RabbitMQ (AMQP_URL and AMQP_PREFIX as the gateway has them).
 * --prefill writes into the database the store was started with (its MONGO_URL and MONGO_DB, read
 * from /proc): the tasks stay there, as history does. Use it on a `make start` you can throw away.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { TaskStoreClient, topology, type Task } from '@tasks/contracts';
import { batchSizes, closedLoop } from './lib/http-load.js';
import { cpuMeter, environmentOf, pidListeningOn } from './lib/processes.js';
import { measureReads, readFigures } from './lib/read-latency.js';
import { TerminalEvents } from './lib/terminal-events.js';
import { checkReport, type Side } from './lib/check-report.js';
import { fmt } from './lib/markdown.js';
import { exitStatus, targetRows, TARGETS, type TargetRow } from './lib/target-verdicts.js';
import { BUILTIN_TYPES, finishedTaskDoc, writeHistory } from './lib/history.js';
import { round, spread } from './lib/measure.js';

const BATCH = 500;
const say = (line: string) => process.stderr.write(`[targets] ${line}\n`);

const USAGE =
  'usage: bench/targets.ts [--prefill [--stored=30000]] [--runs=3] [--n=2000] [--gateway=URL] [--store=URL] [--executor=URL]';

function readArgs() {
  try {
    return parseArgs({ options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    process.exit(3);
  }
}

const OPTIONS = {
  prefill: { type: 'boolean', default: false },
  stored: { type: 'string', default: String(TARGETS.storedAtLeast) },
  runs: { type: 'string', default: '3' },
  n: { type: 'string', default: '2000' },
  gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
  store: { type: 'string', default: 'http://127.0.0.1:4001' },
  executor: { type: 'string', default: 'http://127.0.0.1:9464' },
} as const;
const args = readArgs();

interface Service {
  name: 'gateway' | 'store' | 'executor';
  url: string;
  pid: number;
  env: Record<string, string>;
}

class CheckFailed extends Error {
  readonly type = 'CHECK_FAILED';
}

function findService(name: Service['name'], url: string): Service {
  const port = Number(new URL(url).port);
  const pid = pidListeningOn(port);
  if (pid === undefined)
    throw new CheckFailed(
      `nothing this user can see listens on port ${port} (${name}): is make start running?`,
    );
  return { name, url, pid, env: environmentOf(pid) };
}

async function ready(s: Service): Promise<void> {
  const res = await fetch(`${s.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (!res?.ok) throw new CheckFailed(`${s.name} at ${s.url} is not ready (${res?.status ?? 'no answer'})`);
}

async function main(): Promise<number> {
  const runs = Number(args.runs);
  const n = Number(args.n);
  const prefill = args.prefill ? Number(args.stored) : undefined;
  if (![runs, n, prefill ?? 0].every((x) => Number.isSafeInteger(x) && x >= 0) || runs < 1 || n < 1) {
    throw new CheckFailed(`--runs, --n and --stored take whole numbers\n${USAGE}`);
  }
  const gateway = findService('gateway', args.gateway);
  const store = findService('store', args.store);
  const executor = findService('executor', args.executor);
  for (const s of [gateway, store, executor]) await ready(s);
  say(
    `gateway pid ${gateway.pid}, store pid ${store.pid}, executor pid ${executor.pid}; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(process.env.API_KEY && { authorization: `Bearer ${process.env.API_KEY}` }),
  };
  const rpc = new TaskStoreClient({
    url: `${args.store}/rpc`,
    token: process.env.RPC_TOKEN,
    timeoutMs: 120_000,
    retries: 0,
  });
  const mongoUrl = store.env.MONGO_URL;
  const mongoDb = store.env.MONGO_DB ?? 'tasks';
  const mongo = mongoUrl ? new MongoClient(mongoUrl, { maxPoolSize: 4 }) : undefined;
  const events = await TerminalEvents.open(
    gateway.env.AMQP_URL ?? process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    topology(gateway.env.AMQP_PREFIX ?? 'tasks').eventsExchange,
  );
  try {
    const count = async () => {
      if (!mongo)
        throw new CheckFailed(
          'the store was not started with MONGO_URL in its environment: cannot count or prefill',
        );
      return mongo.db(mongoDb).collection('tasks').estimatedDocumentCount();
    };
    /** Ids of the latest run's tasks, for the gets. */
    let recentIds: string[] = [];
    /** Submits `total` noop tasks in batches of 500, all in flight; resolves when all ended. */
    const submit = async (total: number) => {
      const sizes = batchSizes(total, BATCH);
      const load = await closedLoop({
        url: `${args.gateway}/v1/tasks/batch`,
        concurrency: sizes.length,
        requests: sizes.length,
        body: (i) => ({ tasks: Array.from({ length: sizes[i]! }, () => ({ type: 'noop', payload: {} })) }),
        ids: (json) => (json as { items: Task[] }).items.map((t) => t.id),
        headers,
      });
      if (load.ids.length < total)
        throw new CheckFailed(
          `only ${load.ids.length} of ${total} tasks accepted: ${load.firstError ?? '?'}`,
        );
      await waitEnded(load.ids, load.startEpochMs);
      return { load, endedAt: events.lastEndedAt(load.ids)! };
    };
    /** Resolves when every task of `ids` (created after `startEpochMs`) has ended. */
    const waitEnded = async (ids: string[], startEpochMs: number) => {
      const createdAfter = new Date(startEpochMs - 1).toISOString();
      const ended = await events.waitFor(
        ids,
        Date.now() + 300_000,
        async (timeoutMs) => {
          const found = new Map<string, string>();
          let cursor: string | undefined;
          do {
            const page = await rpc.call(
              'tasks.list',
              { createdAfter, limit: 500, ...(cursor && { cursor }) },
              { timeoutMs },
            );
            for (const t of page.items) if (t.finishedAt) found.set(t.id, t.status);
            cursor = page.nextCursor ?? undefined;
          } while (cursor);
          return found;
        },
        (seen) => say(`no status event for 15 s (${seen} of ${ids.length} seen): asking the store`),
      );
      if (!ended) throw new CheckFailed(`${ids.length} tasks did not all end within 5 minutes`);
    };
    const side = async (label: string): Promise<Side> => {
      const stored = await count();
      say(`${label}: ${stored.toLocaleString('en')} tasks stored; warm-up of ${BATCH}`);
      await submit(BATCH);
      const out: Side = { stored, runs: [] };
      for (let i = 1; i <= runs; i++) {
        const meter = await cpuMeter({
          gateway: [gateway.pid],
          store: [store.pid],
          executor: [executor.pid],
        });
        const { load, endedAt } = await submit(n);
        const cpu = await meter();
        const perTask = (role: string) => {
          const pct = cpu.byRole[role];
          return pct === null || pct === undefined ? null : round(((pct / 100) * cpu.wallMs) / n, 3);
        };
        const cpuMsPerTask = {
          gateway: perTask('gateway'),
          store: perTask('store'),
          executor: perTask('executor'),
        };
        const parts = Object.values(cpuMsPerTask);
        const services = parts.every((x) => x !== null)
          ? round(
              parts.reduce((a, b) => a + b, 0),
              3,
            )
          : null;
        const completedPerSec = round(n / ((endedAt - load.startEpochMs) / 1000));
        out.runs.push({ completedPerSec, servicesCpuMsPerTask: services, cpuMsPerTask });
        recentIds = load.ids;
        say(
          `${label} run ${i}: ${completedPerSec} tasks/s, services ${services ?? '?'} ms CPU per task (${JSON.stringify(cpuMsPerTask)})`,
        );
      }
      return out;
    };

    const first = await side(prefill === undefined ? 'as stored now' : 'before the prefill');
    let last = first;
    if (prefill !== undefined) {
      const have = await count();
      const add = Math.max(0, prefill - have);
      say(
        `writing ${add.toLocaleString('en')} finished tasks into ${mongoDb} (${have.toLocaleString('en')} stored)`,
      );
      const endMs = Date.now() - 60_000;
      const written = await writeHistory(mongo!.db(mongoDb), 0, add, (i) =>
        finishedTaskDoc(i, add, { types: BUILTIN_TYPES, endMs, spanMs: 24 * 3600_000 }),
      );
      say(`written in ${written.seconds} s (${written.tasksPerSec}/s)`);
      last = await side('after the prefill');
    }
    // The batch before the reads: a list page the gateway gave up on still loads the database.
    const startEpochMs = Date.now();
    const batch = await batchOfThousand(args.gateway, headers, gateway.env.STORE_TIMEOUT_MS);
    if (batch.ids.length > 0) await waitEnded(batch.ids, startEpochMs);
    const storedAtReads = await count();
    say(`reads at ${storedAtReads.toLocaleString('en')} stored`);
    const reads = await measureReads({
      gatewayUrl: args.gateway,
      samples: 10,
      type: 'noop',
      headers,
      deadline: Date.now() + 180_000,
      ids: recentIds.slice(0, 200),
      log: say,
    });

    const best = (s: Side) => Math.max(...s.runs.map((r) => r.completedPerSec));
    const cpus = last.runs.map((r) => r.servicesCpuMsPerTask).filter((x): x is number => x !== null);
    const rows: TargetRow[] = [
      ...targetRows({
        stored: storedAtReads,
        emptyPerSec: prefill === undefined ? null : best(first),
        storedPerSec: prefill === undefined ? null : best(last),
        servicesCpuMsPerTask: cpus.length === last.runs.length ? spread(cpus).median : null,
        ...readFigures(reads),
        source: {
          throughput: `best of ${runs} runs of ${n.toLocaleString('en')} each side`,
          cpu: `median of ${runs} runs at ${last.stored.toLocaleString('en')} stored (pids ${gateway.pid}, ${store.pid}, ${executor.pid})`,
          reads: `${storedAtReads.toLocaleString('en')} stored`,
        },
      }),
      batch.row,
    ];
    process.stdout.write(`${checkReport(rows, first, last, reads, prefill !== undefined)}\n`);
    return exitStatus(rows);
  } finally {
    await events.close();
    await mongo?.close();
  }
}

async function batchOfThousand(
  gateway: string,
  headers: Record<string, string>,
  storeTimeout: string | undefined,
): Promise<{ row: TargetRow; ids: string[] }> {
  const timeoutMs = Number(storeTimeout) || 5_000;
  const t0 = performance.now();
  const res = await fetch(`${gateway}/v1/tasks/batch`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ tasks: Array.from({ length: 1_000 }, () => ({ type: 'noop', payload: {} })) }),
    signal: AbortSignal.timeout(120_000),
  }).catch((err: unknown) => err as Error);
  const ms = round(performance.now() - t0, 0);
  const ok = !(res instanceof Error) && (res.status === 200 || res.status === 201);
  const body = res instanceof Error ? '' : await res.text();
  return {
    row: {
      target: `A batch of 1,000 is accepted within the gateway's STORE_TIMEOUT_MS (${fmt(timeoutMs, 0)} ms)`,
      measured: res instanceof Error ? res.message : `HTTP ${res.status} in ${fmt(ms, 0)} ms`,
      verdict: ok && ms < timeoutMs ? 'pass' : 'fail',
      source: 'one POST /v1/tasks/batch, before the reads',
    },
    ids: ok ? (JSON.parse(body) as { items: Task[] }).items.map((t) => t.id) : [],
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(
      err instanceof CheckFailed
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err),
    );
    process.exit(3);
  },
);
