import { ajvFieldErrors, createAjv, MAX_SCHEDULE_AHEAD_MS, type ValidateFunction } from '@tasks/contracts';
import { HttpProblem } from './middleware/problem-details.js';

const ajv = createAjv({ strict: true });
const cache = new WeakMap<object, ValidateFunction>();

/** Returns `value` typed as T when it matches `schema`; otherwise a 400 naming every failing field. */
export function validated<T>(schema: object, value: unknown, where: 'body' | 'query'): T {
  let validate = cache.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    cache.set(schema, validate);
  }
  if (!validate(value)) {
    throw new HttpProblem('VALIDATION_FAILED', `the request ${where} is invalid`, {
      fields: ajvFieldErrors(validate.errors, where === 'query' ? '?' : ''),
    });
  }
  return value as T;
}

/** runAt at most MAX_SCHEDULE_AHEAD_MS from now (a schema cannot say "from now"); a 400 naming each field. */
export function checkScheduleBound(tasks: readonly { runAt?: string }[], paths: (i: number) => string): void {
  const latest = Date.now() + MAX_SCHEDULE_AHEAD_MS;
  const fields = tasks.flatMap((t, i) =>
    t.runAt !== undefined && Date.parse(t.runAt) > latest
      ? [{ path: `${paths(i)}/runAt`, message: 'must be at most 366 days from now' }]
      : [],
  );
  if (fields.length > 0) throw new HttpProblem('VALIDATION_FAILED', 'runAt is too far ahead', { fields });
}
