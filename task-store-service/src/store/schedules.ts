/**
 * schedules.create, get, list, update and delete (docs/schedules.md). The keepers that fire them
 * are in schedule-keeper.ts.
 */
import { randomUUID } from 'node:crypto';
import {
  SCHEDULE_DEFAULTS,
  type CreateScheduleParams,
  type Schedule,
  type ScheduleTaskSpec,
  type UpdateScheduleParams,
} from '@tasks/contracts';
import { AppError } from '../app-error.js';
import type { Collections } from './collections.js';
import type { ScheduleDoc, ScheduleRunDoc } from './documents.js';
import { nextTick, parseCron } from './schedule-cron.js';
import { buildTask, type StoreContext } from './task-creation.js';

/** How often an edit is tried again when another edit of the same schedule came first. */
const EDIT_ATTEMPTS = 3;

export function taskSpecOf(doc: ScheduleDoc): ScheduleTaskSpec {
  return JSON.parse(doc.taskJson) as ScheduleTaskSpec;
}

export function scheduleToWire(doc: ScheduleDoc, run: ScheduleRunDoc | null, now = new Date()): Schedule {
  const from = run && run.lastTick > doc.since ? run.lastTick : doc.since;
  const next = doc.paused ? null : nextTick(parseCron(doc.cron, doc.timezone), from, now);
  const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
  return {
    id: doc._id,
    name: doc.name,
    cron: doc.cron,
    timezone: doc.timezone,
    task: taskSpecOf(doc),
    overlap: doc.overlap,
    paused: doc.paused,
    nextRunAt: iso(next),
    lastRunAt: iso(run?.lastRunAt),
    lastTaskId: run?.lastTaskId ?? null,
    skipped: run?.skipped ?? 0,
    lastSkippedAt: iso(run?.lastSkippedAt),
    lastError: run?.lastError ?? null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    version: doc.version,
  };
}

/** Refuses what the schedule's ticks could not create: a bad cron or timezone, type or payload. */
async function check(ctx: StoreContext, doc: ScheduleDoc, now: Date): Promise<void> {
  parseCron(doc.cron, doc.timezone);
  await buildTask(ctx, taskSpecOf(doc), now, '/task');
}

export async function createSchedule(ctx: StoreContext, p: CreateScheduleParams): Promise<Schedule> {
  const now = new Date();
  const doc: ScheduleDoc = {
    _id: randomUUID(),
    name: p.name,
    cron: p.cron,
    timezone: p.timezone ?? SCHEDULE_DEFAULTS.timezone,
    taskJson: JSON.stringify(p.task),
    overlap: p.overlap ?? SCHEDULE_DEFAULTS.overlap,
    paused: p.paused ?? false,
    since: now,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  await check(ctx, doc, now);
  await ctx.collections.schedules.insertOne(doc);
  return scheduleToWire(doc, null, now);
}

async function findSchedule(collections: Collections, id: string): Promise<ScheduleDoc> {
  const doc = await collections.schedules.findOne({ _id: id });
  if (!doc) throw new AppError('SCHEDULE_NOT_FOUND', `no schedule with id ${id}`, { id });
  return doc;
}

export async function getSchedule(collections: Collections, id: string): Promise<Schedule> {
  const doc = await findSchedule(collections, id);
  return scheduleToWire(doc, await collections.scheduleRuns.findOne({ _id: id }));
}

export async function listSchedules(collections: Collections): Promise<Schedule[]> {
  const [docs, runs] = await Promise.all([
    collections.schedules.find({}).toArray(),
    collections.scheduleRuns.find({}).toArray(),
  ]);
  const runOf = new Map(runs.map((r) => [r._id, r]));
  const now = new Date();
  return docs
    .sort((a, b) => a.name.localeCompare(b.name) || a._id.localeCompare(b._id))
    .map((d) => scheduleToWire(d, runOf.get(d._id) ?? null, now));
}

/**
 * A new cron or timezone, and a resume, count ticks from now (`since`): the ticks of the old cron,
 * or those passed while paused, never fire.
 */
export async function updateSchedule(ctx: StoreContext, p: UpdateScheduleParams): Promise<Schedule> {
  const { id, task, ...fields } = p;
  for (let attempt = 1; ; attempt++) {
    const prev = await findSchedule(ctx.collections, id);
    const now = new Date();
    const next: ScheduleDoc = {
      ...prev,
      ...fields,
      ...(task !== undefined && { taskJson: JSON.stringify(task) }),
      version: prev.version + 1,
      updatedAt: now,
    };
    const retimed = next.cron !== prev.cron || next.timezone !== prev.timezone;
    if (retimed || (prev.paused && !next.paused)) next.since = now;
    await check(ctx, next, now);
    const r = await ctx.collections.schedules.replaceOne({ _id: id, version: prev.version }, next);
    if (r.matchedCount === 1)
      return scheduleToWire(next, await ctx.collections.scheduleRuns.findOne({ _id: id }), now);
    if (attempt === EDIT_ATTEMPTS)
      throw new AppError('BUSY', `schedule ${id} is being changed; try again`, { id });
  }
}

export async function deleteSchedule(collections: Collections, id: string): Promise<boolean> {
  const r = await collections.schedules.deleteOne({ _id: id });
  await collections.scheduleRuns.deleteOne({ _id: id });
  return r.deletedCount > 0;
}
