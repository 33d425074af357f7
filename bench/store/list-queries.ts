/** Scenario (b)'s measurements at one size: three tasks.list queries, timed in rounds. */
import type { ListParams, TaskStoreClient } from '@tasks/contracts';
import { percentile, progress, round, type Budget } from '../lib/measure.js';
import { cpuMeter, type CpuShare } from './meters.js';
import type { StoreHost } from './store-host.js';

export interface QueryResult {
  name: string;
  params: Omit<ListParams, 'cursor'> & { cursor?: string };
  samples: number;
  samplesRequested: number;
  warmup: number;
  p50Ms: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  itemsReturned: number;
  cpu: CpuShare;
}

export interface QueryDeps {
  host: StoreHost;
  mongoPid: number | undefined;
  budget: Budget;
}

/**
 * The three queries are taken in rounds (page 1, page 1 by type, page 2), so drift on a busy
 * machine spreads over all three. The first round always runs; a further round only when the
 * budget still has room for it; the number taken is reported.
 */
export async function measureQueries(
  deps: QueryDeps,
  client: TaskStoreClient,
  o: { stored: number; samples: number; warmup: number; type: string; reserveMs: number },
): Promise<QueryResult[]> {
  let cursor: string | null = null;
  const variants: { name: string; params: () => ListParams }[] = [
    { name: 'status=queued, page 1', params: () => ({ status: 'queued', limit: 50 }) },
    {
      name: `status=queued & type=${o.type}, page 1`,
      params: () => ({ status: 'queued', type: o.type, limit: 50 }),
    },
    {
      name: 'status=queued, page 2 (nextCursor)',
      params: () => ({ status: 'queued', limit: 50, cursor: cursor! }),
    },
  ];
  const times: number[][] = variants.map(() => []);
  const items: number[] = variants.map(() => 0);
  const cpuMs = variants.map(() => ({ wall: 0, self: 0, store: 0, mongo: 0, known: true }));
  const label = `(b) ${o.stored.toLocaleString('en')} tasks`;
  let lastRoundMs = 0;
  for (let round_ = 0; round_ < o.warmup + o.samples; round_++) {
    const measured = round_ >= o.warmup;
    if (round_ > 0 && lastRoundMs * 1.1 + o.reserveMs > deps.budget.remainingMs()) {
      progress(deps.budget, `${label}: stopping after ${round_ - o.warmup} rounds: the time budget is spent`);
      break;
    }
    const r0 = performance.now();
    for (const [j, v] of variants.entries()) {
      const meter = cpuMeter({ store: deps.host.pid, mongo: deps.mongoPid });
      const t0 = performance.now();
      const page = await client.call('tasks.list', v.params());
      const ms = performance.now() - t0;
      const cpu = meter();
      if (j === 0) cursor = page.nextCursor;
      items[j] = page.items.length;
      if (measured) {
        times[j]!.push(ms);
        const c = cpuMs[j]!;
        c.wall += cpu.wallMs;
        c.self += cpu.loadGeneratorCpuMs;
        if (cpu.storePct === null || cpu.mongoPct === null) c.known = false;
        else {
          c.store += (cpu.storePct * cpu.wallMs) / 100;
          c.mongo += (cpu.mongoPct * cpu.wallMs) / 100;
        }
      }
      if (ms > 2_000 || !measured) {
        progress(
          deps.budget,
          `${label}, ${v.name}: ${measured ? 'call' : 'warm-up call'} took ${round(ms, 0)} ms (round ${round_ + 1})`,
        );
      }
    }
    lastRoundMs = performance.now() - r0;
  }
  return variants.map((v, j): QueryResult => {
    const t = times[j]!;
    const c = cpuMs[j]!;
    const q: QueryResult = {
      name: v.name,
      params: { ...v.params(), ...(j === 2 ? { cursor: '<nextCursor of page 1>' } : {}) },
      samples: t.length,
      samplesRequested: o.samples,
      warmup: o.warmup,
      p50Ms: round(percentile(t, 50)),
      p95Ms: round(percentile(t, 95)),
      minMs: round(Math.min(...t)),
      maxMs: round(Math.max(...t)),
      itemsReturned: items[j]!,
      cpu: {
        wallMs: round(c.wall),
        loadGeneratorPct: round((c.self / c.wall) * 100),
        storePct: c.known ? round((c.store / c.wall) * 100) : null,
        mongoPct: c.known ? round((c.mongo / c.wall) * 100) : null,
        loadGeneratorCpuMs: round(c.self),
      },
    };
    progress(
      deps.budget,
      `${label}, ${v.name}: p50 ${q.p50Ms} ms, p95 ${q.p95Ms} ms (n=${q.samples}); CPU load generator ` +
        `${q.cpu.loadGeneratorPct}%, store ${q.cpu.storePct ?? '?'}%, db server ${q.cpu.mongoPct ?? '?'}%`,
    );
    return q;
  });
}
