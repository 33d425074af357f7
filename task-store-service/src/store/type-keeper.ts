/**
 * The type keeper (docs/flow-control.md): what no single call is sure to finish. Every store
 * replica runs it; each step is repeatable, so two replicas doing the same one is harmless.
 *
 * - Held tasks that may start are released: after a resume or a raised limit, beyond the first
 *   page the operator's call released; and after a lost wake-up (a slot freed while the task that
 *   waited for it was still being held, or a store that died between the two).
 * - Concurrency slots whose lease is over are freed: a store that died between taking a slot and
 *   recording the claim, or between recording the outcome and freeing the slot.
 * - Start times of rate-limited types older than a minute are deleted.
 */
import type { TypeSettings } from '@tasks/contracts';
import type { Logger } from 'pino';
import type { Collections } from './collections.js';
import type { TaskDoc } from './documents.js';
import { releaseHolds } from './flow-control.js';
import { settingsToWire } from './type-settings.js';

/** A slot younger than this may belong to a claim still being recorded. */
const SLOT_GRACE_MS = 10_000;
/** A hold younger than this may belong to a claim still holding it. */
const HOLD_GRACE_MS = 5_000;
const RATE_SLOT_RETENTION_MS = 60_000;
const RELEASES_PER_PASS = 500;

/**
 * Releases held tasks of a type that its settings let start now: none while paused; under a
 * concurrency limit, as many as slots are free; else up to `max`.
 */
export async function releaseAllowed(
  collections: Collections,
  s: TypeSettings,
  max: number,
): Promise<TaskDoc[]> {
  if (s.paused) return [];
  const free =
    s.concurrency === null ? max : s.concurrency - (await collections.slots.countDocuments({ type: s.type }));
  return releaseHolds(collections, s.type, Math.min(free, max));
}

export async function keepTypes(collections: Collections, log: Logger): Promise<void> {
  const now = Date.now();
  const settings = await collections.settings.all();
  const holds = await collections.holds.find({}, { projection: { type: 1, at: 1 } }).toArray();
  const waiting = new Set(holds.filter((h) => now - h.at.getTime() > HOLD_GRACE_MS).map((h) => h.type));
  for (const type of waiting) {
    try {
      const released = await releaseAllowed(
        collections,
        settingsToWire(type, settings.get(type), collections.settings.defaultRetentionSeconds),
        RELEASES_PER_PASS,
      );
      if (released.length > 0)
        log.info({ type, released: released.length }, 'held tasks released by the type keeper');
    } catch (err) {
      log.warn({ err, type }, 'type keeper could not release held tasks; it tries again');
    }
  }
  const slots = await collections.slots.find({ at: { $lt: new Date(now - SLOT_GRACE_MS) } }).toArray();
  for (const slot of slots) {
    const task = await collections.tasks.findOne(
      { _id: slot.taskId },
      { projection: { status: 1, leaseId: 1 } },
    );
    if (task?.status === 'running' && task.leaseId === slot.leaseId) continue;
    await collections.slots.deleteOne({ _id: slot._id, leaseId: slot.leaseId });
    log.warn({ slot: slot._id, taskId: slot.taskId }, 'a concurrency slot whose lease was over was freed');
  }
  await collections.rateSlots.deleteMany({ at: { $lt: new Date(now - RATE_SLOT_RETENTION_MS) } });
}
