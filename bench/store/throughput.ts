/**
 * Scenario (a): calls per second of tasks.create, tasks.claim and tasks.complete through the
 * real JSON-RPC client with C concurrent callers. Every repetition gets a fresh database, so
 * repetitions start from the same state: create makes the tasks that claim then takes (oldest
 * first) and complete then finishes.
 */
import { randomUUID } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import { TaskStoreClient, type TaskTypeDefinition } from '@tasks/contracts';
import { percentile, progress, round, spread, type Budget, type Spread } from '../lib/measure.js';
import { cpuMeter, runCalls, type CallsResult, type CpuShare } from './meters.js';
import { stopStoreAndDrop, type StoreHost } from './store-host.js';

export const BENCH_TYPE: TaskTypeDefinition = {
  type: 'bench.noop',
  kind: 'io',
  payloadSchema: { type: 'object' },
  timeoutMs: 60_000,
  maxAttempts: 3,
};

const METHODS = ['tasks.create', 'tasks.claim', 'tasks.complete'] as const;
type Method = (typeof METHODS)[number];

export interface ThroughputSettings {
  concurrency: number[];
  /** Warm-up and measured calls per method, by concurrency. */
  calls: Record<number, { warmup: number; measured: number }>;
  repetitions: number;
}

export interface RepResult {
  repetition: number;
  callsPerSec: number;
  p50Ms: number;
  errors: number;
  firstError?: string;
  cpu: CpuShare;
}

export interface ThroughputResult {
  method: Method;
  concurrency: number;
  warmupCalls: number;
  measuredCalls: number;
  callsPerSec: Spread;
  p50Ms: Spread;
  loadGeneratorCpuPct: Spread;
  storeCpuPct: Spread | null;
  mongoCpuPct: Spread | null;
  repetitions: RepResult[];
}

export interface ThroughputDeps {
  host: StoreHost;
  mongoUrl: string;
  mongo: MongoClient;
  mongoPid: number | undefined;
  budget: Budget;
}

export async function runThroughput(
  deps: ThroughputDeps,
  s: ThroughputSettings,
): Promise<ThroughputResult[]> {
  const reps = new Map<string, RepResult[]>();
  for (let rep = 1; rep <= s.repetitions; rep++) {
    // Repetitions on the outside, so slow drift (disk, caches) spreads over every configuration.
    for (const c of s.concurrency) {
      const results = await oneRepetition(deps, c, s.calls[c]!, rep);
      for (const m of METHODS) {
        const key = `${m}|${c}`;
        reps.set(key, [...(reps.get(key) ?? []), results[m]]);
      }
    }
  }
  return s.concurrency.flatMap((c) =>
    METHODS.map((method): ThroughputResult => {
      const r = reps.get(`${method}|${c}`)!;
      const nullableSpread = (xs: (number | null)[]) =>
        xs.every((x): x is number => x !== null) ? spread(xs) : null;
      return {
        method,
        concurrency: c,
        warmupCalls: s.calls[c]!.warmup,
        measuredCalls: s.calls[c]!.measured,
        callsPerSec: spread(r.map((x) => x.callsPerSec)),
        p50Ms: spread(r.map((x) => x.p50Ms)),
        loadGeneratorCpuPct: spread(r.map((x) => x.cpu.loadGeneratorPct)),
        storeCpuPct: nullableSpread(r.map((x) => x.cpu.storePct)),
        mongoCpuPct: nullableSpread(r.map((x) => x.cpu.mongoPct)),
        repetitions: r,
      };
    }),
  );
}

async function oneRepetition(
  deps: ThroughputDeps,
  c: number,
  n: { warmup: number; measured: number },
  rep: number,
): Promise<Record<Method, RepResult>> {
  const db = `bench_tp_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const url = await deps.host.start(deps.mongoUrl, db);
  try {
    const client = new TaskStoreClient({ url, retries: 0, timeoutMs: 120_000 });
    await client.call('taskTypes.register', { workerId: 'bench', types: [BENCH_TYPE] });
    const total = n.warmup + n.measured;
    const ids: string[] = new Array<string>(total);
    const leases: string[] = new Array<string>(total);
    const calls: Record<Method, (i: number) => Promise<void>> = {
      'tasks.create': async (i) => {
        const r = await client.call('tasks.create', { type: BENCH_TYPE.type, payload: { i } });
        ids[i] = r.task.id;
      },
      'tasks.claim': async (i) => {
        const t = await client.call('tasks.claim', { id: ids[i]!, workerId: `bench-${c}`, leaseMs: 300_000 });
        leases[i] = t.leaseId!;
      },
      'tasks.complete': async (i) => {
        await client.call('tasks.complete', { id: ids[i]!, leaseId: leases[i]!, result: { ok: true } });
      },
    };
    const out = {} as Record<Method, RepResult>;
    for (const method of METHODS) {
      await runCalls(c, n.warmup, calls[method]);
      const meter = cpuMeter({ store: deps.host.pid, mongo: deps.mongoPid });
      const r: CallsResult = await runCalls(c, n.measured, (i) => calls[method](n.warmup + i));
      const cpu = meter();
      out[method] = {
        repetition: rep,
        callsPerSec: round((r.latenciesMs.length / r.wallMs) * 1000),
        p50Ms: round(percentile(r.latenciesMs, 50)),
        errors: r.errors,
        ...(r.firstError ? { firstError: r.firstError } : {}),
        cpu,
      };
      progress(
        deps.budget,
        `(a) rep ${rep} C=${c} ${method}: ${out[method].callsPerSec} calls/s, p50 ${out[method].p50Ms} ms, ` +
          `${r.errors} errors; CPU load generator ${cpu.loadGeneratorPct}%, store ${cpu.storePct ?? '?'}%, ` +
          `db server ${cpu.mongoPct ?? '?'}% (collection holds ${total} tasks)`,
      );
    }
    return out;
  } finally {
    await stopStoreAndDrop(deps, db);
  }
}
