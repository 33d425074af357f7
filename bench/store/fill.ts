/** Fills the store with queued tasks through tasks.createMany (1,000 per call), within a budget. */
import type { TaskStoreClient } from '@tasks/contracts';
import { progress, round, type Budget } from '../lib/measure.js';

export const BATCH = 1_000;
const IN_FLIGHT = 2;
const PROGRESS_EVERY_TASKS = 50_000;
const PROGRESS_EVERY_MS = 15_000;

export interface FillState {
  stored: number;
  types: string[];
  /** Ids of the first and of the latest batch, for the claim-by-position probe. */
  firstIds: string[];
  lastIds: string[];
}

export interface FillResult {
  added: number;
  seconds: number;
  tasksPerSec: number;
  /** Set when the budget stopped the fill before the target. */
  stoppedBy?: string;
}

/**
 * Adds tasks until `target` are stored, or until `mayAdd(storedAfterBatch)` says the next batch
 * would not leave time to measure at that size. Types rotate, so each matches 1/types.length.
 */
export async function fill(
  client: TaskStoreClient,
  state: FillState,
  target: number,
  budget: Budget,
  mayAdd: (storedAfterBatch: number, batchMs: number) => string | null,
): Promise<FillResult> {
  const t0 = performance.now();
  const start = state.stored;
  let reserved = state.stored; // stored plus batches in flight
  let batchMs = 1_000;
  let stoppedBy: string | undefined;
  let nextLine = Math.floor(state.stored / PROGRESS_EVERY_TASKS + 1) * PROGRESS_EVERY_TASKS;
  let lastLineAt = performance.now();

  const worker = async () => {
    for (;;) {
      if (reserved >= target || stoppedBy !== undefined) return;
      const size = Math.min(BATCH, target - reserved);
      const refusal = mayAdd(reserved + size, batchMs * IN_FLIGHT);
      if (refusal !== null) {
        stoppedBy ??= refusal;
        return;
      }
      const base = reserved;
      reserved += size;
      const tasks = Array.from({ length: size }, (_, k) => ({
        type: state.types[(base + k) % state.types.length]!,
        payload: { n: base + k },
      }));
      const b0 = performance.now();
      const r = await client.call('tasks.createMany', { tasks }, { timeoutMs: 300_000 });
      batchMs = 0.7 * batchMs + 0.3 * (performance.now() - b0);
      if (base === 0) state.firstIds = r.tasks.map((t) => t.id);
      state.lastIds = r.tasks.map((t) => t.id);
      state.stored += size;
      if (state.stored >= nextLine || performance.now() - lastLineAt > PROGRESS_EVERY_MS) {
        const secs = (performance.now() - t0) / 1000;
        progress(
          budget,
          `(b) filling: ${state.stored.toLocaleString('en')} tasks stored ` +
            `(${round((state.stored - start) / secs, 0)} tasks/s, ${round(batchMs, 0)} ms per createMany)`,
        );
        while (nextLine <= state.stored) nextLine += PROGRESS_EVERY_TASKS;
        lastLineAt = performance.now();
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return {
    added: state.stored - start,
    seconds: round(seconds),
    tasksPerSec: round((state.stored - start) / Math.max(seconds, 1e-3), 0),
    ...(stoppedBy !== undefined ? { stoppedBy } : {}),
  };
}
