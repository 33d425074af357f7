/**
 * (2) The same work through BullMQ (Koa → queue.add → Redis → Worker, lib/bullmq*.ts) in
 * the same invocation: at the brief's N (20,000; quick 1,000) and at the N ours just ran, with
 * the same clients, on the machine's Redis (no persistence); then again at ours' N on a private
 * Redis that persists (append-only file, fsync every second: lib/private-redis.ts). Ratios ours ÷
 * BullMQ at equal N and C, against each.
 */
import { runBullmq, type BullmqOutcome } from '../lib/bullmq.js';
import { summarise, type ScenarioResult, type ScenarioSpec } from '../lib/figures.js';
import { startPrivateRedis } from '../lib/private-redis.js';
import { e2eRow, ratios } from '../lib/e2e-summary.js';
import type { RunContext, Scenario, ScenarioOutput } from '../lib/scenario.js';

function specs(n: number): ScenarioSpec[] {
  return [
    { system: 'bullmq', path: 'single', concurrency: 16, n, batchSize: 1 },
    { system: 'bullmq', path: 'single', concurrency: 64, n, batchSize: 1 },
    { system: 'bullmq', path: 'batch', concurrency: 16, n, batchSize: 500 },
  ];
}

/** Share of the scenario's budget kept for the run on the persisting Redis. */
const PERSISTENT_SHARE = 0.35;

export const durability = (server: string) => ({
  ours:
    `Every accepted task and every state change is written to the MongoDB-wire server before it is acknowledged (here ${server}` +
    (server.endsWith('on PostgreSQL')
      ? ', with PostgreSQL fsync on and synchronous_commit on: a commit returns after its WAL is on disk); '
      : '); ') +
    'work messages are persistent, on durable quorum queues, published with publisher confirms, and acked only after ' +
    'the outcome is recorded. An accepted task survives a killed executor, a store restart and a broker restart.',
  bullmq:
    'Jobs live only in Redis memory: this Redis runs with --save "" and --appendonly no, i.e. it persists nothing; ' +
    'a Redis restart loses every queued, active and finished job. No disk write is waited for anywhere on its path.',
  bullmqPersistent:
    'A private Redis with --appendonly yes --appendfsync everysec --save "": every write goes to the append-only file, ' +
    'which is fsynced once a second, so a crash of Redis or of the machine loses at most about the last second of ' +
    'accepted jobs; nothing on the request path waits for the disk (Redis acknowledges before the fsync).',
});

