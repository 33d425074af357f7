/**
 * (4) REST latency at fixed request rates: autocannon with a rate (-R, overallRate) against
 * GET /v1/tasks/:id and POST /v1/tasks of the running system; p50/p99 per rate. With a rate
 * set, autocannon corrects its latencies for coordinated omission (requests it could not send
 * on time count as late, not as missing).
 */
import autocannon from 'autocannon';
import { spread, round, type Spread } from '../lib/measure.js';
import { omit } from '../lib/omit.js';
import { systemFor } from '../lib/system.js';
import type { RunContext, Scenario, ScenarioOutput } from '../lib/scenario.js';

const CONNECTIONS = 16;

interface RateRun {
  rate: number;
  achievedPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  seconds: number;
  loadGeneratorCpuPct: number;
}

interface RateResult {
  route: string;
  rate: number;
  runs: RateRun[];
  p50Ms: Spread | null;
  p99Ms: Spread | null;
  achievedPerSec: Spread | null;
  note?: string;
}

export const restLatency: Scenario = {
  name: 'rest-latency',
  title: 'REST latency at fixed request rates (autocannon -R)',
  budgetSeconds: { full: 40, quick: 12 },
  async run(ctx: RunContext): Promise<ScenarioOutput> {
    const { system, startSeconds, stop } = await systemFor(ctx, {
      executors: 1,
      executorEnv: { LEASE_MS: '30000' },
    });
    try {
      const res = await fetch(`${system.gatewayUrl}/v1/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'noop', payload: {} }),
      });
      const { id } = (await res.json()) as { id: string };
      const configs = [
        ...(ctx.quick ? [100] : [50, 200]).map((rate) => ({
          route: 'GET /v1/tasks/:id',
          rate,
          opts: { url: `${system.gatewayUrl}/v1/tasks/${id}`, method: 'GET' as const },
        })),
        ...(ctx.quick ? [10] : [10, 25]).map((rate) => ({
          route: 'POST /v1/tasks',
          rate,
          opts: {
            url: `${system.gatewayUrl}/v1/tasks`,
            method: 'POST' as const,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'noop', payload: {} }),
          },
        })),
      ];
      // autocannon runs whole seconds: a warm-up and 3 runs per rate, and ~1.5 s to stop the system
      const runMs = Math.max(1_000, Math.min(5_000, (ctx.budget.remainingMs() - 1_500) / configs.length / 4));
      ctx.log(`${configs.length} rates, ${Math.round(runMs)} ms per run, ${CONNECTIONS} connections`);
      const results: RateResult[] = [];
      for (const c of configs) {
        const r: RateResult = {
          route: c.route,
          rate: c.rate,
          runs: [],
          p50Ms: null,
          p99Ms: null,
          achievedPerSec: null,
        };
        results.push(r);
        const once = async (ms: number) => {
          const cpu0 = process.cpuUsage();
          const out = await autocannon({
            ...c.opts,
            connections: CONNECTIONS,
            overallRate: c.rate,
            duration: ms / 1000,
          });
          const cpu = process.cpuUsage(cpu0);
          return {
            rate: c.rate,
            achievedPerSec: round(out['2xx'] / out.duration),
            p50Ms: out.latency.p50,
            p90Ms: out.latency.p90,
            p99Ms: out.latency.p99,
            maxMs: out.latency.max,
            non2xx: out.non2xx,
            errors: out.errors,
            seconds: out.duration,
            loadGeneratorCpuPct: round(((cpu.user + cpu.system) / 1000 / (out.duration * 1000)) * 100),
          };
        };
        if (ctx.budget.remainingMs() < runMs + 1_000 + 1_500) {
          r.note = 'not run: the time budget was spent';
          continue;
        }
        await once(1_000);
        for (let rep = 1; rep <= 3; rep++) {
          if (rep > 1 && ctx.budget.remainingMs() < runMs * 1.1 + 1_500) {
            r.note = `${r.runs.length} of 3 runs: the time budget was spent`;
            break;
          }
          const run = await once(runMs);
          r.runs.push(run);
          ctx.log(
            `${c.route} at ${c.rate}/s run ${rep}: ${run.achievedPerSec}/s answered 2xx, p50/p99 ${run.p50Ms}/${run.p99Ms} ms` +
              (run.non2xx || run.errors ? `, ${run.non2xx} non-2xx, ${run.errors} errors` : ''),
          );
        }
        if (r.runs.length > 0) {
          r.p50Ms = spread(r.runs.map((x) => x.p50Ms));
          r.p99Ms = spread(r.runs.map((x) => x.p99Ms));
          r.achievedPerSec = spread(r.runs.map((x) => x.achievedPerSec));
        }
      }
      return {
        settings: {
          connections: CONNECTIONS,
          runMs: Math.round(runMs),
          systemStartSeconds: startSeconds,
          executors: 1,
        },
        summary: {
          rows: results.map((r) => omit(r, 'runs')),
        },
        details: results,
        notes: [
          `Through the gateway of a freshly started system on ${ctx.mongo.server}; GET reads one task (store tasks.get → findOne by _id); POST creates a noop task (store tasks.create, publish with confirm) that the executor then runs.`,
          'autocannon sends at most the given rate over 16 keep-alive connections and corrects latencies for coordinated omission; "achieved" is the rate of 2xx answers.',
          'POST runs add tasks to the collection, so later runs meet a larger collection (FerretDB scans it).',
        ],
      };
    } finally {
      await stop();
    }
  },
};
