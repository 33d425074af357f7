/**
 * Regenerates BENCHMARKS.md (repository root) and bench/results/chart.svg from
 * bench/results/<scenario>.json and bench/results/optimisation.json. bench/run.ts calls it at
 * the end; on its own:
 *
 *   npx tsx --conditions=source bench/render-benchmarks.ts [--allow-busy]
 *
 * A headline scenario (HEADLINE) from a busy machine (lib/busy.ts) stops the rendering unless
 * busy runs are allowed; every figure from a busy run is marked "busy machine" either way.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StageResult } from './scenarios/raw-limits.js';
import type { ScenarioFile } from './lib/scenario.js';
import type { E2eRow, Ratio } from './lib/e2e-summary.js';
import { busyMark, busyOf, BusyRunError } from './lib/busy.js';
import { barChart, type Bar } from './lib/chart.js';
import { fmt, portableCommand, spreadText, table } from './lib/markdown.js';
import { optimisationSection } from './lib/optimisation-section.js';
import { storedSection, targetsSection } from './lib/stored-section.js';
import type { Spread } from './lib/measure.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const BENCHMARKS_MD = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const TRACING_COST = fileURLToPath(new URL('./results/tracing-cost.md', import.meta.url));
const CHART = `${RESULTS}chart.svg`;
const NAMES = [
  'e2e-ours',
  'e2e-bullmq',
  'e2e-stored',
  'raw-limits',
  'rest-latency',
  'cpu-pool',
  'list-scaling',
  'executor-memory',
] as const;
type Name = (typeof NAMES)[number];
/** The scenarios whose figures make the page's headline ("At a glance" and the targets). */
const HEADLINE: Name[] = ['e2e-ours', 'e2e-bullmq', 'e2e-stored', 'raw-limits'];

/** `list answered 503: {…problem JSON…}` → `list answered 503 DEPENDENCY_UNAVAILABLE`. */
function compactError(text: string): string {
  return text.replace(/answered (\d{3}): \{[^)]*?"code":"([A-Z_]+)"[^)]*/g, 'answered $1 $2');
}

function read(name: string): ScenarioFile | undefined {
  const file = `${RESULTS}${name}.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ScenarioFile) : undefined;
}

/** A stage as the table shows it: the results file's figures without the per-run detail. */
type StageRow = Omit<StageResult, 'runs' | 'warmup'>;

const get = <T>(f: ScenarioFile | undefined, key: string): T | undefined =>
  f?.summary?.[key] as T | undefined;

function provenance(f: ScenarioFile): string {
  const m = f.machine as {
    cores?: number;
    loadBeforeRun?: number[];
    loadAverageAtStart?: number[];
    loadAverageAtEnd?: number[];
  };
  const load = (l: number[] | undefined) => (l ?? []).join(' / ');
  return (
    `${f.mode === 'quick' ? '**quick run** — ' : ''}${f.date.slice(0, 16).replace('T', ' ')} UTC, ` +
    `${f.durationSeconds} s of a ${f.budgetSeconds} s budget; load average ` +
    (m.loadBeforeRun ? `before the run ${load(m.loadBeforeRun)}, ` : '') +
    `at start ${load(m.loadAverageAtStart)}, at end ${load(m.loadAverageAtEnd)} (1/5/15 min) on ${m.cores ?? '?'} cores; ` +
    `load generator CPU ${f.loadGenerator.cpuPctOfOneCore} % of one core` +
    (busyMark(f) ? `; ${busyMark(f)}` : '') +
    (f.error ? `; **failed: ${f.error}**` : '')
  );
}

function commandLine(f: ScenarioFile): string {
  return `Command: \`${portableCommand(f.command)}\` (scenario \`${f.scenario}\`; results: [bench/results/${f.scenario}.json](bench/results/${f.scenario}.json)). ${provenance(f)}.`;
}

