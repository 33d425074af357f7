/**
 * Does a claim (and a complete) cost more the later its task was stored? Claims a few of the
 * oldest and a few of the newest tasks of the filled collection and times each call. On a
 * server that finds a task by _id through an index, both cost the same.
 */
import type { TaskStoreClient } from '@tasks/contracts';
import type { FillState } from './fill.js';
import { percentile, progress, round, type Budget } from '../lib/measure.js';

export interface PositionProbe {
  tasksStored: number;
  samples: number;
  oldest: { claimP50Ms: number; completeP50Ms: number };
  newest: { claimP50Ms: number; completeP50Ms: number };
}

export async function probeClaimByPosition(
  client: TaskStoreClient,
  state: FillState,
  samples: number,
  budget: Budget,
): Promise<PositionProbe> {
  const time = async (ids: string[]) => {
    const claims: number[] = [];
    const completes: number[] = [];
    for (const id of ids) {
      let t0 = performance.now();
      const t = await client.call('tasks.claim', { id, workerId: 'bench-probe', leaseMs: 300_000 });
      claims.push(performance.now() - t0);
      t0 = performance.now();
      await client.call('tasks.complete', { id, leaseId: t.leaseId! });
      completes.push(performance.now() - t0);
    }
    return { claimP50Ms: round(percentile(claims, 50)), completeP50Ms: round(percentile(completes, 50)) };
  };
  const oldest = await time(state.firstIds.slice(0, samples));
  const newest = await time(state.lastIds.slice(-samples));
  progress(
    budget,
    `(c) ${state.stored.toLocaleString('en')} tasks: claim/complete of the oldest task p50 ` +
      `${oldest.claimP50Ms}/${oldest.completeP50Ms} ms, of the newest ${newest.claimP50Ms}/${newest.completeP50Ms} ms`,
  );
  return { tasksStored: state.stored, samples, oldest, newest };
}
