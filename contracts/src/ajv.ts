/** One way to build an Ajv instance with formats, hiding ajv's CommonJS default-export shape. */
import AjvModule, { type Options } from 'ajv';
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
  return ajv;
}
