/**
 * The executor's process-level handlers for errors that task code let escape (a throw from a
 * timer it started, a promise it rejected and never awaited). main.ts installs them; tests call
 * installCrashGuard on an emitter of their own. The attempt the error came from fails with
 * TASK_CRASHED; an error that belongs to no running attempt is logged and the executor keeps on.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { crashError, crashScope, type CrashOrigin } from './crash-scope.js';
import { toTaskError } from './thrown-value.js';

export function installCrashGuard(target: EventEmitter, log: Logger): () => void {
  const handler = (origin: CrashOrigin) => (thrown: unknown) => {
    // Everything here must not throw: an error in this handler ends the process.
    const scope = crashScope.getStore();
    const error = crashError(thrown, origin);
    if (scope?.crash(error)) {
      log.warn({ taskId: scope.taskId, origin, error }, 'task code crashed; its attempt fails');
    } else if (scope) {
      log.error({ taskId: scope.taskId, origin, error }, 'task code crashed after its attempt ended');
    } else {
      const { message } = toTaskError(thrown);
      let stack: string | undefined;
      try {
        stack = thrown instanceof Error ? String(thrown.stack) : undefined;
      } catch {
        // A Proxy or a getter that throws: the message is all there is.
      }
      log.error(
        { origin, message, stack },
        'uncaught error outside any task attempt; executor keeps running',
      );
    }
  };
  const onException = handler('uncaughtException');
  const onRejection = handler('unhandledRejection');
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
