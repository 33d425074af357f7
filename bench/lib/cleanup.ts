/**
 * What must be undone if the run is interrupted (Ctrl-C, SIGTERM): each runner registers how to
 * stop what it started and unregisters once it has stopped it in the normal way.
 */
export class Cleanup {
  private readonly steps = new Set<() => Promise<unknown>>();

  add(step: () => Promise<unknown>): () => void {
    this.steps.add(step);
    return () => this.steps.delete(step);
  }

  /**
   * Runs every registered step, newest first; a failing step, or one that takes longer than
   * `stepTimeoutMs` (a server that hangs), does not stop the others.
   */
  async runAll(onError: (err: unknown) => void, stepTimeoutMs = 30_000): Promise<void> {
    for (const step of [...this.steps].reverse()) {
      this.steps.delete(step);
      await withTimeout(step(), stepTimeoutMs, 'cleanup step').catch(onError);
    }
  }
}

/** Rejects when `p` has not settled after `ms`; `p` itself keeps running. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
