import { ajvFieldErrors, createAjv, type ValidateFunction } from '@tasks/contracts';
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
