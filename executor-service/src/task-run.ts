/**
 * Runs one claimed task attempt: cpu kind in the Piscina pool, io kind on the event loop.
 * Enforces the timeout, heartbeats every third of the lease with the latest progress, and
 * turns cancellation (an event or a refused heartbeat) into an abort. Task code cannot break the
 * run: bad progress values are checked, any thrown value becomes a TaskError, a result that is not
 * JSON fails with RESULT_NOT_JSON, and a crash from an io handler's timers or promises fails its
 * attempt with TASK_CRASHED (task-code/crash-guard.ts).
 */
import { isStoreError, type Task, type TaskError, type TaskStoreClient } from '@tasks/contracts';
import type { Logger } from 'pino';
import type { CpuPool } from './pool.js';
import type { ProgressReport } from './cpu-worker.js';
import type { LoadedTask } from './tasks/task-loader.js';
import { crashScope, newCrashScope } from './task-code/crash-scope.js';
import { toJsonResult } from './task-code/json-result.js';
import { checkProgress, type ProgressValue } from './task-code/progress-input.js';
import { toTaskError } from './task-code/thrown-value.js';

/** `CRASHED` only tells an io handler why its signal fired; the attempt's outcome is its error. */
export type AbortReason = 'TIMEOUT' | 'CANCELLED' | 'LEASE_LOST' | 'SHUTDOWN' | 'CRASHED';

export type RunOutcome =
  | { kind: 'ok'; result: unknown }
  | { kind: 'error'; error: TaskError }
  | { kind: 'aborted'; reason: AbortReason };

export interface RunDeps {
  store: TaskStoreClient;
  pool: CpuPool;
  leaseMs: number;
  allowHosts: readonly string[];
  log: Logger;
}

export async function runAttempt(
  deps: RunDeps,
  loaded: LoadedTask,
  task: Task,
  controller: AbortController,
  requestId: string,
): Promise<RunOutcome> {
  const { signal } = controller;
  let progress: ProgressValue | undefined;
  let warned = false;
  const onProgress = (report: ProgressReport) => {
    if (report.progress) progress = report.progress;
    if (report.warning !== undefined && !warned) {
      warned = true; // once per attempt: a handler may call progress in a tight loop
      deps.log.warn({ warning: report.warning }, 'task code called progress with bad values');
    }
  };
  const { scope, crashed, end } = newCrashScope(task.id);
  // The timeout counts the task's own run: for cpu tasks, from when a pool thread takes it up.
  let timeout: NodeJS.Timeout | undefined;
  const startTimeout = () => {
    timeout ??= setTimeout(() => controller.abort('TIMEOUT' satisfies AbortReason), task.timeoutMs);
  };
  const heartbeat = setInterval(
    () => {
      deps.store
        .call(
          'tasks.heartbeat',
          {
            id: task.id,
            leaseId: task.leaseId!,
            leaseMs: deps.leaseMs,
            ...(progress && { progress: progress.percent }),
            ...(progress?.message !== undefined && { progressMessage: progress.message }),
          },
          { requestId },
        )
        .catch((err: unknown) => {
          if (isStoreError(err, 'INVALID_TRANSITION')) controller.abort('CANCELLED' satisfies AbortReason);
          else if (isStoreError(err, 'LEASE_LOST')) controller.abort('LEASE_LOST' satisfies AbortReason);
          else deps.log.warn({ err }, 'heartbeat failed; will try again');
        });
    },
    Math.floor(deps.leaseMs / 3),
  );

  const aborted = new Promise<RunOutcome>((resolve) => {
    const onAbort = () => resolve({ kind: 'aborted', reason: signal.reason as AbortReason });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });

  const work = (async (): Promise<RunOutcome> => {
    const def = loaded.definition;
    if (def.kind === 'cpu') {
      const out = await deps.pool.run(
        {
          moduleUrl: loaded.moduleUrl,
          type: def.type,
          payload: task.payload,
          allowHosts: [...deps.allowHosts],
          dependencies: task.dependencyResults ?? {},
        },
        signal,
        { start: startTimeout, progress: onProgress },
      );
      for (const error of out.lateCrashes ?? [])
        deps.log.error({ error }, 'task code crashed in a pool thread after its attempt ended');
      return out.ok ? { kind: 'ok', result: out.result } : { kind: 'error', error: out.error };
    }
    startTimeout();
    // Timers and promises the handler starts carry this scope: their crashes fail this attempt.
    const result: unknown = await crashScope.run(scope, () =>
      def.handler(task.payload, {
        signal,
        progress: (percent: unknown, message?: unknown) => onProgress(checkProgress(percent, message)),
        allowHosts: deps.allowHosts,
        dependencies: task.dependencyResults ?? {},
      }),
    );
    const json = toJsonResult(result);
    return json.ok ? { kind: 'ok', result: json.value } : { kind: 'error', error: json.error };
  })().catch((err: unknown): RunOutcome => ({ kind: 'error', error: toTaskError(err) }));
  let didCrash = false;
  const crash = crashed.then((error): RunOutcome => {
    didCrash = true;
    return { kind: 'error', error };
  });

  try {
    // An io handler that ignores its signal cannot hold the outcome back: the abort wins the race.
    const outcome = await Promise.race([work, aborted, crash]);
    return signal.aborted ? { kind: 'aborted', reason: signal.reason as AbortReason } : outcome;
  } finally {
    end();
    clearTimeout(timeout);
    clearInterval(heartbeat);
    // A crashed handler may still be running: tell it to stop.
    if (didCrash && !signal.aborted) controller.abort('CRASHED' satisfies AbortReason);
  }
}
