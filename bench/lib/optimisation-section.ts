/** "Before and after the optimisation" for BENCHMARKS.md, from bench/results/optimisation.json. */
import { existsSync, readFileSync } from 'node:fs';
import type { Spread } from './measure.js';
import { fmt, portableCommand, spreadText, table } from './markdown.js';

interface Side {
  commit?: string;
  command: string;
  date: string;
  machineLoadAverageAtStart: number[];
  mongoServer: string;
  scenarios: {
    label: string;
    runs: number;
    completedPerSec: Spread;
    submittedPerSec: Spread;
    p50Ms: Spread;
    p99Ms: Spread;
    cpuMsPerTask: Record<string, number | null>;
  }[];
  postgresPerTask?: Record<string, number>;
  storeCallsPerTask?: Record<string, number>;
}

interface Optimisation {
  optimisation: string;
  guarantees: string;
  before: Side;
  after: Side;
  backToBack?: { name: string; note: string; before: Side; after: Side }[];
}

function comparison(before: Side, after: Side): string {
  const rows = before.scenarios.map((b) => {
    const a = after.scenarios.find((x) => x.label === b.label);
    const change = (x: number | undefined, y: number | undefined) =>
      x === undefined || y === undefined || x === 0
        ? ''
        : ` (${y >= x ? '+' : ''}${fmt(((y - x) / x) * 100, 0)} %)`;
    return [
      b.label,
      `${spreadText(b.completedPerSec)} → ${spreadText(a?.completedPerSec)}${change(b.completedPerSec.median, a?.completedPerSec.median)}`,
      `${spreadText(b.p50Ms, 0)} → ${spreadText(a?.p50Ms, 0)}`,
      `${spreadText(b.p99Ms, 0)} → ${spreadText(a?.p99Ms, 0)}`,
      `${fmt(b.cpuMsPerTask.system ?? null, 1)} → ${fmt(a?.cpuMsPerTask.system ?? null, 1)}${change(b.cpuMsPerTask.system ?? undefined, a?.cpuMsPerTask.system ?? undefined)}`,
    ];
  });
  return table(
    ['scenario', 'completed/s before → after', 'p50 ms', 'p99 ms', 'system CPU ms per task'],
    rows,
    'lrrrr',
  );
}

function perTask(before: Side, after: Side): string {
  const rows: string[][] = [];
  for (const [k, label] of [
    ['commits', 'PostgreSQL commits'],
    ['seqRowsRead', 'rows read by sequential scans'],
    ['walSyncs', 'WAL flushes'],
  ] as const) {
    const b = before.postgresPerTask?.[k];
    const a = after.postgresPerTask?.[k];
    if (b !== undefined || a !== undefined) rows.push([label, fmt(b ?? null, 1), fmt(a ?? null, 1)]);
  }
  for (const m of Object.keys(before.storeCallsPerTask ?? {})) {
    rows.push([
      `store calls: ${m}`,
      fmt(before.storeCallsPerTask?.[m] ?? null, 2),
      fmt(after.storeCallsPerTask?.[m] ?? null, 2),
    ]);
  }
  return table(['per task', 'before', 'after'], rows, 'lrr');
}

const sideLine = (name: string, s: Side) =>
  `${name}: commit ${s.commit ?? '?'}, \`${portableCommand(s.command)}\`, ${s.date.slice(0, 16).replace('T', ' ')} UTC, load average at start ${s.machineLoadAverageAtStart.join(' / ')}, ${s.mongoServer}.`;

export function optimisationSection(resultsDir: string): string[] {
  const file = `${resultsDir}optimisation.json`;
  if (!existsSync(file)) return [];
  const o = JSON.parse(readFileSync(file, 'utf8')) as Optimisation;
  const out = [
    '## Before and after the optimisation',
    '',
    `${o.optimisation} ${o.guarantees}`,
    '',
    'Full end-to-end runs (the end-to-end harness of those commits, `bench/e2e/e2e-bench.ts`, since replaced by `bench/run.ts`; N = 400 per run, a fresh system per scenario), before and after; median (min–max) of 3 runs:',
    '',
    comparison(o.before, o.after),
    '',
    'Work per task (single path, median of the runs):',
    '',
    perTask(o.before, o.after),
    '',
    `- ${sideLine('Before', o.before)}`,
    `- ${sideLine('After', o.after)}`,
    '',
  ];
  for (const pair of o.backToBack ?? []) {
    out.push(
      `Back-to-back quick pair, ${pair.name}: ${pair.note}.`,
      '',
      comparison(pair.before, pair.after),
      '',
    );
  }
  out.push(
    "The two full runs are hours apart on a shared machine (see the load averages); the back-to-back pairs were run one right after the other to take the machine's drift out. The per-task work (commits, rows read, store calls) does not depend on the load and is the steadier evidence. Source: [bench/results/optimisation.json](bench/results/optimisation.json).",
    '',
  );
  return out;
}
