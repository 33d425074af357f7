/**
 * Idempotency keys of tasks and flows (docs/consistency.md, "Idempotent creation") and their
 * window (docs/retention.md): a key older than IDEMPOTENCY_KEY_TTL_SECONDS is treated as absent
 * at lookup, so the window is exact whether or not the sweeper has removed the key yet.
 */
import type { Collection } from 'mongodb';
import { AppError, isDuplicateKey } from '../app-error.js';
import type { FenceDoc, IdempotencyDoc } from './documents.js';
import { hourOf } from './list-buckets.js';
import { fenceTimes } from './fence-sweep.js';

/** Tries of the insert when keys vanish under it (expired ones replaced, removed ones swept). */
const CLAIM_TRIES = 20;

/** A key's removal fence older than this was left by a caller that died before deleting the key. */
const STALE_KEY_FENCE_MS = 10_000;

export const isExpiredKey = (doc: IdempotencyDoc, nowMs: number, ttlSeconds: number): boolean =>
  doc.at.getTime() <= nowMs - ttlSeconds * 1000;

/**
 * Takes `key` for `taskId` (null: taken), or answers the live key that holds it. An expired holder
 * is deleted first, conditionally on its taskId and time, and the insert is tried again: of two
 * creations racing for one expired key, the unique insert lets exactly one take it and the other
 * finds the winner's key, live (docs/retention.md).
 */
export async function claimKey(
  coll: Collection<IdempotencyDoc>,
  fences: Collection<FenceDoc>,
  key: string,
  taskId: string,
  bodyHash: string,
  now: Date,
  ttlSeconds: number,
): Promise<IdempotencyDoc | null> {
  for (let i = 0; i < CLAIM_TRIES; i++) {
    try {
      await coll.insertOne({ _id: key, taskId, bodyHash, at: now, hour: hourOf(now.getTime()) });
      return null;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const prior = await coll.findOne({ _id: key });
    if (!prior) continue; // removed between the insert and the read: try again
    if (!isExpiredKey(prior, Date.now(), ttlSeconds)) return prior;
    // Another caller removes it: its replacement is read on the next try.
    if ((await removeExpiredKey(coll, fences, prior)) === 'busy')
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
  throw new AppError('BUSY', 'idempotency key is being changed; try again');
}

/**
 * Deletes an expired key, under a fence of its own (`key:<collection>:<key>:<holder>` in the fence
 * collection): only the caller that inserts the fence deletes. On FerretDB a conditional delete
 * is evaluated on a read and applied by _id, so two unfenced deleters could both act, and the
 * later one remove the key a creation has just taken in between. Every removal of a key goes
 * through here: creations replacing an expired holder, the sweeper, and task removal.
 */
export async function removeExpiredKey(
  coll: Collection<IdempotencyDoc>,
  fences: Collection<FenceDoc>,
  prior: IdempotencyDoc,
): Promise<'removed' | 'busy'> {
  const fence: FenceDoc = {
    _id: `key:${coll.collectionName}:${prior._id}:${prior.taskId}`,
    taskId: prior.taskId,
    version: 0,
    set: {},
    ...fenceTimes(),
  };
  try {
    await fences.insertOne(fence);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const held = await fences.findOne({ _id: fence._id });
    // Left by a caller that died between its fence and its delete: cleared for the next try.
    if (held && Date.now() - held.at.getTime() > STALE_KEY_FENCE_MS)
      await fences.deleteOne({ _id: fence._id, at: held.at });
    return 'busy';
  }
  await coll.deleteOne({ _id: prior._id, taskId: prior.taskId, at: prior.at });
  return 'removed';
}
