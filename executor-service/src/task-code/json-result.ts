/**
 * Checks that a handler's result is JSON before it goes to the store: a BigInt, a cycle, a
 * function or a symbol (anywhere in it), or a toJSON/getter that throws fails the task with
 * RESULT_NOT_JSON instead of reaching the store as garbage. `undefined` is recorded as null.
 */
import type { TaskError } from '@tasks/contracts';
import { capText, describeValue, MAX_ERROR_MESSAGE } from './thrown-value.js';

export type JsonResult = { ok: true; value: unknown } | { ok: false; error: TaskError };

export function toJsonResult(result: unknown): JsonResult {
  if (result === undefined) return { ok: true, value: null };
  let problem: string | undefined;
  let text: string | undefined;
  try {
    // The replacer sees the values JSON.stringify would drop silently (functions, symbols).
    text = JSON.stringify(result, (key, value: unknown) => {
      const t = typeof value;
      if (t === 'bigint' || t === 'function' || t === 'symbol') {
        problem ??= `${key === '' ? 'it is' : `"${capText(key, 100)}" holds`} ${t === 'bigint' ? 'a BigInt' : t === 'function' ? 'a function' : 'a symbol'}`;
        return null;
      }
      return value;
    });
  } catch (err) {
    // Cycles, a toJSON or a getter that throws.
    problem ??= err instanceof Error ? err.message.split('\n')[0] : describeValue(err);
  }
  if (problem === undefined && text === undefined) problem = 'it has no JSON form';
  if (problem !== undefined || text === undefined)
    return {
      ok: false,
      error: {
        code: 'RESULT_NOT_JSON',
        message: capText(`the handler's result is not JSON: ${problem ?? 'unknown'}`, MAX_ERROR_MESSAGE),
        retryable: false,
      },
    };
  return { ok: true, value: JSON.parse(text) as unknown };
}
