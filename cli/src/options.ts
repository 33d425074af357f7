/**
 * Argument parsers. Each throws commander's InvalidArgumentError, so a bad value is reported
 * like any other usage error (exit 2) before anything is sent.
 */
import { InvalidArgumentError } from 'commander';
import {
  PRIORITY_RANGE,
  RETENTION_BOUNDS,
  TASK_DETAIL_FIELDS,
  TASK_LABEL_LIMITS,
  type TaskDetailField,
} from '@tasks/contracts';
import { UsageError } from './exit-codes.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('must be a positive integer.');
  }
  return Number(value);
}

/** A task priority: an integer 0..9, 9 the most urgent (refused here rather than by the gateway). */
export function parsePriority(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= PRIORITY_RANGE.min && n <= PRIORITY_RANGE.max)) {
    throw new InvalidArgumentError(`must be an integer from ${PRIORITY_RANGE.min} to ${PRIORITY_RANGE.max}.`);
  }
  return n;
}

/** "1500" (milliseconds), "500ms", "30s", "5m", "2h", "7d" → milliseconds. */
export function parseDuration(value: string): number {
  if (/^\d+$/.test(value)) return parseNonNegative(Number(value));
  const m = DURATION.exec(value);
  if (!m) throw new InvalidArgumentError('must be a duration such as 1500, 500ms, 30s, 5m, 2h or 7d.');
  return parseNonNegative(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

/** A duration of at least 1ms (a timeout of 0 would fail every call). */
export function parsePositiveDuration(value: string): number {
  const ms = parseDuration(value);
  if (ms < 1) throw new InvalidArgumentError('must be at least 1ms.');
  return ms;
}

function parseNonNegative(ms: number): number {
  if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError('is too large.');
  return ms;
}

/**
 * An ISO-8601 time, or a duration meaning "that long ago" (30m, 2h, 7d) → ISO-8601 in UTC.
 * A bare number is refused: seconds, milliseconds or a year would all be plausible readings.
 */
export function parseTime(value: string, now: number = Date.now()): string {
  const m = DURATION.exec(value);
  if (m) return new Date(now - Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]).toISOString();
  const t = /^\d+$/.test(value) ? NaN : Date.parse(value);
  if (Number.isNaN(t)) {
    throw new InvalidArgumentError(
      'must be an ISO-8601 time (2026-11-28T14:00:00Z) or an age such as 30m, 2h, 7d.',
    );
  }
  return new Date(t).toISOString();
}

/** An ISO-8601 time (a moment, not an age: for deadlines) → ISO-8601 in UTC. */
export function parseInstant(value: string): string {
  const t = /^\d+$/.test(value) ? NaN : Date.parse(value);
  if (Number.isNaN(t))
    throw new InvalidArgumentError('must be an ISO-8601 time such as 2026-11-28T14:00:00Z.');
  return new Date(t).toISOString();
}

/**
 * A limit to set, or 'none' to lift it. Not null: commander turns an option parsed to null
 * into `true`.
 */
export type LimitArg = number | 'none';

/** "none", or a positive integer. */
export function parseConcurrencyLimit(value: string): LimitArg {
  return value === 'none' ? value : parsePositiveInt(value);
}

/** "none", or a positive number of starts per second (0.5, 20). */
export function parseRateLimit(value: string): LimitArg {
  if (value === 'none') return value;
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value) || Number(value) <= 0) {
    throw new InvalidArgumentError('must be a positive number of starts per second (0.5, 20) or none.');
  }
  return Number(value);
}

/** An option wins over the environment; an empty value counts as unset. */
export function resolveSecret(option: string | undefined, env: string | undefined): string | undefined {
  return option || env || undefined;
}

export function parseJsonValue(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw new InvalidArgumentError(
      `is not valid JSON (${err instanceof Error ? err.message : String(err)}).`,
    );
  }
}

/** An http(s) URL, from an option or the environment. */
export function checkUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name} is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${name} must be an http or https URL: ${value}`);
  }
  return value;
}

/** "payload,history" → the detail fields a list should include; an unknown name is a usage error. */
export function parseFields(value: string): TaskDetailField[] {
  const fields: TaskDetailField[] = [];
  for (const name of value.split(',')) {
    const field = TASK_DETAIL_FIELDS.find((f) => f === name.trim());
    if (!field)
      throw new InvalidArgumentError(`must be a comma-separated list of ${TASK_DETAIL_FIELDS.join(', ')}.`);
    if (!fields.includes(field)) fields.push(field);
  }
  return fields;
}

/** A repeatable `--tag`: each one checked as the store checks it (TASK_LABEL_LIMITS), all kept. */
export function collectTag(value: string, previous: string[] = []): string[] {
  if (!new RegExp(TASK_LABEL_LIMITS.tagPattern).test(value)) {
    throw new InvalidArgumentError('must be 1-64 characters of letters, digits and _ . : / @ + -');
  }
  return previous.includes(value) ? previous : [...previous, value];
}

/** A repeatable `--meta key=value` (the first `=` ends the key). */
export function collectMeta(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  const key = eq < 0 ? '' : value.slice(0, eq);
  if (!new RegExp(TASK_LABEL_LIMITS.metadataKeyPattern).test(key)) {
    throw new InvalidArgumentError('must be key=value, the key 1-64 letters, digits, _ or -.');
  }
  return { ...previous, [key]: value.slice(eq + 1) };
}

/** "default", or whole seconds within RETENTION_BOUNDS (docs/retention.md). */
export function parseRetention(value: string): number | 'default' {
  if (value === 'default') return value;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < RETENTION_BOUNDS.minSeconds || n > RETENTION_BOUNDS.maxSeconds) {
    throw new InvalidArgumentError(
      `must be whole seconds from ${RETENTION_BOUNDS.minSeconds} to ${RETENTION_BOUNDS.maxSeconds}, or default.`,
    );
  }
  return n;
}
