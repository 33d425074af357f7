/**
 * (3) Raw stage limits: what each piece of the pipeline does alone on this machine — RabbitMQ
 * (publish with confirms + consume with ack), the MongoDB-wire server through the driver (one
 * insert and two conditional updates per task), a bare Koa route, a jayson echo call. The lowest
 * is the physical limit of one task per operation; ours' measured maximum is set against it.
 */
import { spread, round, type Spread } from '../lib/measure.js';
import { amqpStage } from './raw/amqp-stage.js';
import { jaysonStage, koaStage } from './raw/http-stages.js';
import { mongoStage } from './raw/mongo-stage.js';
import type { StageRun } from './raw/stage.js';
import { omit } from '../lib/omit.js';
import type { RunContext, Scenario, ScenarioOutput } from '../lib/scenario.js';

/** One raw stage's figures as written to raw-limits.json (the renderer reads the same shape). */
export interface StageResult {
  name: string;
  op: string;
  runs: StageRun[];
  warmup: StageRun | null;
  perSec: Spread | null;
  p50Ms: Spread | null;
  p99Ms: Spread | null;
  loadGeneratorCpuPct: Spread | null;
  serverCpuPct: Spread | null;
  note?: string;
}

const spreadOf = (v: (number | null | undefined)[]) => {
  const x = v.filter((n): n is number => typeof n === 'number' && Number.isFinite(n));
  return x.length > 0 ? spread(x) : null;
};

export const rawLimits: Scenario = {
  name: 'raw-limits',
  title: 'Raw stage limits: RabbitMQ, MongoDB-wire server, Koa, jayson — each alone',
  budgetSeconds: { full: 50, quick: 14 },
  async run(ctx: RunContext): Promise<ScenarioOutput> {
    const { budget } = ctx;
    const stages = [
      amqpStage(ctx.amqpUrl),
      mongoStage(ctx.mongo, ctx.mongo.ferretPid === undefined ? [] : [ctx.mongo.ferretPid]),
      koaStage(),
      jaysonStage(),
    ];
    // 4 stages × (warm-up + 3 runs + drain/setup ≈ 3.6 runs), after ~2.5 s of set-up per stage
    const runMs = Math.max(800, Math.min(5_000, (budget.totalMs - 4 * 2_000) / (4 * 3.6)));
    const warmupMs = Math.max(400, runMs / 3);
    ctx.log(`${Math.round(runMs)} ms per run, ${Math.round(warmupMs)} ms warm-up`);
    const results: StageResult[] = [];
    for (const [i, stage] of stages.entries()) {
      const r: StageResult = {
        name: stage.name,
        op: stage.op,
        runs: [],
        warmup: null,
        perSec: null,
        p50Ms: null,
        p99Ms: null,
        loadGeneratorCpuPct: null,
        serverCpuPct: null,
      };
      results.push(r);
      // keep enough for one run of every stage still to come
      const keepMs = (stages.length - i - 1) * (runMs + 2_000);
      if (budget.remainingMs() - keepMs < runMs * 2) {
        r.note = 'not run: the time budget was spent';
        ctx.log(`${stage.name}: ${r.note}`);
        continue;
      }
      const session = await stage.setup();
      const unregister = ctx.cleanup.add(() => session.teardown());
      try {
        r.warmup = await session.run(warmupMs);
        for (let rep = 1; rep <= 3; rep++) {
          if (rep > 1 && budget.remainingMs() - keepMs < runMs * 1.5) {
            r.note = `${r.runs.length} of 3 runs: the time budget was spent`;
            break;
          }
          const run = await session.run(runMs);
          r.runs.push(run);
          ctx.log(
            `${stage.name} run ${rep}: ${run.perSec}/s (${run.ops} in ${run.seconds} s)` +
              (run.latencyMs ? `, p50/p99 ${run.latencyMs.p50}/${run.latencyMs.p99} ms` : '') +
              `; CPU load gen ${run.cpu.loadGeneratorPct} %, server ${run.cpu.serverPct ?? '?'} %`,
          );
        }
      } finally {
        unregister();
        await session.teardown();
      }
      r.perSec = spreadOf(r.runs.map((x) => x.perSec));
      r.p50Ms = spreadOf(r.runs.map((x) => x.latencyMs?.p50));
      r.p99Ms = spreadOf(r.runs.map((x) => x.latencyMs?.p99));
      r.loadGeneratorCpuPct = spreadOf(r.runs.map((x) => x.cpu.loadGeneratorPct));
      r.serverCpuPct = spreadOf(r.runs.map((x) => x.cpu.serverPct));
    }
    const measured = results.filter((r) => r.perSec);
    const limit = measured.reduce<StageResult | undefined>(
      (low, r) => (low === undefined || r.perSec!.median < low.perSec!.median ? r : low),
      undefined,
    );
    const ours = ctx.previous('e2e-ours');
    const oursMax = (ours?.summary?.maxCompletedPerSec as number | null | undefined) ?? null;
    const calls = ours?.summary?.storeCallsPerTask as Record<string, { callsPerTask: number }> | undefined;
    const callSum = calls ? Object.values(calls).reduce((a, c) => a + c.callsPerTask, 0) : 0;
    const jayson = results.find((r) => r.name.startsWith('jayson'))?.perSec;
    const storeCallsPerTask = callSum > 0 ? round(callSum, 2) : null;
    return {
      settings: { runMs: Math.round(runMs), warmupMs: Math.round(warmupMs), concurrency: 16 },
      summary: {
        stages: results.map((r) => omit(r, 'runs', 'warmup')),
        physicalLimit: limit ? { stage: limit.name, perSec: limit.perSec!.median } : null,
        oursMaxCompletedPerSec: oursMax,
        oursFromRun: ours ? { date: ours.date, mode: ours.mode } : null,
        oursFractionOfLimit: limit && oursMax !== null ? round(oursMax / limit.perSec!.median, 4) : null,
        storeCallsPerTask,
        perTaskNote:
          storeCallsPerTask !== null
            ? `Ours makes about ${storeCallsPerTask} store JSON-RPC calls per task on the single path, so the jayson hop alone would allow about ${jayson ? round(jayson.median / storeCallsPerTask) : '?'} tasks/s.`
            : null,
      },
      details: results,
      notes: [
        'Each stage runs alone (nothing else of ours running), for a fixed time, after a warm-up; median and (min–max) of 3 runs.',
        "The physical limit is the lowest stage in operations per second, one operation being one task's share of that stage: one message, one task's three writes, one HTTP request, one JSON-RPC call. Ours makes several store calls and writes per task (see storeCallsPerTask), so its real ceiling is lower still.",
        `The MongoDB stage runs on the same server as ours (${ctx.mongo.server}); "server CPU" there is the FerretDB process only${ctx.pg ? ' (PostgreSQL backends not counted)' : ''}. For RabbitMQ it is the broker's beam.smp (a shared server).`,
        'Clients run in this process (the load generator): amqplib, the mongodb driver, autocannon and the jayson client; their CPU is the load generator column.',
      ],
    };
  },
};
