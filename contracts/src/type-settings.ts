/**
 * What an operator sets per task type at run time (docs/flow-control.md): pause, and limits that
 * hold across every executor. All of it lives in the store; executors learn it from their claims.
 */

export interface TypeLimits {
  /** At most this many tasks of the type running at once, in the whole system; null: no limit. */
  concurrency: number | null;
  /** At most this many starts per second (with a burst of `rateBurst(ratePerSecond)`); null: no limit. */
  ratePerSecond: number | null;
}

export interface TypeSettings extends TypeLimits {
  type: string;
  /** While paused, no task of the type starts; running ones finish, queued ones wait. */
  paused: boolean;
  /** When an operator last changed them (null: never). */
  updatedAt: string | null;
  updatedBy: string | null;
}

/** Why a queued task waits although it is due (Task.heldBy). */
export const HOLD_REASONS = ['paused', 'concurrency'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

export const TYPE_LIMIT_BOUNDS = {
  maxConcurrency: 10_000,
  minRatePerSecond: 0.01,
  maxRatePerSecond: 10_000,
} as const;

/**
 * How many starts may follow each other at once after the type was idle: one second's worth,
 * at least one. Over any T seconds, at most rateBurst + ratePerSecond × (T + 1) tasks start (docs/flow-control.md).
 */
export function rateBurst(ratePerSecond: number): number {
  return Math.max(1, Math.ceil(ratePerSecond));
}

/** The error code of a task that was not started by its `expiresAt`. */
export const EXPIRED = 'EXPIRED';
