/**
 * Fires schedules (docs/schedules.md). Every store runs it every second; each due tick creates its
 * task through the ordinary creation, with the idempotency key `schedule:<id>:<tick>`, so however
 * many stores see a tick, and however often one tries it again after a crash, it creates one task.
 * Nothing else needs to be exclusive: the run state the keepers write afterwards only saves them
 * from trying ticks again.
 */
import { scheduleTickKey, TERMINAL_STATUSES, type ErrorType, type TaskError } from '@tasks/contracts';
import type { Logger } from 'pino';
import { isAppError, isDuplicateKey } from '../app-error.js';
import type { ScheduleDoc, ScheduleRunDoc } from './documents.js';
import { dueTicks, parseCron } from './schedule-cron.js';
import { taskSpecOf } from './schedules.js';
import { createTask, type StoreContext } from './task-creation.js';

/** A run state without a schedule this long (deleted while a keeper fired it) is removed. */
const ORPHAN_RUN_MS = 60_000;

/** Refusals that no later attempt of the same tick would escape: recorded, and the tick passes. */
const REFUSALS: ReadonlySet<ErrorType> = new Set<ErrorType>([
  'UNKNOWN_TASK_TYPE',
  'TYPE_KIND_MISMATCH',
  'PAYLOAD_INVALID',
  'VALIDATION_FAILED',
]);

export type TickOutcome = 'created' | 'existing' | 'skipped' | 'refused';

export interface KeeperOptions {
  log: Logger;
  /** The pass's clock (tests set it). */
  now?: Date;
  /** Told of each tick handled (the store counts them in task_store_schedule_ticks_total). */
  onTick?: (outcome: TickOutcome) => void;
}

/** One pass over every schedule; returns how many tasks it created. */
export async function fireDueSchedules(ctx: StoreContext, options: KeeperOptions): Promise<number> {
  const { log, now = new Date(), onTick = () => undefined } = options;
  const schedules = await ctx.collections.schedules.find({}).toArray();
  const active = schedules.filter((s) => !s.paused);
  // Without an active schedule a pass is this one read. (A run state a delete raced with waits
  // for a pass with one: a small document.)
  if (active.length === 0) return 0;
  const runs = await ctx.collections.scheduleRuns.find({}).toArray();
  const runOf = new Map(runs.map((r) => [r._id, r]));
  let created = 0;
  for (const schedule of active) {
    // One schedule that fails (the database refused a write, say) must not hold back the others.
    try {
      created += await keep(ctx, schedule, runOf.get(schedule._id) ?? null, now, log, onTick);
    } catch (err) {
      log.warn(
        { err, scheduleId: schedule._id },
        'schedule keeper could not fire a schedule; it tries again',
      );
    }
  }
  const ids = new Set(schedules.map((s) => s._id));
  for (const run of runs) {
    if (!ids.has(run._id) && now.getTime() - run.updatedAt.getTime() > ORPHAN_RUN_MS)
      await ctx.collections.scheduleRuns.deleteOne({ _id: run._id, version: run.version });
  }
  return created;
}

async function keep(
  ctx: StoreContext,
  schedule: ScheduleDoc,
  run: ScheduleRunDoc | null,
  now: Date,
  log: Logger,
  onTick: (outcome: TickOutcome) => void,
): Promise<number> {
  const from = run && run.lastTick > schedule.since ? run.lastTick : schedule.since;
  const ticks = dueTicks(parseCron(schedule.cron, schedule.timezone), from, now);
  if (ticks.length === 0) return 0;
  const state: Omit<ScheduleRunDoc, 'version' | 'updatedAt'> = run ?? {
    _id: schedule._id,
    lastTick: from,
    lastRunAt: null,
    lastTaskId: null,
    skipped: 0,
    lastSkippedAt: null,
    lastError: null,
  };
  let created = 0;
  for (const tick of ticks) {
    if (schedule.overlap === 'skip' && state.lastTaskId !== null && (await running(ctx, state.lastTaskId))) {
      state.skipped++;
      state.lastSkippedAt = tick;
      onTick('skipped');
      log.info({ scheduleId: schedule._id, tick, running: state.lastTaskId }, 'schedule tick skipped');
    } else {
      const outcome = await fire(ctx, schedule, tick);
      if ('error' in outcome) {
        state.lastError = outcome.error;
        onTick('refused');
        log.warn({ scheduleId: schedule._id, tick, error: outcome.error }, 'schedule tick refused');
      } else {
        state.lastRunAt = tick;
        state.lastTaskId = outcome.taskId;
        state.lastError = null;
        if (outcome.created) created++;
        onTick(outcome.created ? 'created' : 'existing');
      }
    }
    state.lastTick = tick;
  }
  const doc: ScheduleRunDoc = { ...state, version: (run?.version ?? 0) + 1, updatedAt: now };
  // A lost race (another store wrote first) is harmless: that store handled the same ticks.
  if (run === null) await ctx.collections.scheduleRuns.insertOne(doc).catch(ignoreDuplicate);
  else await ctx.collections.scheduleRuns.replaceOne({ _id: run._id, version: run.version }, doc);
  return created;
}

/** Whether the task is still to end (a task that is gone has ended, for overlap). */
async function running(ctx: StoreContext, taskId: string): Promise<boolean> {
  const task = await ctx.collections.tasks.findOne({ _id: taskId }, { projection: { status: 1 } });
  return task !== null && !TERMINAL_STATUSES.includes(task.status);
}

type FireOutcome = { taskId: string; created: boolean } | { error: TaskError };

async function fire(ctx: StoreContext, schedule: ScheduleDoc, tick: Date): Promise<FireOutcome> {
  try {
    const { doc, created } = await createTask(ctx, {
      ...taskSpecOf(schedule),
      runAt: tick.toISOString(),
      idempotencyKey: scheduleTickKey(schedule._id, tick),
      scheduleId: schedule._id,
    });
    return { taskId: doc._id, created };
  } catch (err) {
    if (!isAppError(err)) throw err;
    // The tick fired already, before the schedule's task was edited: that task is its task.
    if (err.type === 'IDEMPOTENCY_CONFLICT' && typeof err.data.taskId === 'string')
      return { taskId: err.data.taskId, created: false };
    if (REFUSALS.has(err.type)) return { error: { code: err.type, message: err.message } };
    throw err;
  }
}

function ignoreDuplicate(err: unknown): void {
  if (!isDuplicateKey(err)) throw err;
}