function e2eTable(rows: E2eRow[]): string {
  return table(
    [
      'scenario',
      'runs',
      'submitted/s',
      'completed/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'system CPU ms/task',
      'load gen CPU %',
    ],
    rows.map((r) => [
      r.label,
      String(r.runs),
      spreadText(r.submittedPerSec),
      spreadText(r.completedPerSec),
      spreadText(r.p50Ms, 0),
      spreadText(r.p95Ms, 0),
      spreadText(r.p99Ms, 0),
      fmt(r.systemCpuMsPerTask, 1),
      fmt(r.loadGeneratorCpuPct, 0),
    ]),
    'lrrrrrrrr',
  );
}

function openTable(rows: E2eRow[]): string {
  return table(
    [
      'rate (share of max)',
      'runs',
      'tasks per run',
      'completed/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'send lag p99 ms',
    ],
    rows.map((r) => [
      `${fmt(r.ratePerSec ?? null, 1)}/s (${r.pctOfMax ?? '?'} %)`,
      String(r.runs),
      fmt(r.n, 0),
      spreadText(r.completedPerSec),
      spreadText(r.p50Ms, 0),
      spreadText(r.p95Ms, 0),
      spreadText(r.p99Ms, 0),
      spreadText(r.sendLagP99Ms ?? null, 1),
    ]),
    'lrrrrrrr',
  );
}

