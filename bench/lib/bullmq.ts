/**
 * BullMQ under the same closed-loop load: the Koa submit service (bullmq-server.ts) and a Worker
 * (bullmq-worker.ts) as child processes against the local Redis, one queue of our own
 * (`bench-e2e-<uuid>`), obliterated at the end. A run is done when the queue counts every
 * accepted job as completed or failed; the figures are read back from the jobs
 * (job.timestamp → job.finishedOn), then the queue is cleaned for the next run.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { progress, type Budget } from './measure.js';
import { startHelper } from './child.js';
import type { Cleanup } from './cleanup.js';
import { runFigures, scenarioLabel, type ScenarioResult, type ScenarioSpec, type Timing } from './figures.js';
import { batchSizes, closedLoop, type LoadResult } from './http-load.js';
import { cpuMeter } from './processes.js';

export interface BullmqOptions {
  redisUrl: string;
  /** Worker concurrency (our executor's io prefetch). */
  concurrency: number;
  scenarios: ScenarioSpec[];
  repetitions: number;
  warmupN: number;
  budget: Budget;
  reserveMs: number;
  maxRunMs: number;
  cleanup: Cleanup;
  /** Called once after the warm-ups; may change the scenarios' specs (e.g. N to fit the budget). */
  sizeRuns?: (results: ScenarioResult[]) => void;
}

export interface RedisFacts {
  version: string;
  save: string;
  appendonly: string;
  appendfsync: string;
  port: number;
}

export interface BullmqOutcome {
  results: ScenarioResult[];
  queue: string;
  redis: RedisFacts;
}

/** Child processes start within this; a stopping one is killed after 15 s. */
const HELPER = { timeoutMs: 60_000, killAfterMs: 15_000 };

