/**
 * How big each mode is. The brief asks for N = 20,000 (quick 2,000) tasks per run; BullMQ runs
 * that N. Ours cannot on this machine's FerretDB/SQLite server (see bench/E2E.md: about 2–10
 * tasks/s, with every state change scanning the collection), so our N is what fits the time
 * budget with 3 measured repetitions, and BullMQ also runs that same N, so the ours/BullMQ
 * ratios compare equal work.
 */
import type { ScenarioSpec } from './figures.js';

export interface Settings {
  mode: 'quick' | 'full';
  budgetMs: number;
  repetitions: number;
  /** Our executor's io prefetch (IO_CONCURRENCY default), and so the BullMQ worker's concurrency. */
  workerConcurrency: number;
  bullmq: { scenarios: ScenarioSpec[]; warmupN: number; maxRunMs: number; reserveMs: number };
  ours: {
    /** One system per entry, in order, as long as the budget allows. */
    systems: { executors: number; scenarios: ScenarioSpec[] }[];
    warmupN: number;
    maxRunMs: number;
    executorEnv: Record<string, string>;
  };
}

const BATCH = 500;
/** Clients for the batch path: with N/500 requests, more would only wait for a batch to take. */
const BATCH_CLIENTS = 16;

function specs(system: 'ours' | 'bullmq', n: number, executors?: number): ScenarioSpec[] {
  const ex = executors === undefined ? {} : { executors };
  return [
    { system, path: 'single', concurrency: 16, n, batchSize: 1, ...ex },
    { system, path: 'single', concurrency: 64, n, batchSize: 1, ...ex },
    { system, path: 'batch', concurrency: BATCH_CLIENTS, n, batchSize: BATCH, ...ex },
  ];
}

export function settings(quick: boolean, overrides: { oursN?: number; bullmqN?: number }): Settings {
  const briefN = overrides.bullmqN ?? (quick ? 2_000 : 20_000);
  const oursN = overrides.oursN ?? (quick ? 100 : 400);
  const ours = specs('ours', oursN, 1);
  return {
    mode: quick ? 'quick' : 'full',
    budgetMs: quick ? 120_000 : 600_000,
    repetitions: 3,
    workerConcurrency: 100,
    bullmq: {
      scenarios: [...specs('bullmq', briefN), ...specs('bullmq', oursN)],
      warmupN: quick ? 1_000 : 2_000,
      maxRunMs: 60_000,
      // what the ours part needs at least (system start, warm-ups, 3 runs of each scenario)
      reserveMs: quick ? 70_000 : 360_000,
    },
    ours: {
      // Full: a fresh system (and so an empty collection) per scenario, because on FerretDB the
      // cost of a task grows with the collection; quick: one system for all, to fit 2 minutes.
      systems: quick
        ? [{ executors: 1, scenarios: ours }]
        : [
            ...ours.map((spec) => ({ executors: 1, scenarios: [spec] })),
            { executors: 2, scenarios: specs('ours', oursN, 2).slice(1, 2) },
          ],
      warmupN: quick ? 10 : 50,
      maxRunMs: quick ? 40_000 : 120_000,
      // the service defaults (LEASE_MS 30 s), not e2e/system.ts's test values (5 s leases)
      executorEnv: { LEASE_MS: '30000' },
    },
  };
}
