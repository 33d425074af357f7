/** One way to build an Ajv instance with formats, hiding ajv's CommonJS default-export shape. */
import AjvModule, { type ErrorObject, type Options } from 'ajv';
import formatsModule from 'ajv-formats';

type AjvClass = typeof AjvModule.default;
export type AjvInstance = InstanceType<AjvClass>;
export type { ErrorObject, ValidateFunction } from 'ajv';

const Ajv: AjvClass =
  (AjvModule as unknown as { default?: AjvClass }).default ?? (AjvModule as unknown as AjvClass);
const addFormats =
  (formatsModule as unknown as { default?: typeof formatsModule.default }).default ?? formatsModule;

export function createAjv(options: Options = {}): AjvInstance {
  const ajv = new Ajv({ allErrors: true, ...options });
  (addFormats as (a: AjvInstance) => void)(ajv);
  // RFC 3339 allows a leap second (…T23:59:60Z) that Date cannot represent: refuse it here
  // rather than store an Invalid Date.
  const rfc3339 = ajv.formats['date-time'] as { validate: (s: string) => boolean } | ((s: string) => boolean);
  const check = typeof rfc3339 === 'function' ? rfc3339 : rfc3339.validate;
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => check(s) && !Number.isNaN(Date.parse(s)),
  });
  return ajv;
}

/**
 * Ajv errors as `{path, message}` per failing field (JSON Pointer paths, under `prefix`). A failed
 * `not` whose subschema has a description says "must not be <description>" (with Ajv's `verbose`).
 */
export function ajvFieldErrors(
  errors: ErrorObject[] | null | undefined,
  prefix = '',
): { path: string; message: string }[] {
  return (errors ?? []).map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    const leaf = params.missingProperty ?? params.additionalProperty;
    const path = `${prefix}${e.instancePath}${leaf ? `/${leaf}` : ''}` || '/';
    const described = e.keyword === 'not' && (e.schema as { description?: unknown } | undefined)?.description;
    if (typeof described === 'string') return { path, message: `must not be ${described}` };
    return { path, message: e.message ?? 'is invalid' };
  });
}