function headline(files: Partial<Record<Name, ScenarioFile>>): string[] {
  const out: string[] = [
    '## At a glance',
    '',
    ...targetsSection(files['e2e-stored'], files['raw-limits'], files['e2e-bullmq']),
  ];
  const ours = files['e2e-ours'];
  const bull = files['e2e-bullmq'];
  const raw = files['raw-limits'];
  const ratios = get<Ratio[]>(bull, 'ratios') ?? [];
  const persisting = get<Ratio[]>(bull, 'persistentRatios') ?? [];
  if (ratios.length > 0) {
    const runsOf = (rows: E2eRow[] | undefined, label: string | undefined) =>
      (label !== undefined && rows?.find((x) => x.label === label)?.runs) ?? '–';
    const byOurs = (r: Ratio) => persisting.find((p) => p.ours === r.ours);
    out.push(
      '**Ours ÷ BullMQ** (same N, same clients, same machine, same invocation; medians of the measured runs), against ' +
        'BullMQ on a Redis that persists nothing and on a Redis with an append-only file fsynced every second ' +
        '("AOF"). Throughput ratio below 1 = ours is slower; p99 ratio above 1 = ours is slower.',
      '',
      table(
        [
          'ours',
          'runs (ours / BullMQ / BullMQ AOF)',
          'completed/s ÷ BullMQ',
          'completed/s ÷ BullMQ AOF',
          'submitted/s ÷ BullMQ',
          'submitted/s ÷ BullMQ AOF',
          'p99 ÷ BullMQ',
          'p99 ÷ BullMQ AOF',
        ],
        ratios.map((r) => {
          const p = byOurs(r);
          return [
            r.ours,
            `${runsOf(get<E2eRow[]>(ours, 'closedLoop'), r.ours)} / ${runsOf(get<E2eRow[]>(bull, 'rows'), r.bullmq)} / ${runsOf(get<E2eRow[]>(bull, 'persistentRows'), p?.bullmq)}`,
            fmt(r.completedPerSec, 4),
            fmt(p?.completedPerSec, 4),
            fmt(r.submittedPerSec, 4),
            fmt(p?.submittedPerSec, 4),
            `${fmt(r.p99, 1)}×`,
            p ? `${fmt(p.p99, 1)}×` : '–',
          ];
        }),
        'lrrrrrrr',
      ),
      '',
    );
    const error = get<string>(bull, 'persistentError');
    if (error) out.push(`BullMQ on the persisting Redis was not measured: ${error}.`, '');
  } else {
    out.push('No ours ÷ BullMQ ratios: the two end-to-end scenarios have not both run.', '');
  }
  const limit = get<{ stage: string; perSec: number } | null>(raw, 'physicalLimit');
  const frac = get<number | null>(raw, 'oursFractionOfLimit');
  const oursMax = get<number | null>(raw, 'oursMaxCompletedPerSec');
  if (limit) {
    out.push(
      `**Fraction of the raw limit:** ours completes at most **${fmt(oursMax ?? null, 1)} tasks/s**; the slowest raw stage, ` +
        `${limit.stage}, does **${fmt(limit.perSec, 0)}/s** on its own: ours reaches **${frac === null || frac === undefined ? '?' : `${fmt(frac * 100, 1)} %`}** of that physical limit. ` +
        (get<string | null>(raw, 'perTaskNote') ?? ''),
      '',
    );
  }
  const durability = get<{ ours: string; bullmq: string; bullmqPersistent?: string }>(bull, 'durability');
  if (durability) {
    out.push('**Not the same work.** Ours: ' + durability.ours, '', 'BullMQ here: ' + durability.bullmq, '');
    if (durability.bullmqPersistent) out.push('BullMQ AOF: ' + durability.bullmqPersistent, '');
  }
  const cpu = files['cpu-pool'];
  const list = files['list-scaling'];
  const mem = files['executor-memory'];
  const facts: string[] = [];
  if (ours) {
    facts.push(
      `End to end, ours: N = ${fmt(get<number>(ours, 'nPerRun') ?? null, 0)} tasks per run. ${get<string>(ours, 'nReason') ?? ''}`,
    );
  }
  const eff = get<Spread | null>(cpu, 'efficiencyPct');
  if (cpu && eff) {
    facts.push(
      `CPU pool efficiency: ${spreadText(eff, 0)} % (M = ${get<number>(cpu, 'm')} primes.count tasks of ${fmt(get<Spread>(cpu, 'singleThreadMs')?.median ?? null, 0)} ms on ${get<number>(cpu, 'workers')} threads)`,
    );
  }
  const rows = get<{ stored: number; p50Ms: number }[]>(list, 'rows') ?? [];
  if (rows.length > 0) {
    facts.push(
      `List page p50: ${rows
        .filter((r) => Number.isFinite(r.p50Ms))
        .map((r) => `${fmt(r.p50Ms, 0)} ms at ${fmt(r.stored, 0)} tasks`)
        .join(
          ', ',
        )}; ${get<number>(list, 'failedPages') ?? 0} page(s) failed with 503 (the gateway's store call timed out); 1,000,000: ${get<string>(list, 'oneMillion') ?? '?'}`,
    );
  }
  if (mem) {
    facts.push(
      `Executor memory with ${fmt(get<number>(mem, 'queueDepthAfterPublish') ?? null, 0)} messages waiting: peak RSS ${fmt(get<number>(mem, 'peakRssMiB') ?? null, 0)} MiB (idle ${fmt(get<number>(mem, 'baselineRssMiB') ?? null, 0)} MiB), at most ${get<number>(mem, 'maxInFlight') ?? '?'} in flight (prefetch ${get<number>(mem, 'ioPrefetch') ?? '?'})`,
    );
  }
  out.push(...facts.map((f) => `- ${f}`), '');
  out.push(
    '![Throughput: ours, BullMQ and the raw stages, log scale](bench/results/chart.svg)',
    '',
    '[Throughput chart (SVG)](bench/results/chart.svg): completed tasks/s of ours and BullMQ at the same N, and each raw stage alone, on a log scale.',
    '',
  );
  return out;
}

