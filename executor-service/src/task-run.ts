/**
 * Runs one claimed task attempt: cpu kind in the Piscina pool, io kind on the event loop.
 * Enforces the timeout, heartbeats every third of the lease with the latest progress, and
 * turns cancellation (an event or a refused heartbeat) into an abort.
 */
import { isStoreError, type Task, type TaskError, type TaskStoreClient } from '@tasks/contracts';
import type { Logger } from 'pino';
import type { CpuPool } from './pool.js';
import type { ProgressMessage } from './cpu-worker.js';
import type { LoadedTask } from './tasks/task-loader.js';

export type AbortReason = 'TIMEOUT' | 'CANCELLED' | 'LEASE_LOST' | 'SHUTDOWN';

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
  let progress: ProgressMessage | undefined;
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
            ...(progress?.message !== undefined && { progressMessage: progress.message.slice(0, 500) }),
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
        },
        signal,
        { start: startTimeout, progress: (p) => (progress = p) },
      );
      return out.ok ? { kind: 'ok', result: out.result } : { kind: 'error', error: out.error };
    }
    startTimeout();
    const result: unknown = await def.handler(task.payload, {
      signal,
      progress: (percent, message) => (progress = { percent: Math.max(0, Math.min(100, percent)), message }),
      allowHosts: deps.allowHosts,
    });
    return { kind: 'ok', result };
  })().catch((err: unknown): RunOutcome => {
    const e = err as { code?: unknown; message?: unknown; retryable?: unknown };
    return {
      kind: 'error',
      error: {
        code: typeof e.code === 'string' ? e.code : 'TASK_ERROR',
        message: typeof e.message === 'string' ? e.message : String(err),
        retryable: e.retryable !== false,
      },
    };
  });

  try {
    // An io handler that ignores its signal cannot hold the outcome back: the abort wins the race.
    const outcome = await Promise.race([work, aborted]);
    return signal.aborted ? { kind: 'aborted', reason: signal.reason as AbortReason } : outcome;
  } finally {
    clearTimeout(timeout);
    clearInterval(heartbeat);
  }
}
