/**
 * A shutdown that ends on time whatever state the dependencies are in: each step (close the HTTP
 * server, the MongoDB client, the broker, the worker pool…) runs in order but only until one
 * deadline for the whole shutdown; a step that fails does not stop the later ones. Every
 * service's stop path uses it, so that SIGTERM ends the process within its grace period plus
 * SHUTDOWN_CLOSE_ALLOWANCE_MS even with the database or the broker gone.
 */

/** Time for closing connections after the grace period (which is for in-flight work). */
export const SHUTDOWN_CLOSE_ALLOWANCE_MS = 2_000;

export interface ShutdownStep {
  /** What it does, for the log line when it does not finish, e.g. `close MongoDB client`. */
  name: string;
  run(): Promise<unknown>;
}

/** A shutdown that did not finish within its deadline, or whose steps failed. */
export interface ShutdownIncomplete extends Error {
  type: 'SHUTDOWN_INCOMPLETE';
  /** Steps still running at the deadline, then those never started. */
  unfinished: string[];
  /** Steps that threw, with their error's message. */
  failed: { step: string; error: string }[];
}

export function isShutdownIncomplete(err: unknown): err is ShutdownIncomplete {
  return (err as { type?: unknown } | null)?.type === 'SHUTDOWN_INCOMPLETE';
}

/** Runs the steps in order until `deadlineMs` from now; throws a ShutdownIncomplete if not all finished cleanly. */
export async function runShutdownSteps(steps: readonly ShutdownStep[], deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  const failed: ShutdownIncomplete['failed'] = [];
  for (const [i, step] of steps.entries()) {
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<'out of time'>((resolve) => {
      timer = setTimeout(() => resolve('out of time'), Math.max(0, deadline - Date.now()));
      timer.unref();
    });
    const outcome = await Promise.race([
      step.run().then(
        () => 'done' as const,
        (err: unknown) => {
          failed.push({ step: step.name, error: err instanceof Error ? err.message : String(err) });
          return 'failed' as const;
        },
      ),
      outOfTime,
    ]);
    clearTimeout(timer);
    if (outcome === 'out of time')
      throw incomplete(
        steps.slice(i).map((s) => s.name),
        failed,
      );
  }
  if (failed.length > 0) throw incomplete([], failed);
}

function incomplete(unfinished: string[], failed: ShutdownIncomplete['failed']): ShutdownIncomplete {
  const what = [
    unfinished.length > 0 ? `did not finish in time: ${unfinished.join(', ')}` : '',
    failed.length > 0 ? `failed: ${failed.map((f) => `${f.step} (${f.error})`).join(', ')}` : '',
  ].filter(Boolean);
  return Object.assign(new Error(`shutdown incomplete; ${what.join('; ')}`), {
    type: 'SHUTDOWN_INCOMPLETE' as const,
    unfinished,
    failed,
  });
}
