/** The results file's shape and its Markdown tables (printed at the end, pasted into the README). */
import { cpus, freemem, loadavg, release, totalmem, type as osType } from 'node:os';
import type { ListResult } from './list-latency.js';
import { round, type Spread } from '../lib/measure.js';
import type { Contention } from './meters.js';
import type { ThroughputResult } from './throughput.js';

export interface Results {
  benchmark: 'task-store';
  command: string;
  mode: 'quick' | 'full';
  date: string;
  durationSeconds: number;
  budgetSeconds: number;
  versions: { node: string; mongoServer: string; mongoSource: string };
  machine: Machine;
  /** Other work on the machine while each scenario ran. */
  contention: { throughput: Contention; listLatency: Contention };
  settings: unknown;
  throughput: ThroughputResult[];
  listLatency: ListResult;
  loadGenerator: { cpuUserMs: number; cpuSystemMs: number; wallMs: number; cpuPctOfOneCore: number };
  notes: string[];
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  freeMemoryGiB: number;
  os: string;
  loadAverageAtStart: number[];
}

export function machine(): Machine {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30),
    freeMemoryGiB: round(freemem() / 2 ** 30),
    os: `${osType()} ${release()} ${process.arch}`,
    loadAverageAtStart: loadavg().map((x) => round(x, 2)),
  };
}

const range = (s: Spread, d = 1) => `${round(s.median, d)} (${round(s.min, d)}–${round(s.max, d)})`;
const pct = (s: Spread | null) => (s ? `${round(s.median, 0)}%` : 'n/a');

export function markdownTables(r: Results): string {
  const lines: string[] = [];
  lines.push(`Command: \`${r.command}\` — ${r.date}, ${r.versions.mongoServer}, Node ${r.versions.node}, `);
  lines.push(
    `${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, ${r.machine.os}.`,
  );
  const busy = (c: Contention) =>
    `other processes used ${c.otherProcessesCpuPctOfOneCore ?? '?'}% of one core, 1-min load average ` +
    `${c.loadAverage1m.mean} (max ${c.loadAverage1m.max})`;
  lines.push(
    `Machine shared during the run: (a) ${busy(r.contention.throughput)}; (b) ${busy(r.contention.listLatency)}.`,
  );
  lines.push('');
  lines.push('(a) Calls per second through TaskStoreClient, median (min–max) of 3 repetitions');
  lines.push('');
  lines.push(
    '| method | C | calls (warm-up + measured) | calls/s | p50 latency ms | CPU load gen | CPU store | CPU db server |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of r.throughput) {
    lines.push(
      `| ${t.method} | ${t.concurrency} | ${t.warmupCalls} + ${t.measuredCalls} | ${range(t.callsPerSec)} | ` +
        `${range(t.p50Ms)} | ${pct(t.loadGeneratorCpuPct)} | ${pct(t.storeCpuPct)} | ${pct(t.mongoCpuPct)} |`,
    );
  }
  lines.push('');
  lines.push('(b) tasks.list page latency (limit 50), all tasks queued, 4 types');
  lines.push('');
  lines.push('| tasks stored (requested) | query | n | p50 ms | p95 ms | min–max ms | CPU db server |');
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  for (const c of r.listLatency.checkpoints) {
    const size = `${c.tasksStored.toLocaleString('en')} (${c.requestedTasks.toLocaleString('en')}${c.reachedRequested ? '' : ', NOT reached'})`;
    for (const q of c.queries) {
      lines.push(
        `| ${size} | ${q.name} | ${q.samples}${q.samples < q.samplesRequested ? ` of ${q.samplesRequested}` : ''} | ${q.p50Ms} | ${q.p95Ms} | ${q.minMs}–${q.maxMs} | ` +
          `${q.cpu.mongoPct === null ? 'n/a' : `${round(q.cpu.mongoPct, 0)}%`} |`,
      );
    }
  }
  const fills = r.listLatency.checkpoints.map(
    (c) => `${c.fill.added.toLocaleString('en')} tasks in ${c.fill.seconds} s (${c.fill.tasksPerSec}/s)`,
  );
  lines.push('');
  lines.push(`Fill with tasks.createMany x1000: ${fills.join('; ')}.`);
  if (r.listLatency.budgetNote) lines.push(`**Size limit: ${r.listLatency.budgetNote}.**`);
  const p = r.listLatency.claimByPosition;
  if (p) {
    lines.push('');
    lines.push(
      `(c) With ${p.tasksStored.toLocaleString('en')} tasks stored (n=${p.samples} each): claim/complete p50 of the ` +
        `oldest task ${p.oldest.claimP50Ms}/${p.oldest.completeP50Ms} ms, of the newest ${p.newest.claimP50Ms}/${p.newest.completeP50Ms} ms.`,
    );
  }
  lines.push('');
  lines.push(
    `Load generator CPU over the whole run: ${r.loadGenerator.cpuPctOfOneCore}% of one core ` +
      `(${round(r.loadGenerator.cpuUserMs / 1000)} s user + ${round(r.loadGenerator.cpuSystemMs / 1000)} s system in ${round(r.loadGenerator.wallMs / 1000)} s).`,
  );
  return lines.join('\n');
}
