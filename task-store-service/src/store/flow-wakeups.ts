/**
 * Wakeup entries (docs/flows.md): written before a change that the flow keeper must be able to
 * finish after a crash, deleted once it is finished. `dependents`: tell the dependents of task
 * `ref` how it ended (or that it no longer has); `flow`: finish creating flow `ref`.
 */
import { TERMINAL_STATUSES, type TaskStatus } from '@tasks/contracts';
import { isDuplicateKey } from '../app-error.js';
import type { Collections } from './collections.js';
import type { TaskDoc } from './documents.js';

export function wakeupId(taskId: string, version: number): string {
  return `${taskId}:${version}`;
}

const isTerminal = (s: TaskStatus): boolean => TERMINAL_STATUSES.includes(s);

/** True when `next` is a change its dependents must be told of: it ended, or is no longer ended. */
export function concernsDependents(prev: TaskDoc, next: TaskDoc): boolean {
  return (next.flow?.dependents.length ?? 0) > 0 && isTerminal(next.status) !== isTerminal(prev.status);
}

/** Writes the entry for version `next`; a repeat (a rolled-forward fence) is harmless. */
export async function recordDependentsWakeup(c: Collections, next: TaskDoc): Promise<void> {
  await c.flowWakeups
    .insertOne({ _id: wakeupId(next._id, next.version), kind: 'dependents', ref: next._id, at: new Date() })
    .catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
}
