/**
 * The attempt that task code runs for, carried through its timers and promises by
 * AsyncLocalStorage, so that an error nobody caught can be pinned on the attempt that caused it.
 * Used on the main thread (io tasks) and inside each pool thread (cpu tasks).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { TaskError } from '@tasks/contracts';
import { capText, MAX_ERROR_MESSAGE, toTaskError } from './thrown-value.js';

export type CrashOrigin = 'uncaughtException' | 'unhandledRejection';

export interface CrashScope {
  taskId?: string;
  /** Fails the attempt with `error`; false when the attempt had already ended. */
  crash(error: TaskError): boolean;
}

export const crashScope = new AsyncLocalStorage<CrashScope>();

/** What a crash is recorded as: TASK_CRASHED, retryable (an unhandled socket error may pass). */
export function crashError(thrown: unknown, origin: CrashOrigin): TaskError {
  const what = origin === 'unhandledRejection' ? 'an unhandled promise rejection' : 'an uncaught exception';
  return {
    code: 'TASK_CRASHED',
    message: capText(`task code raised ${what}: ${toTaskError(thrown).message}`, MAX_ERROR_MESSAGE),
    retryable: true,
  };
}

/** A scope for one attempt, and the promise that settles if task code crashes during it. */
export function newCrashScope(taskId?: string): {
  scope: CrashScope;
  crashed: Promise<TaskError>;
  end: () => void;
} {
  let live = true;
  let fail: (e: TaskError) => void = () => undefined;
  const crashed = new Promise<TaskError>((resolve) => (fail = resolve));
  const scope: CrashScope = {
    ...(taskId !== undefined && { taskId }),
    crash(error) {
      if (!live) return false;
      live = false;
      fail(error);
      return true;
    },
  };
  return { scope, crashed, end: () => (live = false) };
}