export async function runBullmq(o: BullmqOptions): Promise<BullmqOutcome> {
  const queueName = `bench-e2e-${randomUUID()}`;
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  const starting = Promise.allSettled([
    startHelper<{ port: number }>(
      new URL('./bullmq-server.ts', import.meta.url),
      [queueName, o.redisUrl],
      HELPER,
    ),
    startHelper(
      new URL('./bullmq-worker.ts', import.meta.url),
      [queueName, o.redisUrl, String(o.concurrency)],
      HELPER,
    ),
  ]);
  const results: ScenarioResult[] = o.scenarios.map((spec) => ({
    spec,
    label: scenarioLabel(spec),
    warmup: [],
    runs: [],
  }));
  const stopAll = async () => {
    const [server, worker] = await starting;
    if (worker.status === 'fulfilled') await worker.value.stop();
    if (server.status === 'fulfilled') await server.value.stop();
    await queue.obliterate({ force: true }).catch((err: unknown) => {
      progress(o.budget, `BullMQ: obliterate failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    await queue.close();
    await connection.quit();
    progress(o.budget, `BullMQ: worker and server stopped, queue ${queueName} obliterated`);
  };
  const unregister = o.cleanup.add(stopAll);
  try {
    const info = await connection.info('server');
    const redis: RedisFacts = {
      version: /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
      save: (await connection.config('GET', 'save'))[1] ?? '?',
      appendonly: (await connection.config('GET', 'appendonly'))[1] ?? '?',
      appendfsync: (await connection.config('GET', 'appendfsync'))[1] ?? '?',
      port: Number(/tcp_port:(\d+)/.exec(info)?.[1]),
    };
    // This Redis's own process (the shared one and a private one may both run): its pid says so.
    const redisPid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    const [started, ready] = await starting;
    if (started.status === 'rejected') throw started.reason;
    if (ready.status === 'rejected') throw ready.reason;
    const server = started.value.child;
    const worker = ready.value.child;
    const { port } = started.value.ready;
    progress(
      o.budget,
      `BullMQ: queue ${queueName}, server on port ${port}, worker concurrency ${o.concurrency}`,
    );
    const roles = {
      bullmqServer: [server.pid!],
      bullmqWorker: [worker.pid!],
      redis: Number.isInteger(redisPid) && redisPid > 0 ? [redisPid] : [],
    };
    const endBy = o.budget.startedAt + o.budget.totalMs - o.reserveMs;
    const once = async (r: ScenarioResult, rep: number) => {
      const warmup = rep === 0;
      const spec = warmup ? { ...r.spec, n: Math.min(o.warmupN, r.spec.n) } : r.spec;
      const last = r.runs.at(-1) ?? r.warmup.at(-1);
      const estimate = last ? (last.cpu.wallMs / Math.max(1, last.accepted)) * spec.n * 1.2 : 0;
      if (Date.now() + estimate > endBy) {
        r.note = `${r.runs.length} of ${o.repetitions} runs measured: the time budget did not allow more (a run takes about ${Math.round(estimate / 1000)} s)`;
        return;
      }
      const meter = await cpuMeter(roles);
      const load = await submit(port, spec);
      const ended = await waitCounts(queue, load.ids.length, Math.min(Date.now() + o.maxRunMs, endBy));
      const cpu = await meter();
      const timings = await readBack(queue, load);
      const figures = runFigures({ rep, warmup, spec, load, timings, cpu, timedOut: !ended });
      (warmup ? r.warmup : r.runs).push(figures);
      await queue.clean(0, 0, 'completed');
      await queue.clean(0, 0, 'failed');
      progress(
        o.budget,
        `${r.label} ${warmup ? 'warm-up' : `run ${rep}`}: ${figures.accepted} accepted, ${figures.succeeded} completed, ` +
          `${figures.failed} failed; ${figures.submittedPerSec} submitted/s, ${figures.completedPerSec} done/s, ` +
          `p50/p99 ${figures.latencyMs?.p50}/${figures.latencyMs?.p99} ms` +
          (figures.firstError ? `; first error: ${figures.firstError}` : ''),
      );
    };
    for (const r of results) await once(r, 0);
    o.sizeRuns?.(results);
    for (const r of results) r.label = scenarioLabel(r.spec);
    for (let rep = 1; rep <= o.repetitions; rep++) for (const r of results) await once(r, rep);
    return { results, queue: queueName, redis };
  } finally {
    unregister();
    await stopAll();
  }
}

function submit(port: number, spec: ScenarioSpec): Promise<LoadResult> {
  const job = { name: 'noop', data: {} };
  if (spec.path === 'single') {
    return closedLoop({
      url: `http://127.0.0.1:${port}/jobs`,
      concurrency: spec.concurrency,
      requests: spec.n,
      body: () => job,
      ids: (json) => [String((json as { id: string }).id)],
    });
  }
  const sizes = batchSizes(spec.n, spec.batchSize);
  return closedLoop({
    url: `http://127.0.0.1:${port}/jobs/batch`,
    concurrency: spec.concurrency,
    requests: sizes.length,
    body: (i) => ({ jobs: Array.from({ length: sizes[i]! }, () => job) }),
    ids: (json) => (json as { items: { id: string }[] }).items.map((j) => String(j.id)),
  });
}

/** Polls the queue's counts (two ZCARDs, cheap) until `n` jobs have ended, or the deadline. */
async function waitCounts(queue: Queue, n: number, deadline: number): Promise<boolean> {
  for (;;) {
    const c = await queue.getJobCounts('completed', 'failed');
    if ((c.completed ?? 0) + (c.failed ?? 0) >= n) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The run's jobs (the queue was cleaned before it), 1,000 per page. */
async function readBack(queue: Queue, load: LoadResult): Promise<Timing[]> {
  const byId = new Map<string, Timing>();
  for (const type of ['completed', 'failed'] as const) {
    for (let start = 0; ; start += 1000) {
      const jobs = await queue.getJobs([type], start, start + 999, true);
      for (const j of jobs) {
        if (!j?.id) continue;
        byId.set(j.id, {
          id: j.id,
          status: type,
          createdMs: j.timestamp,
          finishedMs: j.finishedOn ?? null,
        });
      }
      if (jobs.length < 1000) break;
    }
  }
  return load.ids.map((id) => byId.get(id) ?? { id, status: 'missing', createdMs: NaN, finishedMs: null });
}
