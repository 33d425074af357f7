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
  /** How long a finished task of the type is kept (docs/retention.md); null: the store's default. */
  retentionSeconds: number | null;
  /** The retention that applies, and whether it is the type's own or the store's default. */
  retention: EffectiveRetention;
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

/** The retention that applies to a type's finished tasks (docs/retention.md). */
export interface EffectiveRetention {
  seconds: number;
  source: 'type' | 'default';
}

/** The store's retention defaults, as taskTypes.list answers them (docs/retention.md). */
export interface RetentionDefaults {
  /** Finished tasks of a type without its own retentionSeconds are removed this long after they ended. */
  defaultSeconds: number;
  /** An idempotency key older than this is treated as absent, and removed. */
  idempotencyKeyTtlSeconds: number;
}

/** Bounds of a retention (a type's setting and the store's default): 1 s to 10 years (365-day years). */
export const RETENTION_BOUNDS = { minSeconds: 1, maxSeconds: 315_360_000 } as const;
