/**
 * Checks what task code passes to `ctx.progress(percent, message)`: percent must be a finite
 * number (or a numeric string) and is clamped to 0..100, otherwise the call is ignored; a message
 * that is not a string is converted (numbers, booleans) or dropped, and capped. Never throws.
 */
import { capText } from './thrown-value.js';

/** The store keeps at most this many characters of a progress message. */
export const MAX_PROGRESS_MESSAGE = 500;

export interface ProgressValue {
  percent: number;
  message?: string;
}

/** A progress call, checked: the value to send (if any), and what was wrong with the call. */
export interface ProgressReport {
  progress?: ProgressValue;
  warning?: string;
}

function toPercent(raw: unknown): number | undefined {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  return Number.isFinite(n) ? Math.max(0, Math.min(100, n)) : undefined;
}

export function checkProgress(percent: unknown, message?: unknown): ProgressReport {
  const warnings: string[] = [];
  const p = toPercent(percent);
  if (p === undefined) return { warning: `percent is ${typeof percent}, not a finite number: call ignored` };
  if (p !== percent) warnings.push('percent coerced to a number in 0..100');
  let text: string | undefined;
  if (typeof message === 'string') text = message;
  else if (typeof message === 'number' || typeof message === 'boolean') {
    text = String(message);
    warnings.push(`message is a ${typeof message}, converted to a string`);
  } else if (message !== undefined && message !== null) {
    warnings.push(`message is ${typeof message === 'object' ? 'an object' : `a ${typeof message}`}: dropped`);
  }
  if (text !== undefined && text.length > MAX_PROGRESS_MESSAGE)
    warnings.push(`message capped at ${MAX_PROGRESS_MESSAGE} characters`);
  return {
    progress: { percent: p, ...(text !== undefined && { message: capText(text, MAX_PROGRESS_MESSAGE) }) },
    ...(warnings.length > 0 && { warning: warnings.join('; ') }),
  };
}
