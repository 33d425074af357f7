/**
 * Deadlines (docs/flow-control.md): a task not started by its expiresAt ends failed (EXPIRED).
 * The claim refuses to start it late; this sweep, run by the gateways' dispatcher, ends the ones
 * that no claim reaches in time (their type unserved, paused or at its limit, a flow node still
 * waiting). It reads only tasks with a deadline that have not started: `hasExpiry` and `status`
 * are equality filters, which FerretDB pushes down to its indexes.
 */
import type { Collections } from './collections.js';
import type { TaskDoc } from './documents.js';
import { changeAndSettle, expiry, isOverdue } from './task-lifecycle.js';

export async function expireOverdue(
  collections: Collections,
  limit: number,
  by: string,
  dependents: TaskDoc[] = [],
): Promise<TaskDoc[]> {
  const now = new Date();
  const overdue: string[] = [];
  for (const status of ['queued', 'waiting'] as const) {
    const docs = await collections.tasks
      .find({ hasExpiry: true, status, expiresAt: { $lte: now } }, { projection: { _id: 1 } })
      .limit(limit - overdue.length)
      .toArray();
    overdue.push(...docs.map((d) => d._id));
    if (overdue.length >= limit) break;
  }
  const expired: TaskDoc[] = [];
  for (const id of overdue) {
    let touched = false;
    const doc = await changeAndSettle(
      collections,
      id,
      (d, at) => {
        touched = (d.status === 'queued' || d.status === 'waiting') && isOverdue(d, at);
        return touched ? expiry(d, at, by) : null;
      },
      dependents,
    );
    if (touched) {
      expired.push(doc);
      await collections.holds.deleteOne({ _id: doc._id });
    }
  }
  return expired;
}
