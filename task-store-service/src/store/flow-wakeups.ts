/**
 * Wakeup entries (docs/flows.md): written before a change that the flow keeper must be able to
 * finish after a crash, deleted once it is finished. `dependents`: tell the dependents of task
 * `ref` how it ended (or that it no longer has); `retell`: tell node `ref`, waiting again after
 * it had ended, how its dependencies stand; `flow`: finish creating flow `ref`; `cancel`: finish
 * cancelling flow `ref`.
 */
import { TERMINAL_STATUSES, type TaskStatus } from '@tasks/contracts';
import { isDuplicateKey } from '../app-error.js';
import type { Collections } from './collections.js';
import type { TaskDoc } from './documents.js';

export function wakeupId(taskId: string, version: number): string {
  return `${taskId}:${version}`;
}

export function retellId(taskId: string, version: number): string {
  return `retell:${taskId}:${version}`;
}

const isTerminal = (s: TaskStatus): boolean => TERMINAL_STATUSES.includes(s);

/** True when `next` is a change its dependents must be told of: it ended, or is no longer ended. */
export function concernsDependents(prev: TaskDoc, next: TaskDoc): boolean {
  return (next.flow?.dependents.length ?? 0) > 0 && isTerminal(next.status) !== isTerminal(prev.status);
}

/** True when `next` is a flow node waiting again after it had ended: it must be told anew. */
export function waitsAgain(prev: TaskDoc, next: TaskDoc): boolean {
  return next.flow !== undefined && next.status === 'waiting' && isTerminal(prev.status);
}

/** Writes the entries version `next` needs; a repeat (a rolled-forward fence) is harmless. */
export async function recordWakeups(collections: Collections, prev: TaskDoc, next: TaskDoc): Promise<void> {
  const at = new Date();
  const entries = [
    ...(concernsDependents(prev, next)
      ? [{ _id: wakeupId(next._id, next.version), kind: 'dependents' as const, ref: next._id, at }]
      : []),
    ...(waitsAgain(prev, next)
      ? [{ _id: retellId(next._id, next.version), kind: 'retell' as const, ref: next._id, at }]
      : []),
  ];
  for (const e of entries) {
    await collections.flowWakeups.insertOne(e).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }
}
