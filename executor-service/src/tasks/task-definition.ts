/**
 * The task module format. A module (built-in, or a file in TASKS_DIR) default-exports one
 * TaskDefinition, or an array of them. `cpu` handlers run inside a Piscina worker thread, so a
 * cpu module must be importable on its own (no shared state with the main thread).
 */
import type { DependencyResults, TaskKind } from '@tasks/contracts';

export interface TaskContext {
  /** Aborted on timeout, cancellation or shutdown; `signal.reason` says which. */
  signal: AbortSignal;
  /** Report progress (0..100) and an optional message; sent with the next heartbeat. */
  progress(percent: number, message?: string): void;
  /** Hosts the http.request task may reach despite the SSRF rules (HTTP_ALLOW_HOSTS). */
  allowHosts: readonly string[];
  /**
   * A flow node's dependencies, by node key: how each ended and its result (docs/flows.md).
   * An empty object for a node without dependencies and for a task outside any flow.
   */
  dependencies: DependencyResults;
}

export interface TaskDefinition<P = unknown, R = unknown> {
  type: string;
  kind: TaskKind;
  description?: string;
  payloadSchema: Record<string, unknown>;
  /**
   * The payload schema registered with the store, when it depends on the executor's settings
   * (http.request refuses internal hosts at submit unless HTTP_ALLOW_HOSTS lists them).
   */
  registeredPayloadSchema?(settings: { allowHosts: readonly string[] }): Record<string, unknown>;
  resultSchema?: Record<string, unknown>;
  timeoutMs: number;
  maxAttempts: number;
  handler(payload: P, ctx: TaskContext): Promise<R> | R;
}

/** Identity helper that gives a module's definition its types. */
export function defineTask<P, R>(def: TaskDefinition<P, R>): TaskDefinition<P, R> {
  return def;
}

/**
 * Throw this (or any error with `retryable: false`) to fail a task without further attempts.
 * Recognised by its fields, not its class, since it crosses worker threads.
 */
export class TaskFailure extends Error {
  readonly retryable: boolean;
  readonly code: string;
  constructor(code: string, message: string, options: { retryable?: boolean } = {}) {
    super(message);
    this.name = 'TaskFailure';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}
