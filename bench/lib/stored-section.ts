/**
 * BENCHMARKS.md's targets table (issue 13) and the section of the e2e-stored scenario: the same
 * work with an empty store and with 30,000 stored, per-task costs of every process, and list,
 * get and stats latency at that size.
 */
import type { ReadRow } from './read-latency.js';
import type { SidePerTask } from '../scenarios/e2e-stored.js';
import type { ScenarioFile } from './scenario.js';
import { busyMark } from './busy.js';
import { fmt, shortError, table } from './markdown.js';
import { targetRows, TARGETS, type TargetInputs } from './target-verdicts.js';

interface Ratio {
  ours: string;
  completedPerSec: number;
}

interface ReadFigures {
  getP50Ms: number | null;
  statsP50Ms: number | null;
  slowestListP50Ms: number | null;
  slowestList: string | null;
  listFailed: string[];
  listNotMeasured: string[];
}

const summary = <T>(f: ScenarioFile | undefined, key: string): T | undefined =>
  f?.summary?.[key] as T | undefined;

function from(f: ScenarioFile, what: string): string {
  const mark = busyMark(f);
  return `${f.scenario}${f.mode === 'quick' ? ' (quick run)' : ''}, ${f.date.slice(0, 16).replace('T', ' ')}: ${what}${mark ? `; ${mark}` : ''}`;
}

/** The services' CPU per task for the target: the higher of the two sides' medians. */
function servicesCpu(empty?: SidePerTask, stored?: SidePerTask): number | null {
  const v = [empty?.cpuMsPerTask.services, stored?.cpuMsPerTask.services].filter(
    (x): x is number => typeof x === 'number',
  );
  return v.length > 0 ? Math.max(...v) : null;
}

function pathOf(label: string): string {
  return /POST (.+?), N=/.exec(label)?.[1] ?? label;
}

export function targetsSection(
  stored: ScenarioFile | undefined,
  raw: ScenarioFile | undefined,
  bull: ScenarioFile | undefined,
): string[] {
  const empty = summary<SidePerTask>(stored, 'empty');
  const full = summary<SidePerTask>(stored, 'stored');
  const reads = summary<ReadFigures>(stored, 'readFigures');
  const plain = summary<Ratio[]>(bull, 'ratios') ?? [];
  const persistent = summary<Ratio[]>(bull, 'persistentRatios') ?? [];
  const inputs: TargetInputs = {
    stored: summary<number>(stored, 'storedAtReads') ?? null,
    emptyPerSec: empty?.bestCompletedPerSec ?? null,
    storedPerSec: full?.bestCompletedPerSec ?? null,
    servicesCpuMsPerTask: servicesCpu(empty, full),
    ...reads,
    fractionOfRawLimit: summary<number | null>(raw, 'oursFractionOfLimit') ?? null,
    bullmq: plain.map((r) => ({
      path: pathOf(r.ours),
      plain: r.completedPerSec,
      persistent: persistent.find((p) => p.ours === r.ours)?.completedPerSec ?? null,
    })),
    source: {
      ...(stored && {
        throughput: from(stored, 'best of 3 runs each side'),
        cpu: from(stored, 'store + gateway + executor, the higher side median'),
        reads: from(stored, 'through the gateway, between the sides'),
      }),
      ...(raw && { raw: from(raw, "ours' highest completion rate ÷ the slowest stage") }),
      ...(bull && { bullmq: from(bull, 'completed/s, medians at equal N') }),
    },
  };
  const rows = targetRows(inputs);
  return [
    '**Targets** (issue 13; judged from the results files below, a missing figure is "not measured"). ' +
      `The outside check \`make bench-targets\` (bench/targets.ts) measures the first five rows against a running \`make start\`.`,
    '',
    table(
      ['target', 'measured', 'verdict', 'from'],
      rows.map((r) => [r.target, r.measured, r.verdict === 'fail' ? '**FAIL**' : r.verdict, r.source]),
      'llll',
    ),
    '',
  ];
}

function cpuCell(side: SidePerTask | undefined, role: string): string {
  return fmt(side?.cpuMsPerTask[role] ?? null, 2);
}

export function storedSection(f: ScenarioFile, rowsTable: string, commandLine: string): string[] {
  const empty = summary<SidePerTask>(f, 'empty');
  const full = summary<SidePerTask>(f, 'stored');
  const reads = summary<ReadRow[]>(f, 'reads') ?? [];
  const ratio = summary<number | null>(f, 'throughputRatio');
  const roles = ['store', 'gateway', 'executor', 'services', 'ferretdb', 'postgres', 'rabbitmq', 'system'];
  const names = ['store', 'gateway', 'executor', '**services**', 'FerretDB', 'PostgreSQL', 'RabbitMQ', 'all'];
  const sides: [string, SidePerTask | undefined][] = [
    ['empty store', empty],
    [`${fmt(summary<number>(f, 'storedAtReads') ?? null, 0)} stored`, full],
  ];
  return [
    '## 3. End to end with an empty store and with 30,000 stored',
    '',
    `${f.title}. \`noop\` tasks in batches of 500 (C = 16), 3 runs each side on one system; 30,000 finished tasks ` +
      `written into the store's database in between (${(f.settings?.history as string | undefined) ?? ''}). ` +
      `Best completed/s with history ÷ without: **${fmt(ratio ?? null, 3)}** (target ≥ ${TARGETS.storedThroughputRatio}).`,
    '',
    rowsTable,
    '',
    'Per task, medians of each side\'s runs: CPU ms by process ("services" = store + gateway + executor; "all" = every process of the system, without the load generator), database operations and store JSON-RPC calls',
    '',
    table(
      [
        'side',
        'tasks stored before each run',
        'best completed/s',
        ...names.map((n) => `CPU ${n}`),
        'database operations',
        'JSON-RPC calls',
        'HTTP requests to the store',
      ],
      sides.map(([name, side]) => [
        name,
        side?.storedBefore.map((n) => fmt(n, 0)).join(', ') ?? '–',
        fmt(side?.bestCompletedPerSec ?? null, 1),
        ...roles.map((r) => cpuCell(side, r)),
        `${fmt(side?.dbOpsPerTask ?? null, 2)}${side?.dbOpsSource ? ` (${side.dbOpsSource})` : ''}`,
        fmt(side?.rpcCallsPerTask ?? null, 2),
        fmt(side?.rpcHttpRequestsPerTask ?? null, 2),
      ]),
      'lrrrrrrrrrrrrr',
    ),
    '',
    `Reads through the gateway with ${fmt(summary<number>(f, 'storedAtReads') ?? null, 0)} tasks stored, nothing else running; limit 50 per page, page 5 reached through nextCursor`,
    '',
    readsTable(reads),
    '',
    commandLine,
    '',
    ...(f.notes ?? []).map((n) => `- ${n}`),
    '',
  ];
}

/** The reads through the gateway (e2e/read-latency.ts), one row per read shape. */
export function readsTable(reads: ReadRow[]): string {
  return table(
    ['read', 'samples', 'p50 ms', 'max ms', 'failed', 'note'],
    reads.map((r) => [
      r.what,
      String(r.samples),
      fmt(r.p50Ms, 1),
      fmt(r.maxMs, 1),
      String(r.failures),
      shortError(r.firstError),
    ]),
    'lrrrrl',
  );
}