function chart(files: Partial<Record<Name, ScenarioFile>>): string {
  const bars: Bar[] = [];
  const ours = get<E2eRow[]>(files['e2e-ours'], 'closedLoop') ?? [];
  const bull = get<E2eRow[]>(files['e2e-bullmq'], 'rows') ?? [];
  // ours and BullMQ at the same N, path and C side by side; then BullMQ at the brief's N
  const paired = new Set<E2eRow>();
  for (const r of ours) {
    if (r.completedPerSec) {
      bars.push({
        label: r.label.replace(/, 1 executor$/, ''),
        value: r.completedPerSec.median,
        group: 'ours',
      });
    }
    const b = bull.find((x) => x.path === r.path && x.concurrency === r.concurrency && x.n === r.n);
    if (b?.completedPerSec) {
      bars.push({ label: b.label, value: b.completedPerSec.median, group: 'BullMQ' });
      paired.add(b);
    }
  }
  for (const r of bull) {
    if (r.completedPerSec && !paired.has(r))
      bars.push({ label: r.label, value: r.completedPerSec.median, group: 'BullMQ' });
  }
  for (const r of get<E2eRow[]>(files['e2e-bullmq'], 'persistentRows') ?? []) {
    if (r.completedPerSec)
      bars.push({ label: `${r.label} (AOF)`, value: r.completedPerSec.median, group: 'BullMQ, AOF' });
  }
  for (const s of get<StageRow[]>(files['raw-limits'], 'stages') ?? []) {
    if (s.perSec) bars.push({ label: `raw: ${s.name}`, value: s.perSec.median, group: 'raw stage' });
  }
  return barChart('Completed per second (log scale): ours vs BullMQ vs raw stage limits', bars);
}

