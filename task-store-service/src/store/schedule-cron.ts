/**
 * Cron expressions (croner): five fields, or six with seconds first, read in an IANA time zone;
 * and which ticks of a schedule are due (docs/schedules.md, "Missed ticks").
 */
import { Cron } from 'croner';
import { SCHEDULE_LIMITS } from '@tasks/contracts';
import { AppError } from '../app-error.js';

/** A parsed cron that never runs by itself: the schedule keeper asks it for ticks. */
export function parseCron(cron: string, timezone: string): Cron {
  try {
    // Throws a RangeError naming no field: checked apart, so the refusal names the timezone.
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw invalid('/timezone', `unknown time zone "${timezone}" (an IANA name such as Europe/Berlin)`);
  }
  let parsed: Cron;
  try {
    parsed = new Cron(cron, { timezone, paused: true, mode: '5-or-6-parts' });
  } catch (err) {
    throw invalid('/cron', err instanceof Error ? err.message : String(err));
  }
  if (parsed.nextRun() === null) throw invalid('/cron', 'has no tick in the future');
  return parsed;
}

function invalid(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${path.slice(1)} is invalid: ${message}`, {
    fields: [{ path, message }],
  });
}

/**
 * The ticks after `from` and at or before `now` that fire, oldest first: every one of the last
 * SCHEDULE_LIMITS.catchUpMs, and before that only the latest (after downtime, a schedule fires
 * once for what it missed, not once per missed tick).
 */
export function dueTicks(cron: Cron, from: Date, now: Date): Date[] {
  const ticks: Date[] = [];
  let start = from;
  const catchUpFrom = new Date(now.getTime() - SCHEDULE_LIMITS.catchUpMs);
  if (from < catchUpFrom) {
    const [latestMissed] = cron.previousRuns(1, new Date(catchUpFrom.getTime() + 1));
    if (latestMissed && latestMissed > from) ticks.push(latestMissed);
    start = catchUpFrom;
  }
  for (let t = cron.nextRun(start); t !== null && t <= now; t = cron.nextRun(t)) ticks.push(t);
  return ticks;
}

/** The tick that fires next: a due one if any, else the first after now. */
export function nextTick(cron: Cron, from: Date, now: Date): Date | null {
  return dueTicks(cron, from, now)[0] ?? cron.nextRun(from > now ? from : now);
}
