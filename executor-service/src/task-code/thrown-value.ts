/**
 * Turns whatever task code threw (an Error, a string, null, an object with odd fields, a Proxy or
 * getters that throw) into a TaskError the store accepts. Never throws itself.
 */
import type { TaskError } from '@tasks/contracts';

/** Longest error message recorded; the store accepts up to 10,000 characters. */
export const MAX_ERROR_MESSAGE = 2_000;
const CODE = /^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Reads `obj[key]`, or undefined when reading it throws (a getter, a Proxy trap). */
function field(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** A capped, well-formed string; never throws. */
export function capText(text: string, max: number): string {
  const cut = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  // A cut between the halves of a surrogate pair leaves half of it: replace lone halves.
  return cut.replace(LONE_SURROGATE, '\uFFFD');
}

/** A short description of any value, for messages; never throws. */
export function describeValue(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(capText(value, MAX_ERROR_MESSAGE));
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value === 'symbol' || typeof value === 'number' || typeof value === 'boolean')
      return String(value);
    if (value === null || value === undefined) return String(value);
    if (typeof value === 'function') return 'a function';
    return `an object (${Object.prototype.toString.call(value)})`;
  } catch {
    return 'a value that cannot be described';
  }
}

/** The TaskError for a thrown value; `retryable` is false only when the value says so. */
export function toTaskError(thrown: unknown): TaskError {
  if (typeof thrown !== 'object' || thrown === null) {
    return {
      code: 'NON_ERROR_THROWN',
      message: capText(`task code threw ${describeValue(thrown)}, not an Error`, MAX_ERROR_MESSAGE),
      retryable: true,
    };
  }
  let isError = false;
  try {
    isError = thrown instanceof Error;
  } catch {
    // A Proxy whose getPrototypeOf trap throws.
  }
  const code = field(thrown, 'code');
  const message = field(thrown, 'message');
  return {
    code: typeof code === 'string' && CODE.test(code) ? code : isError ? 'TASK_ERROR' : 'NON_ERROR_THROWN',
    message: capText(
      typeof message === 'string'
        ? message
        : `task code threw ${describeValue(thrown)}${isError ? ' without a message' : ', not an Error'}`,
      MAX_ERROR_MESSAGE,
    ),
    retryable: field(thrown, 'retryable') !== false,
  };
}
