/** The results file's shape and the Markdown tables printed at the end (pasted into bench/E2E.md). */
import { round, spread, type Spread } from '../store/measure.js';
import type { Machine } from '../store/report.js';
import type { ScenarioResult } from './figures.js';
import type { PgSnapshot } from './pg-stats.js';

export interface Ratio {
  ours: string;
  bullmq: string;
  /** ours / BullMQ, medians. Below 1: ours is slower (throughput) or faster (p99). */
  completedPerSec: number;
  submittedPerSec: number;
  p99: number;
}

export interface E2eResults {
  benchmark: 'e2e';
  command: string;
  mode: 'quick' | 'full';
  date: string;
  durationSeconds: number;
  budgetSeconds: number;
  versions: Record<string, string>;
  machine: Machine;
  machineLoad: { loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  settings: unknown;
  durability: { ours: string; bullmq: string };
  ours: { executors: number; startSeconds: number | null; scenarios: ScenarioResult[]; skipped?: string }[];
  bullmq: { queue: string; scenarios: ScenarioResult[] };
  ratios: Ratio[];
  /** Store JSON-RPC calls per task and their mean latency, over every measured run of ours. */
  storeCallsPerTask: Record<string, { callsPerTask: number; meanMs: number; errors: number }>;
  /** Gateway request time by route over the same runs (weighted mean). */
  gatewayRoutes: Record<string, { count: number; meanMs: number }>;
  /** PostgreSQL work per task over the same runs (median of the runs), when it is FerretDB's backend. */
  postgresPerTask?: PgSnapshot;
  loadGenerator: { cpuUserMs: number; cpuSystemMs: number; wallMs: number; cpuPctOfOneCore: number };
  notes: string[];
}

export function ratios(ours: ScenarioResult[], bullmq: ScenarioResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const o of ours) {
    const b = bullmq.find(
      (x) =>
        x.spec.path === o.spec.path && x.spec.concurrency === o.spec.concurrency && x.spec.n === o.spec.n,
    );
    if (!o.summary || !b?.summary) continue;
    out.push({
      ours: o.label,
      bullmq: b.label,
      completedPerSec: round(o.summary.completedPerSec.median / b.summary.completedPerSec.median, 4),
      submittedPerSec: round(o.summary.submittedPerSec.median / b.summary.submittedPerSec.median, 4),
      p99: round(o.summary.p99Ms.median / b.summary.p99Ms.median, 1),
    });
  }
  return out;
}

export function storeCallsPerTask(scenarios: ScenarioResult[]): E2eResults['storeCallsPerTask'] {
  const sums = new Map<string, { calls: number; totalMs: number; errors: number }>();
  let tasks = 0;
  for (const r of scenarios.flatMap((s) => s.runs)) {
    tasks += r.accepted;
    for (const [method, m] of Object.entries(r.storeRpc ?? {})) {
      const s = sums.get(method) ?? { calls: 0, totalMs: 0, errors: 0 };
      s.calls += m.calls;
      s.totalMs += m.calls * m.meanMs;
      s.errors += m.errors;
      sums.set(method, s);
    }
  }
  return Object.fromEntries(
    [...sums]
      .sort((a, b) => b[1].totalMs - a[1].totalMs)
      .map(([method, s]) => [
        method,
        {
          callsPerTask: round(s.calls / Math.max(1, tasks), 2),
          meanMs: round(s.totalMs / s.calls),
          errors: s.errors,
        },
      ]),
  );
}

export function gatewayRoutes(scenarios: ScenarioResult[]): E2eResults['gatewayRoutes'] {
  const sums = new Map<string, { count: number; totalMs: number }>();
  for (const r of scenarios.flatMap((x) => x.runs)) {
    for (const [route, m] of Object.entries(r.gatewayRoutes ?? {})) {
      const s = sums.get(route) ?? { count: 0, totalMs: 0 };
      s.count += m.count;
      s.totalMs += m.count * m.meanMs;
      sums.set(route, s);
    }
  }
  return Object.fromEntries(
    [...sums].map(([route, s]) => [route, { count: s.count, meanMs: round(s.totalMs / s.count) }]),
  );
}

