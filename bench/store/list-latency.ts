/**
 * Scenario (b): latency of a filtered tasks.list page (limit 50) at growing collection sizes,
 * filled with tasks.createMany. The largest size is cut short when filling it and measuring at
 * it would not fit the time budget; the size actually reached is what gets reported.
 */
import { randomUUID } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import { TaskStoreClient, type TaskTypeDefinition } from '@tasks/contracts';
import { explainQueries, type ExplainSummary } from './explain.js';
import { fill, type FillResult, type FillState } from './fill.js';
import { measureQueries, type QueryResult } from './list-queries.js';
import { progress, round, type Budget } from '../lib/measure.js';
import { probeClaimByPosition, type PositionProbe } from './position-probe.js';
import { stopStoreAndDrop, type StoreHost } from './store-host.js';

export interface ListSettings {
  sizes: number[];
  /** Measured calls per query at each size (same order as sizes), and unmeasured warm-up calls. */
  samples: number[];
  warmup: number[];
  types: number;
  positionProbeSamples: number;
  /** Kept free at the end of the budget for teardown. */
  reserveMs: number;
}

export interface Checkpoint {
  requestedTasks: number;
  tasksStored: number;
  reachedRequested: boolean;
  fill: FillResult;
  queries: QueryResult[];
}

export interface ListResult {
  types: string[];
  checkpoints: Checkpoint[];
  budgetNote: string | null;
  explain?: { indexes: string[]; queries: Record<string, ExplainSummary> };
  claimByPosition?: PositionProbe;
}

export interface ListDeps {
  host: StoreHost;
  mongoUrl: string;
  mongo: MongoClient;
  mongoPid: number | undefined;
  budget: Budget;
}

/** Keep the slowest list call under undici's 300 s default headers timeout, with room to spare. */
const MAX_QUERY_MS = 200_000;
/**
 * How a list page's time grows with the collection on a server that scans every document:
 * about linearly (10k -> 85k tasks: 7.8x on FerretDB here). The safety factor covers a busy
 * machine; if it is not enough, measureQueries takes fewer rounds rather than overrun.
 */
const GROWTH = 1.0;
const SAFETY = 1.3;

export async function runListLatency(deps: ListDeps, s: ListSettings): Promise<ListResult> {
  const db = `bench_list_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const url = await deps.host.start(deps.mongoUrl, db);
  const result: ListResult = { types: [], checkpoints: [], budgetNote: null };
  try {
    const client = new TaskStoreClient({ url, retries: 0, timeoutMs: 280_000 });
    const types: TaskTypeDefinition[] = Array.from({ length: s.types }, (_, i) => ({
      type: `bench.list.t${i}`,
      kind: 'io',
      payloadSchema: { type: 'object' },
      timeoutMs: 60_000,
      maxAttempts: 3,
    }));
    await client.call('taskTypes.register', { workerId: 'bench', types });
    result.types = types.map((t) => t.type);
    const state: FillState = { stored: 0, types: result.types, firstIds: [], lastIds: [] };
    let ref: { ms: number; tasks: number } | undefined; // slowest list page at the previous checkpoint
    const estimateMs = (tasks: number) => (ref ? ref.ms * (tasks / ref.tasks) ** GROWTH * SAFETY : 0);

    for (const [k, target] of s.sizes.entries()) {
      const queriesHere = 3 * (s.samples[k]! + s.warmup[k]!);
      // Claim + complete of the newest task scan about the whole collection (~0.25 ms a task, measured).
      const extra = k === 0 ? 2 * s.positionProbeSamples * 0.25 * target : 0;
      const mayAdd = (after: number, batchMs: number): string | null => {
        const perQuery = estimateMs(after);
        if (perQuery > MAX_QUERY_MS) return `one list page would take about ${round(perQuery / 1000, 0)} s`;
        const need = batchMs + perQuery * queriesHere + extra + s.reserveMs;
        return need > deps.budget.remainingMs() ? 'the time budget' : null;
      };
      progress(
        deps.budget,
        `(b) filling to ${target.toLocaleString('en')} tasks with tasks.createMany x1000`,
      );
      const filled = await fill(client, state, target, deps.budget, mayAdd);
      if (state.stored === 0) break;
      const reached = state.stored >= target;
      if (k > 0 && filled.added === 0) {
        // Nothing added: the previous checkpoint already measured this size.
        result.budgetNote =
          `requested ${target.toLocaleString('en')} tasks, none added beyond ${state.stored.toLocaleString('en')}: ` +
          `filling stopped by ${filled.stoppedBy ?? 'unknown'}`;
        progress(deps.budget, `(b) NOTE: ${result.budgetNote}`);
        break;
      }
      if (!reached) {
        result.budgetNote =
          `requested ${target.toLocaleString('en')} tasks, reached ${state.stored.toLocaleString('en')}: ` +
          `filling stopped by ${filled.stoppedBy ?? 'unknown'}, measured at the size reached`;
        progress(deps.budget, `(b) NOTE: ${result.budgetNote}`);
      }
      const queries = await measureQueries(deps, client, {
        stored: state.stored,
        samples: s.samples[k]!,
        warmup: s.warmup[k]!,
        type: result.types[1]!,
        reserveMs: s.reserveMs + (k === 0 ? extra : 0),
      });
      ref = { ms: Math.max(...queries.map((q) => q.p50Ms)), tasks: state.stored };
      result.checkpoints.push({
        requestedTasks: target,
        tasksStored: state.stored,
        reachedRequested: reached,
        fill: filled,
        queries,
      });
      if (k === 0) {
        const page = await client.call('tasks.list', { status: 'queued', limit: 50 });
        const last = page.items.at(-1)!;
        result.explain = await explainQueries({
          mongo: deps.mongo,
          db,
          type: result.types[1]!,
          cursor: { createdAt: new Date(last.createdAt), id: last.id },
          someId: last.id,
        });
        progress(
          deps.budget,
          `(b) explain: ${JSON.stringify(result.explain.queries['tasks.list status=queued (page 1)'])}`,
        );
        if (s.positionProbeSamples > 0) {
          result.claimByPosition = await probeClaimByPosition(
            client,
            state,
            s.positionProbeSamples,
            deps.budget,
          );
        }
      }
      if (!reached) break;
    }
    return result;
  } finally {
    await stopStoreAndDrop(deps, db);
  }
}
