/**
 * Idempotency keys of tasks and flows (docs/consistency.md, "Idempotent creation") and their
 * window (docs/retention.md): a key older than IDEMPOTENCY_KEY_TTL_SECONDS is treated as absent
 * at lookup, so the window is exact whether or not the sweeper has removed the key yet.
 */
import type { Collection } from 'mongodb';
import { AppError, isDuplicateKey } from '../app-error.js';
import type { IdempotencyDoc } from './documents.js';
import { hourOf } from './list-buckets.js';

/** Tries of the insert when keys vanish under it (expired ones replaced, removed ones swept). */
const CLAIM_TRIES = 4;

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
    await coll.deleteOne({ _id: key, taskId: prior.taskId, at: prior.at });
  }
  throw new AppError('BUSY', 'idempotency key is being changed; try again');
}