function sections(files: Partial<Record<Name, ScenarioFile>>): string[] {
  const out: string[] = [];
  const ours = files['e2e-ours'];
  if (ours) {
    out.push(
      `## 1. End to end, ours`,
      '',
      `${ours.title}. \`noop\` tasks; closed loop with C concurrent clients, then open loop at 25/50/75 % of the highest completion rate measured (${fmt(get<number>(ours, 'maxCompletedPerSec') ?? null, 1)}/s). Median (min–max) of the measured runs; latency is submit → done from the tasks' own timestamps.`,
      '',
      e2eTable(get<E2eRow[]>(ours, 'closedLoop') ?? []),
      '',
      'Open loop (sends on a timer, whatever the answers; latency from each scheduled send time, so no coordinated omission):',
      '',
      openTable(get<E2eRow[]>(ours, 'openLoop') ?? []),
      '',
      commandLine(ours),
      '',
      `N: ${get<string>(ours, 'nReason') ?? '?'}`,
      '',
      ...(ours.notes ?? []).map((n) => `- ${n}`),
      '',
    );
  }
  const bull = files['e2e-bullmq'];
  if (bull) {
    out.push(
      '## 2. End to end, BullMQ',
      '',
      `${bull.title}: Koa \`POST /jobs\` → \`queue.add\` (batch: \`addBulk\`) → Redis → \`Worker\` (concurrency 100), same load generator.`,
      '',
      "On the machine's Redis (no persistence):",
      '',
      e2eTable(get<E2eRow[]>(bull, 'rows') ?? []),
      '',
      'On a private Redis with `--appendonly yes --appendfsync everysec --save ""` (AOF), at the N ours ran:',
      '',
      (get<E2eRow[]>(bull, 'persistentRows') ?? []).length > 0
        ? e2eTable(get<E2eRow[]>(bull, 'persistentRows') ?? [])
        : `Not measured${get<string>(bull, 'persistentError') ? `: ${get<string>(bull, 'persistentError')}` : ' (results from before this row existed)'}.`,
      '',
      commandLine(bull),
      '',
      `N: ${(bull.settings?.nReason as string | undefined) ?? '?'}.`,
      '',
      ...(bull.notes ?? []).map((n) => `- ${n}`),
      '',
    );
  }
  const stored = files['e2e-stored'];
  if (stored) {
    out.push(...storedSection(stored, e2eTable(get<E2eRow[]>(stored, 'rows') ?? []), commandLine(stored)));
  }
  const raw = files['raw-limits'];
  if (raw) {
    const stages = get<StageRow[]>(raw, 'stages') ?? [];
    out.push(
      '## 4. Raw stage limits',
      '',
      `${raw.title}. Each stage alone, 16 concurrent clients; median (min–max) of 3 runs. CPU in % of one core (2 cores = 200 %).`,
      '',
      table(
        ['stage', 'one operation', 'ops/s', 'p50 ms', 'p99 ms', 'CPU load gen %', 'CPU server %'],
        stages.map((s) => [
          s.name,
          s.op,
          spreadText(s.perSec, 0),
          spreadText(s.p50Ms, 1),
          spreadText(s.p99Ms, 1),
          spreadText(s.loadGeneratorCpuPct, 0),
          spreadText(s.serverCpuPct, 0) + (s.note ? ` (${s.note})` : ''),
        ]),
        'llrrrrr',
      ),
      '',
      commandLine(raw),
      '',
      ...(raw.notes ?? []).map((n) => `- ${n}`),
      '',
    );
  }
  const rest = files['rest-latency'];
  if (rest) {
    const rows =
      get<
        {
          route: string;
          rate: number;
          achievedPerSec: Spread | null;
          p50Ms: Spread | null;
          p99Ms: Spread | null;
          note?: string;
        }[]
      >(rest, 'rows') ?? [];
    out.push(
      '## 5. REST latency at fixed rates',
      '',
      `${rest.title}; median (min–max) of 3 runs per rate.`,
      '',
      table(
        ['route', 'rate (req/s)', 'answered 2xx/s', 'p50 ms', 'p99 ms'],
        rows.map((r) => [
          r.route,
          String(r.rate),
          spreadText(r.achievedPerSec, 1),
          spreadText(r.p50Ms, 0),
          spreadText(r.p99Ms, 0) + (r.note ? ` (${r.note})` : ''),
        ]),
        'lrrrr',
      ),
      '',
      commandLine(rest),
      '',
      ...(rest.notes ?? []).map((n) => `- ${n}`),
      '',
    );
  }
  const cpu = files['cpu-pool'];
  if (cpu) {
    const s = cpu.summary ?? {};
    out.push(
      '## 6. CPU pool efficiency',
      '',
      `${cpu.title}.`,
      '',
      table(
        [
          'primes.count upTo',
          'single-thread cost ms',
          'workers',
          'M tasks',
          'runs',
          'makespan s',
          'ideal s (M × cost ÷ workers)',
          'efficiency %',
          'per-task run p50 ms',
        ],
        [
          [
            fmt(s.upTo as number, 0),
            spreadText(s.singleThreadMs as Spread, 1),
            String(s.workers),
            String(s.m),
            String(s.runs),
            spreadText(s.makespanSeconds as Spread | null, 2),
            fmt(s.idealSeconds as number, 2),
            spreadText(s.efficiencyPct as Spread | null, 1),
            spreadText(s.taskRunMsP50 as Spread | null, 0),
          ],
        ],
        'rrrrrrrrr',
      ),
      '',
      commandLine(cpu),
      '',
      ...(cpu.notes ?? []).map((n) => `- ${n}`),
      '',
    );
  }
  const list = files['list-scaling'];
  if (list) {
    const rows =
      get<
        {
          stored: number;
          fillSeconds: number;
          fillPerSec: number;
          samples: number;
          p50Ms: number;
          range: Spread;
          failures?: { afterMs: number; error: string }[];
          note?: string;
        }[]
      >(list, 'rows') ?? [];
    out.push(
      '## 7. List scaling',
      '',
      `${list.title}: \`${(list.settings?.query as string) ?? '?'}\` (${(list.settings?.mix as string) ?? ''}).`,
      '',
      table(
        [
          'tasks stored',
          'page p50 ms',
          'min–max ms',
          'pages measured',
          'pages failed (503)',
          'fill s (tasks/s)',
        ],
        rows.map((r) => [
          fmt(r.stored, 0),
          fmt(r.p50Ms, 0),
          Number.isFinite(r.range.min) ? `${fmt(r.range.min, 0)}–${fmt(r.range.max, 0)}` : '–',
          String(r.samples),
          r.failures?.length
            ? `${r.failures.length}, after ${r.failures.map((f) => fmt(f.afterMs / 1000, 1)).join(', ')} s`
            : '0',
          `${fmt(r.fillSeconds, 1)} (${fmt(r.fillPerSec, 0)})`,
        ]),
        'rrrrrr',
      ),
      '',
      ...rows.filter((r) => r.note).map((r) => `- ${fmt(r.stored, 0)} tasks: ${compactError(r.note!)}`),
      '',
      `Largest size measured: ${fmt(get<number>(list, 'largestMeasured') ?? null, 0)}. ${compactError(get<string | null>(list, 'stoppedBecause') ?? '')}`,
      '',
      `1,000,000 tasks: ${get<string>(list, 'oneMillion') ?? '?'}.`,
      '',
      commandLine(list),
      '',
      ...(list.notes ?? []).map((n) => `- ${n}`),
      '',
    );
  }
  const mem = files['executor-memory'];
  if (mem) {
    const s = mem.summary ?? {};
    out.push(
      '## 8. Executor memory with a deep queue',
      '',
      `${mem.title}. ${(mem.settings?.messagesReason as string) ?? ''}.`,
      '',
      table(
        [
          'messages published',
          'waiting after publish',
          'publish s',
          'idle RSS MiB',
          'peak RSS MiB',
          'peak RSS per window MiB',
          'VmHWM MiB',
          'acked/s',
          'max in flight (prefetch)',
        ],
        [
          [
            fmt(s.messages as number, 0),
            fmt(s.queueDepthAfterPublish as number, 0),
            fmt(s.publishSeconds as number, 1),
            fmt(s.baselineRssMiB as number, 0),
            fmt(s.peakRssMiB as number, 0),
            spreadText(s.windowPeakRssMiB as Spread, 0),
            fmt(s.vmHwmMiB as number | null, 0),
            spreadText(s.consumedPerSec as Spread, 0),
            `${String(s.maxInFlight)} (${String(s.ioPrefetch)})`,
          ],
        ],
        'rrrrrrrrr',
      ),
      '',
      commandLine(mem),
      '',
      ...(mem.notes ?? []).map((n) => `- ${n}`),
      '',
    );
  }
  return out;
}