export function postgresPerTask(scenarios: ScenarioResult[]): E2eResults['postgresPerTask'] {
  const runs = scenarios
    .flatMap((x) => x.runs)
    .flatMap((r) => (r.postgresPerTask ? [r.postgresPerTask] : []));
  if (runs.length === 0) return undefined;
  const med = (k: keyof NonNullable<E2eResults['postgresPerTask']>) =>
    round(spread(runs.map((r) => r[k])).median);
  return {
    commits: med('commits'),
    seqRowsRead: med('seqRowsRead'),
    indexRowsFetched: med('indexRowsFetched'),
    walRecords: med('walRecords'),
    walBytes: med('walBytes'),
    walSyncs: med('walSyncs'),
  };
}

const fmt = (n: number, d = 1) => round(n, d).toLocaleString('en', { maximumFractionDigits: d });
const range = (s: Spread, d = 1) => `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`;
const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${Math.round(v)}%`);

function scenarioTable(scenarios: ScenarioResult[], roles: string[], roleNames: string[]): string[] {
  const lines = [
    `| scenario | runs | submitted/s | completed/s | first submit → all done, s | p50 ms | p95 ms | p99 ms | CPU load gen | ${roleNames.join(' | ')} | CPU other processes | load avg 1m | system CPU ms per task |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|${roles.map(() => '---:').join('|')}|---:|---:|---:|`,
  ];
  for (const s of scenarios) {
    const m = s.summary;
    if (!m) {
      lines.push(`| ${s.label} | 0 | ${s.note ?? 'not run'} |`);
      continue;
    }
    const planned = s.runs.length < 3 ? ` of 3` : '';
    lines.push(
      `| ${s.label} | ${m.runs}${planned} | ${range(m.submittedPerSec)} | ${range(m.completedPerSec)} | ${range(m.makespanSeconds, 2)} | ` +
        `${range(m.p50Ms, 0)} | ${range(m.p95Ms, 0)} | ${range(m.p99Ms, 0)} | ${pct(m.cpuPct.loadGenerator)} | ` +
        `${roles.map((r) => pct(m.cpuPct[r])).join(' | ')} | ${pct(m.otherProcessesCpuPct)} | ${m.loadAverage1m.mean} (max ${m.loadAverage1m.max}) | ${m.cpuMsPerTask.system ?? 'n/a'} |`,
    );
  }
  return lines;
}

export function markdownTables(r: E2eResults): string {
  const lines: string[] = [];
  lines.push(
    `Command: \`${r.command}\` — ${r.date}, ${r.durationSeconds} s. Node ${r.versions.node}; ours on ` +
      `**${r.versions.mongoServer}** (the MongoDB-wire server; not a real mongod), ${r.versions.rabbitmq}; ` +
      `BullMQ ${r.versions.bullmq} (ioredis ${r.versions.ioredis}, Koa ${r.versions.koa}) on Redis ${r.versions.redis} ` +
      `(save "${r.versions.redisSave}", appendonly ${r.versions.redisAppendonly}). ` +
      `${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, ${r.machine.os}. ` +
      `1-min load average at start ${r.machineLoad.loadAverageAtStart[0]}, at end ${r.machineLoad.loadAverageAtEnd[0]}.`,
  );
  lines.push('');
  lines.push(
    `Ours (${r.versions.mongoServer}), median (min–max) of the measured runs; CPU in % of one core (2 cores = 200 %)`,
  );
  lines.push('');
  const oursScenarios = r.ours.flatMap((s) => s.scenarios);
  const withPg = r.versions.postgres !== undefined;
  lines.push(
    ...scenarioTable(
      oursScenarios,
      ['store', 'gateway', 'executor', 'ferretdb', ...(withPg ? ['postgres'] : []), 'rabbitmq'],
      [
        'CPU store',
        'CPU gateway',
        'CPU executor(s)',
        'CPU FerretDB',
        ...(withPg ? ['CPU PostgreSQL'] : []),
        'CPU RabbitMQ',
      ],
    ),
  );
  lines.push('');
  lines.push('Ours: CPU time per task in ms by process (median of the runs)');
  lines.push('');
  const perTaskRoles = [
    'store',
    'gateway',
    'executor',
    'ferretdb',
    ...(withPg ? ['postgres'] : []),
    'rabbitmq',
  ];
  lines.push(`| scenario | ${perTaskRoles.join(' | ')} | all of these | load generator |`);
  lines.push(`|---|${perTaskRoles.map(() => '---:').join('|')}|---:|---:|`);
  for (const s of oursScenarios) {
    const c = s.summary?.cpuMsPerTask;
    if (!c) continue;
    lines.push(
      `| ${s.label} | ${perTaskRoles.map((k) => c[k] ?? 'n/a').join(' | ')} | ${c.system ?? 'n/a'} | ${c.loadGenerator ?? 'n/a'} |`,
    );
  }
  for (const s of r.ours) if (s.skipped) lines.push('', `${s.executors} executor(s): ${s.skipped}`);
  for (const s of oursScenarios) if (s.note) lines.push('', `${s.label}: ${s.note}`);
  lines.push('');
  lines.push('BullMQ (Redis without persistence), median (min–max) of the measured runs');
  lines.push('');
  lines.push(
    ...scenarioTable(
      r.bullmq.scenarios,
      ['bullmqServer', 'bullmqWorker', 'redis'],
      ['CPU Koa server', 'CPU worker', 'CPU Redis'],
    ),
  );
  for (const s of r.bullmq.scenarios) if (s.note) lines.push('', `${s.label}: ${s.note}`);
  lines.push('');
  lines.push(`Ours / BullMQ at the same N and C (medians; ours on ${r.versions.mongoServer})`);
  lines.push('');
  lines.push('| ours | completed/s ratio | submitted/s ratio | p99 ratio (ours ÷ BullMQ) |');
  lines.push('|---|---:|---:|---:|');
  for (const x of r.ratios) {
    lines.push(`| ${x.ours} | ${x.completedPerSec} | ${x.submittedPerSec} | ${x.p99}× |`);
  }
  lines.push('');
  lines.push(`Store JSON-RPC calls per task over every measured run of ours (${r.versions.mongoServer})`);
  lines.push('');
  lines.push('| method | calls per task | mean latency ms | errors |');
  lines.push('|---|---:|---:|---:|');
  for (const [method, m] of Object.entries(r.storeCallsPerTask)) {
    lines.push(`| ${method} | ${m.callsPerTask} | ${fmt(m.meanMs)} | ${m.errors} |`);
  }
  lines.push('');
  const routes = Object.entries(r.gatewayRoutes)
    .filter(([route]) => route.startsWith('/v1/tasks'))
    .map(([route, m]) => `${route} ${fmt(m.meanMs)} ms (n=${m.count})`);
  lines.push(`Gateway time per submit request, mean over the same runs: POST ${routes.join(', POST ')}.`);
  if (r.postgresPerTask) {
    lines.push('');
    lines.push(
      'PostgreSQL work per task, by run (approximate: PostgreSQL flushes its counters about once a second; ' +
        'WAL counters are server-wide, other users included)',
    );
    lines.push('');
    lines.push(
      '| scenario | run | tasks stored before | transactions | rows read by sequential scans | rows fetched via indexes | WAL flushes | PostgreSQL CPU ms |',
    );
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of oursScenarios) {
      for (const run of s.runs) {
        const p = run.postgresPerTask;
        if (!p) continue;
        lines.push(
          `| ${s.label} | ${run.rep} | ${(run.storedBefore ?? 0).toLocaleString('en')} | ${p.commits} | ${fmt(p.seqRowsRead ?? NaN, 0)} | ` +
            `${fmt(p.indexRowsFetched ?? NaN, 0)} | ${p.walSyncs} | ${run.cpuMsPerTask.postgres ?? 'n/a'} |`,
        );
      }
    }
  }
  lines.push('');
  lines.push(
    `Load generator CPU over the whole run: ${r.loadGenerator.cpuPctOfOneCore}% of one core ` +
      `(${fmt(r.loadGenerator.cpuUserMs / 1000)} s user + ${fmt(r.loadGenerator.cpuSystemMs / 1000)} s system in ${fmt(r.loadGenerator.wallMs / 1000)} s).`,
  );
  return lines.join('\n');
}