export const e2eBullmq: Scenario = {
  name: 'e2e-bullmq',
  title: 'End to end, BullMQ baseline on Redis without persistence and on Redis with persistence',
  budgetSeconds: { full: 130, quick: 18 },
  async run(ctx: RunContext): Promise<ScenarioOutput> {
    // quick: 1,000 (the 2-minute run cannot give BullMQ more on a busy 2-core machine)
    const briefN = ctx.quick ? 1_000 : 20_000;
    const ours = ctx.previous('e2e-ours');
    const oursResults = ((ours?.details as ScenarioResult[] | undefined) ?? []).filter(
      (r) => r.spec.path !== 'open',
    );
    const oursN = oursResults[0]?.spec.n;
    const scenarios = [...specs(briefN), ...(oursN !== undefined && oursN !== briefN ? specs(oursN) : [])];
    ctx.log(
      `N = ${briefN.toLocaleString('en')}` +
        (oursN !== undefined
          ? ` and ${oursN} (what ours ran, ${ours!.date})`
          : '; no results of ours to compare with'),
    );
    let sizing: string | undefined;
    const persistentReserveMs = ctx.budget.totalMs * PERSISTENT_SHARE;
    const out = await runBullmq({
      redisUrl: ctx.redisUrl,
      concurrency: 100,
      scenarios,
      repetitions: 3,
      warmupN: ctx.quick ? 200 : 2_000,
      budget: ctx.budget,
      reserveMs: 2_000 + persistentReserveMs,
      maxRunMs: 60_000,
      cleanup: ctx.cleanup,
      sizeRuns: (results) => {
        // 3 rounds of the brief-N scenarios at their warm-up rates must fit (80 % of what is left)
        const brief = results.filter((r) => r.spec.n === briefN);
        const rest = results.filter((r) => r.spec.n !== briefN);
        const secondsPerTask = brief.reduce(
          (sum, r) => sum + 1 / Math.max(1, r.warmup.at(-1)?.completedPerSec ?? 100),
          0,
        );
        const restMs = rest.reduce((sum, r) => sum + (r.warmup.at(-1)?.cpu.wallMs ?? 500), 0);
        const availableMs =
          ctx.budget.remainingMs() - 2_000 - persistentReserveMs - 3 * (restMs + brief.length * 300);
        const fit = Math.floor(((availableMs / 3 / 1000 / secondsPerTask) * 0.8) / 1_000) * 1_000;
        const n = Math.max(1_000, Math.min(briefN, fit));
        if (n < briefN) {
          sizing = `N = ${n.toLocaleString('en')} instead of ${briefN.toLocaleString('en')}: at the warm-up rates (${brief.map((r) => r.warmup.at(-1)?.completedPerSec).join(' / ')} jobs/s) 3 runs of each at ${briefN.toLocaleString('en')} would not fit the ${Math.round(ctx.budget.totalMs / 1000)} s budget`;
          ctx.log(sizing);
          for (const r of brief) r.spec = { ...r.spec, n };
        }
      },
    });
    for (const r of out.results) r.summary = summarise(r.runs);
    const r = ratios(oursResults, out.results);
    // The same clients on a Redis that persists, at ours' N (what the ratios compare).
    const persistentN = oursN ?? out.results[0]?.spec.n ?? briefN;
    let persistent: BullmqOutcome | undefined;
    let persistentError: string | undefined;
    try {
      const redis = await startPrivateRedis();
      const unregister = ctx.cleanup.add(() => redis.stop());
      ctx.log(`persisting Redis at ${redis.url} (${redis.persistence}); N = ${persistentN}`);
      try {
        persistent = await runBullmq({
          redisUrl: redis.url,
          concurrency: 100,
          scenarios: specs(persistentN),
          repetitions: 3,
          warmupN: Math.min(ctx.quick ? 200 : 2_000, persistentN),
          budget: ctx.budget,
          reserveMs: 2_000,
          maxRunMs: 60_000,
          cleanup: ctx.cleanup,
        });
      } finally {
        unregister();
        await redis.stop();
      }
      for (const x of persistent.results) x.summary = summarise(x.runs);
    } catch (err) {
      persistentError = err instanceof Error ? err.message : String(err);
      ctx.log(`BullMQ on a persisting Redis not measured: ${persistentError}`);
    }
    const persistentResults = persistent?.results ?? [];
    return {
      settings: {
        n: [...new Set(out.results.map((r) => r.spec.n))],
        ...(sizing !== undefined && { sizing }),
        nReason:
          (sizing ??
            `N = ${briefN.toLocaleString('en')} per run${ctx.quick ? ' (quick; 20,000 in the full run, as the brief asks)' : ' as the brief asks'}`) +
          (oursN !== undefined ? `, and ours' N (${oursN}) so that the ratios compare equal work` : ''),
        workerConcurrency: 100,
        queue: out.queue,
        comparedWith: ours ? { file: 'e2e-ours.json', date: ours.date, mode: ours.mode } : null,
        persistentN,
      },
      summary: {
        rows: out.results.map(e2eRow),
        ratios: r,
        persistentRows: persistentResults.map(e2eRow),
        persistentRatios: ratios(oursResults, persistentResults),
        ...(persistentError !== undefined && { persistentError }),
        durability: durability(ctx.mongo.server),
        redis: out.redis,
        ...(persistent && { persistentRedis: persistent.redis }),
      },
      details: { noPersistence: out.results, persistence: persistentResults },
      notes: [
        `The machine's Redis ${out.redis.version} (port ${out.redis.port}) with save ${JSON.stringify(out.redis.save)} and appendonly ${out.redis.appendonly}` +
          (out.redis.appendonly === 'no' && out.redis.save === '' ? ': no persistence.' : '.'),
        persistent
          ? `A private Redis ${persistent.redis.version} (port ${persistent.redis.port}, started for this scenario and stopped after it) with appendonly ${persistent.redis.appendonly}, appendfsync ${persistent.redis.appendfsync}, save ${JSON.stringify(persistent.redis.save)}; the same server, worker and clients, at ours' N only.`
          : `No run on a persisting Redis: ${persistentError ?? 'not attempted'}.`,
        'Ratios are ours ÷ BullMQ at equal N, C and path (medians): below 1 for throughput means ours is slower; above 1 for p99 means ours is slower.',
        'BullMQ runs in the same invocation as ours, minutes apart, so both saw similar load from other work; see the load averages.',
      ],
    };
  },
};
