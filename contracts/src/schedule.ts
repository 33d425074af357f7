/**
 * Schedules: a cron expression that creates an ordinary task at each tick (docs/schedules.md).
 * What creates or edits one (CreateScheduleParams, UpdateScheduleParams) is with the other params
 * in methods.ts.
 */
import type { TaskError, TaskKind } from './task.js';

/** `skip`: a tick whose previous task has not ended yet creates nothing (counted in `skipped`). */
export const OVERLAP_POLICIES = ['skip', 'allow'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export const SCHEDULE_DEFAULTS = {
  timezone: 'UTC',
  overlap: 'skip',
} as const satisfies { timezone: string; overlap: OverlapPolicy };

export const SCHEDULE_LIMITS = {
  /** Missed ticks up to this old all fire; of older ones only the latest does (docs/schedules.md). */
  catchUpMs: 60_000,
} as const;

/** The idempotency key of the task a tick creates: one task per schedule and tick, however many stores fire it. */
export function scheduleTickKey(scheduleId: string, tick: Date): string {
  return `schedule:${scheduleId}:${tick.toISOString()}`;
}

/** The task a schedule creates at each tick: the options of `tasks.create` but its times and key. */
export interface ScheduleTaskSpec {
  type: string;
  kind?: TaskKind;
  payload?: unknown;
  priority?: number;
  maxAttempts?: number;
  timeoutMs?: number;
}

export interface Schedule {
  id: string;
  name: string;
  /** Five fields, or six with seconds first (every ten seconds: `0/10 * * * * *`). */
  cron: string;
  /** IANA name the cron is read in (default UTC). */
  timezone: string;
  task: ScheduleTaskSpec;
  overlap: OverlapPolicy;
  paused: boolean;
  /** The next tick that will fire; null while paused, or when the cron has no more ticks. */
  nextRunAt: string | null;
  /** The last tick that created a task, and that task. */
  lastRunAt: string | null;
  lastTaskId: string | null;
  /** Ticks skipped because the previous task was still running (overlap `skip`), and the last one. */
  skipped: number;
  lastSkippedAt: string | null;
  /** Why the last tick that created no task did not: its type no longer registered, its payload refused. */
  lastError: TaskError | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}
