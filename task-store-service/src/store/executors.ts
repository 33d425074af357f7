/**
 * Which executors are alive and which types they serve, from their heartbeats: what lets stats,
 * the dashboard and tasksctl say "no executor serves this type" for queued tasks that wait.
 * One upsert per executor every few seconds, whatever the load; nothing per task.
 */
import type { Collections } from './collections.js';

/** An executor is live for this long after its last heartbeat (executors beat every third of it). */
export const EXECUTOR_LIVE_MS = 30_000;

export async function executorHeartbeat(
  collections: Collections,
  p: { workerId: string; types: string[]; stopping?: boolean },
): Promise<{ liveForMs: number }> {
  if (p.stopping) await collections.executors.deleteOne({ _id: p.workerId });
  else
    await collections.executors.replaceOne(
      { _id: p.workerId },
      { types: p.types, lastSeen: new Date() },
      { upsert: true },
    );
  return { liveForMs: EXECUTOR_LIVE_MS };
}

/** Types served by at least one executor seen within EXECUTOR_LIVE_MS. */
export async function servedTypes(collections: Collections): Promise<Set<string>> {
  const live = await collections.executors
    .find({ lastSeen: { $gte: new Date(Date.now() - EXECUTOR_LIVE_MS) } })
    .toArray();
  return new Set(live.flatMap((e) => e.types));
}