function versionsLine(files: ScenarioFile[]): string {
  const v = files[0]?.versions ?? {};
  const m = files[0]?.machine ?? {};
  const keys = [
    'node',
    'amqplib',
    'mongodbDriver',
    'bullmq',
    'ioredis',
    'koa',
    'jayson',
    'autocannon',
    'piscina',
    'rabbitmq',
    'redis',
    'postgres',
  ];
  return (
    `Machine: ${String(m.cores)} cores (${String(m.cpuModel)}), ${String(m.memoryGiB)} GiB, ${String(m.os)}, Node ${String(m.node)}. ` +
    `MongoDB-wire server: **${String(m.mongoWireServer)}**. Versions: ${keys
      .filter((k) => v[k])
      .map((k) => `${k} ${v[k]}`)
      .join(
        ', ',
      )}; Redis save ${v.redisSave ?? '?'}, appendonly ${v.redisAppendonly ?? '?'}; PostgreSQL fsync ${v.postgresFsync ?? '?'}, synchronous_commit ${v.postgresSynchronousCommit ?? '?'}.`
  );
}

/** Writes BENCHMARKS.md and chart.svg; returns the paths written. */
export function renderBenchmarks(options: { allowBusy?: boolean } = {}): string[] {
  const files: Partial<Record<Name, ScenarioFile>> = {};
  for (const n of NAMES) {
    const f = read(n);
    if (f) files[n] = f;
  }
  const busyHeadline = HEADLINE.filter((n) => files[n] && busyOf(files[n]).busy);
  if (busyHeadline.length > 0 && !options.allowBusy) throw new BusyRunError(busyHeadline);
  const present = Object.values(files);
  const modes = new Set(present.map((f) => f.mode));
  const md = [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/render-benchmarks.ts from bench/results/*.json; edit those scripts, not this file. -->',
    '',
    '`make bench` runs every scenario (at most ~13 minutes) and rewrites this page; `make bench-quick` is a',
    '~3-minute smoke run with smaller sizes (its figures are marked "quick run"); `make bench-store` runs the',
    'older task-store benchmark ([bench/README.md](bench/README.md)); `make bench-targets` checks the targets below',
    'against a running `make start`. One runner, `bench/run.ts [--quick] [--only=a,b] [--allow-busy]`, over the',
    'scenarios in `bench/scenarios/`; each writes `bench/results/<scenario>.json` with every run, medians, ranges, the',
    'command, versions, the machine and its load. A run that starts on a loaded machine (1-minute load average above',
    '0.75 per core) is not rendered here unless `--allow-busy`, and its figures are then marked "busy machine".',
    '',
    modes.has('quick')
      ? `**Some figures below come from a quick run** (${present
          .filter((f) => f.mode === 'quick')
          .map((f) => f.scenario)
          .join(', ')}): short runs, small N; read them as a smoke test, not as the system's figures.`
      : 'All figures below come from full runs, not quick ones (scenarios may come from different invocations of the runner; each section gives its own load average).',
    '',
    'The load generator runs on the same cores as the system; its own CPU use is in every results file, and each',
    'section gives the load average at its start.',
    'Figures of ours are on FerretDB (a MongoDB-wire server on PostgreSQL), the development fallback, not a real mongod.',
    '',
    present.length > 0 ? versionsLine(present) : 'No results yet: run `make bench`.',
    '',
    busyHeadline.length > 0
      ? `**Busy machine: the headline figures below were taken on a loaded machine** (1-min load average before the run: ${busyHeadline
          .map((n) => `${n} ${busyOf(files[n]!).loadBeforeRun ?? '?'}`)
          .join(
            ', ',
          )}; quiet is at most ${busyOf(files[busyHeadline[0]!]!).threshold}); they were rendered with \`--allow-busy\` and do not stand for the system.`
      : 'The headline figures were taken on a quiet machine (1-min load average at most 0.75 per core before the run).',
    '',
    ...headline(files),
    ...sections(files),
    ...optimisationSection(RESULTS),
    // Written by bench/tracing-cost.ts, which make bench does not run (docs/observability.md).
    ...(existsSync(TRACING_COST) ? [readFileSync(TRACING_COST, 'utf8').trimEnd(), ''] : []),
    '## Other benchmark pages',
    '',
    '- [bench/README.md](bench/README.md): how each benchmark runs and what it measures, the task-store benchmark (`make bench-store`), why no query of untuned FerretDB 1.24 uses an index, and the FerretDB deadlock behind `MONGO_POOL_SIZE`.',
    '',
  ].join('\n');
  writeFileSync(BENCHMARKS_MD, md);
  // Formatted as `make lint` checks it, so that a fresh page can be committed as it is.
  const prettier = createRequire(import.meta.url).resolve('prettier/bin/prettier.cjs');
  execFileSync(process.execPath, [prettier, '--log-level=warn', '--write', BENCHMARKS_MD]);
  writeFileSync(CHART, chart(files));
  return [BENCHMARKS_MD, CHART];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const written = renderBenchmarks({ allowBusy: process.argv.includes('--allow-busy') });
    for (const f of written) process.stdout.write(`written ${f}\n`);
  } catch (err) {
    if (!(err instanceof BusyRunError)) throw err;
    process.stderr.write(`render-benchmarks: ${err.message}\n`);
    process.exitCode = 3;
  }
}
