/**
 * Dead letters end in the store (DESIGN.md: the store is the truth, the broker only delivers).
 * A work message that reached the dead-letter queue no longer exists as a hint that its task is
 * due, so a task still queued at that message's version is failed with DEAD_LETTERED and the
 * reason: counted, visible and retryable through the API instead of queued for ever.
 */
import { randomUUID } from 'node:crypto';
import type { DeadLetter, DeadLetterParams, TaskError } from '@tasks/contracts';
import { isAppError, isDuplicateKey } from '../app-error.js';
import type { Collections } from './collections.js';
import type { DeadLetterDoc, TaskDoc } from './documents.js';
import { changeAndSettle } from './task-lifecycle.js';
import { appendHistory } from './task-history.js';

export async function recordDeadLetter(
  collections: Collections,
  p: DeadLetterParams,
): Promise<{ doc: DeadLetterDoc; task: TaskDoc | null }> {
  let task: TaskDoc | null = null;
  let outcome: DeadLetterDoc['outcome'] = 'no-task';
  if (p.taskId !== undefined) {
    let failedIt = false;
    try {
      task = await changeAndSettle(
        collections,
        p.taskId,
        (doc, now) => {
          failedIt = doc.status === 'queued' && doc.version === p.version;
          if (!failedIt) return null;
          const error: TaskError = {
            code: 'DEAD_LETTERED',
            message: `its message was dead-lettered: ${p.reason}`.slice(0, 1_000),
            retryable: false,
          };
          return {
            status: 'failed',
            error,
            finishedAt: now,
            ...appendHistory(doc, {
              status: 'failed',
              at: now,
              by: 'dead-letter',
              attempt: doc.attempts,
              error,
            }),
          };
        },
        [],
      );
      outcome = failedIt ? 'failed' : 'moved-on';
    } catch (err) {
      if (!(isAppError(err) && err.type === 'TASK_NOT_FOUND')) throw err;
    }
  }
  const doc: DeadLetterDoc = {
    _id: p.taskId !== undefined && p.version !== undefined ? `${p.taskId}:${p.version}` : randomUUID(),
    at: new Date(),
    taskId: p.taskId ?? null,
    type: p.type ?? null,
    kind: p.kind ?? null,
    version: p.version ?? null,
    reason: p.reason,
    queue: p.queue ?? null,
    deliveries: p.deliveries ?? null,
    outcome,
  };
  try {
    await collections.deadLetters.insertOne(doc);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // A repeat (the first answer was lost): the first record stands.
    return { doc: (await collections.deadLetters.findOne({ _id: doc._id })) ?? doc, task };
  }
  return { doc, task };
}

export async function listDeadLetters(
  collections: Collections,
  limit: number,
): Promise<{ count: number; docs: DeadLetterDoc[] }> {
  // The list first, then the count: dead letters are only ever added, so the count read after the
  // list is never below what the list shows (read together, a letter added between the two reads
  // could be listed but not counted).
  const docs = await collections.deadLetters.find({}).sort({ at: -1 }).limit(limit).toArray();
  const count = await collections.deadLetters.countDocuments({});
  return { count, docs };
}

export function deadLetterToWire(d: DeadLetterDoc): DeadLetter {
  return {
    at: d.at.toISOString(),
    taskId: d.taskId,
    type: d.type,
    kind: d.kind,
    version: d.version,
    reason: d.reason,
    queue: d.queue,
    deliveries: d.deliveries,
    outcome: d.outcome,
  };
}
