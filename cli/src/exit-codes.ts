/**
 * Exit codes scripts can rely on, and the one-line error report. Errors are recognised by their
 * `type` from the contracts error table (transport failures arrive as DEPENDENCY_UNAVAILABLE).
 */
import { isStoreError, type ErrorType } from '@tasks/contracts';
import { clean } from './format.js';

export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  unavailable: 5,
  unauthorized: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_TYPE: Partial<Record<ErrorType, ExitCode>> = {
  VALIDATION_FAILED: EXIT.usage,
  UNKNOWN_TASK_TYPE: EXIT.usage,
  PAYLOAD_INVALID: EXIT.usage,
  PAYLOAD_TOO_LARGE: EXIT.usage,
  TASK_NOT_FOUND: EXIT.notFound,
  FLOW_NOT_FOUND: EXIT.notFound,
  TASK_TYPE_NOT_FOUND: EXIT.notFound,
  SCHEDULE_NOT_FOUND: EXIT.notFound,
  INVALID_TRANSITION: EXIT.conflict,
  IDEMPOTENCY_CONFLICT: EXIT.conflict,
  LEASE_LOST: EXIT.conflict,
  TASK_NOT_DUE: EXIT.conflict,
  TYPE_KIND_MISMATCH: EXIT.conflict,
  DEPENDENCY_UNAVAILABLE: EXIT.unavailable,
  BUSY: EXIT.unavailable,
  RATE_LIMITED: EXIT.unavailable,
  UNAUTHORIZED: EXIT.unauthorized,
};

/** Shown at the end of `tasksctl --help`. */
export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  unexpected error
  2  usage error: bad arguments or JSON, or refused by validation (VALIDATION_FAILED,
     UNKNOWN_TASK_TYPE, PAYLOAD_INVALID, PAYLOAD_TOO_LARGE)
  3  not found (TASK_NOT_FOUND, FLOW_NOT_FOUND, TASK_TYPE_NOT_FOUND, SCHEDULE_NOT_FOUND)
  4  conflict with the task's state (INVALID_TRANSITION, IDEMPOTENCY_CONFLICT, LEASE_LOST,
     TASK_NOT_DUE, TYPE_KIND_MISMATCH)
  5  unreachable or unavailable, try again later (transport failure, DEPENDENCY_UNAVAILABLE,
     BUSY, RATE_LIMITED)
  6  unauthorized (UNAUTHORIZED: set --token / RPC_TOKEN, or --api-key / TASKS_API_KEY)
Errors go to stderr as one line: tasksctl: <TYPE>: <message>`;

/** A bad argument found after parsing (an invalid --url, say). Recognised by name. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function isUsageError(err: unknown): err is UsageError {
  return (err as { name?: unknown } | null)?.name === 'UsageError';
}

export function exitCodeFor(err: unknown): ExitCode {
  if (isUsageError(err)) return EXIT.usage;
  if (isStoreError(err)) return BY_TYPE[err.type] ?? EXIT.error;
  return EXIT.error;
}

/** `tasksctl: <TYPE>: <message>`, with the current status of a conflict and the failing fields. */
export function errorLine(err: unknown): string {
  if (isUsageError(err)) return line('USAGE', err.message);
  if (isStoreError(err)) {
    let message = err.message;
    const status = err.data?.status;
    if (typeof status === 'string') message += ` (current status: ${status})`;
    const fields = err.data?.fields;
    if (Array.isArray(fields) && fields.length > 0) {
      message += `: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`;
    }
    return line(err.type, message);
  }
  return line('INTERNAL', err instanceof Error ? err.message : String(err));
}

/** Turns commander's "error: …" text into the same one-line form. */
export function usageLine(text: string): string {
  return line('USAGE', `${text.replace(/^error:\s*/, '')} (see --help)`);
}

function line(type: string, message: string): string {
  return `tasksctl: ${type}: ${clean(message).replace(/\s+/g, ' ').trim()}\n`;
}
