/**
 * The same guard inside a Piscina thread (cpu tasks). A thread is its own `process` for these
 * events, so the handlers are installed once per thread when cpu-worker.ts loads. Threads do not
 * log: an error from a job that has already ended is kept and returned with the next job's
 * outcome; one that belongs to no job is rethrown, which ends the thread (Piscina fails the job it
 * ran, if any, and starts a new thread).
 */
import type { TaskError } from '@tasks/contracts';
import { crashError, crashScope, type CrashOrigin } from './crash-scope.js';

const MAX_KEPT = 10;
const late: TaskError[] = [];
let installed = false;

export function installThreadGuard(): void {
  if (installed) return;
  installed = true;
  const handler = (origin: CrashOrigin) => (thrown: unknown) => {
    const scope = crashScope.getStore();
    if (!scope) throw thrown;
    const error = crashError(thrown, origin);
    if (!scope.crash(error) && late.length < MAX_KEPT) late.push(error);
  };
  process.on('uncaughtException', handler('uncaughtException'));
  process.on('unhandledRejection', handler('unhandledRejection'));
}

/** Crashes of jobs that had already ended, since the last call. */
export function takeLateCrashes(): TaskError[] {
  return late.splice(0);
}
