/** `tasksctl schedule list|get|create|pause|resume|delete`: cron schedules, through the store. */
import {
  ERRORS,
  StoreError,
  type CreateScheduleParams,
  type OverlapPolicy,
  type Schedule,
} from '@tasks/contracts';
import type { StoreCaller, Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { clean, formatTime, renderTable, toJson } from '../format.js';

export async function listSchedules(
  client: StoreCaller,
  args: { json: boolean },
  out: Writer,
): Promise<ExitCode> {
  const { items } = await client.call('schedules.list', {});
  if (args.json) out.write(toJson({ items }));
  else out.write(items.length > 0 ? renderScheduleTable(items) : 'no schedules\n');
  return EXIT.ok;
}

export function renderScheduleTable(schedules: readonly Schedule[], now: number = Date.now()): string {
  return renderTable(
    [
      { header: 'id' },
      { header: 'name' },
      { header: 'cron' },
      { header: 'timezone' },
      { header: 'task type' },
      { header: 'state' },
      { header: 'next run' },
      { header: 'last run' },
    ],
    schedules.map((s) => [
      s.id,
      s.name,
      s.cron,
      s.timezone,
      s.task.type,
      s.paused ? 'paused' : 'active',
      formatTime(s.nextRunAt, now),
      formatTime(s.lastRunAt, now),
    ]),
  );
}

/** One `field: value` line each: a schedule has too many fields for one header line. */
export function renderSchedule(s: Schedule, now: number = Date.now()): string {
  const lines: [string, string][] = [
    ['schedule', s.id],
    ['name', s.name],
    ['cron', `${s.cron} (${s.timezone})`],
    ['task', `${s.task.type} ${JSON.stringify(s.task.payload ?? {})}`],
    ['overlap', s.overlap],
    ['state', s.paused ? 'paused' : 'active'],
    ['next run', formatTime(s.nextRunAt, now)],
    ['last run', formatTime(s.lastRunAt, now)],
    ['last task', s.lastTaskId ?? '-'],
    ['skipped', s.skipped > 0 ? `${s.skipped}, last ${formatTime(s.lastSkippedAt, now)}` : '0'],
  ];
  if (s.lastError) lines.push(['last error', `${s.lastError.code}: ${s.lastError.message}`]);
  return lines.map(([k, v]) => clean(`${k}: ${v}`)).join('\n') + '\n';
}

const show = (s: Schedule, json: boolean, out: Writer): ExitCode => {
  out.write(json ? toJson(s) : renderSchedule(s));
  return EXIT.ok;
};

export async function getSchedule(
  client: StoreCaller,
  args: { id: string; json: boolean },
  out: Writer,
): Promise<ExitCode> {
  return show(await client.call('schedules.get', { id: args.id }), args.json, out);
}

export interface ScheduleCreateArgs {
  name: string;
  cron: string;
  type: string;
  payload?: unknown;
  timezone?: string;
  overlap?: OverlapPolicy;
  priority?: number;
  maxAttempts?: number;
  paused?: boolean;
  json: boolean;
}

export async function createSchedule(
  client: StoreCaller,
  args: ScheduleCreateArgs,
  out: Writer,
): Promise<ExitCode> {
  const params: CreateScheduleParams = {
    name: args.name,
    cron: args.cron,
    task: {
      type: args.type,
      ...(args.payload !== undefined && { payload: args.payload }),
      ...(args.priority !== undefined && { priority: args.priority }),
      ...(args.maxAttempts !== undefined && { maxAttempts: args.maxAttempts }),
    },
    ...(args.timezone !== undefined && { timezone: args.timezone }),
    ...(args.overlap !== undefined && { overlap: args.overlap }),
    ...(args.paused === true && { paused: true }),
  };
  return show(await client.call('schedules.create', params), args.json, out);
}

/** Pause or resume; repeating either is harmless. */
export async function setPaused(
  client: StoreCaller,
  args: { id: string; paused: boolean; json: boolean },
  out: Writer,
): Promise<ExitCode> {
  const s = await client.call('schedules.update', { id: args.id, paused: args.paused });
  if (args.json) out.write(toJson(s));
  else
    out.write(
      clean(`schedule ${s.id} is ${s.paused ? 'paused' : `active, next run ${formatTime(s.nextRunAt)}`}`) +
        '\n',
    );
  return EXIT.ok;
}

export async function deleteSchedule(
  client: StoreCaller,
  args: { id: string },
  out: Writer,
): Promise<ExitCode> {
  const { deleted } = await client.call('schedules.delete', { id: args.id });
  if (!deleted) {
    throw new StoreError(ERRORS.SCHEDULE_NOT_FOUND.code, `no schedule with id ${args.id}`, {
      type: 'SCHEDULE_NOT_FOUND',
    });
  }
  out.write(clean(`schedule ${args.id} deleted; the tasks it created stay`) + '\n');
  return EXIT.ok;
}
