/**
 * Reading a service's environment against a JSON Schema of its variables: the one way the
 * three services load their configuration, so that they agree on what counts as unset and
 * on how bad values are reported.
 */
import { createAjv } from '@tasks/contracts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One variable: a JSON Schema of a string, a number, a boolean or a choice of strings. */
export type EnvProperty =
  | { type: 'string' | 'integer' | 'number' | 'boolean'; default?: unknown; [keyword: string]: unknown }
  | { enum: readonly string[]; default?: unknown; [keyword: string]: unknown };

export interface EnvSchema {
  type: 'object';
  properties: Record<string, EnvProperty>;
}

/** The value a variable's schema admits (after coercion). */
type EnvValue<P> = P extends { enum: readonly (infer E)[] }
  ? E
  : P extends { type: 'string' }
    ? string
    : P extends { type: 'integer' | 'number' }
      ? number
      : P extends { type: 'boolean' }
        ? boolean
        : never;

/** What envReader returns for a schema: each variable typed from its schema, `undefined` unless it has a default. */
export type EnvValues<S extends EnvSchema> = {
  readonly [K in keyof S['properties']]: S['properties'][K] extends { default: unknown }
    ? EnvValue<S['properties'][K]>
    : EnvValue<S['properties'][K]> | undefined;
};

/**
 * Returns a reader for the variables the schema names: it coerces numbers, fills in defaults,
 * treats empty strings as unset (`RPC_TOKEN=` in a compose file means "no token"), ignores
 * every other variable, and throws one ConfigError naming every bad variable. Its result is
 * typed from the schema (declare the schema `as const`), so configs read it without casts.
 */
export function envReader<S extends EnvSchema>(schema: S): (env: NodeJS.ProcessEnv) => EnvValues<S> {
  const validate = createAjv({ coerceTypes: true, useDefaults: true }).compile(schema);
  const known = Object.keys(schema.properties);
  return (env) => {
    const input: Record<string, unknown> = Object.fromEntries(
      known.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]),
    );
    if (!validate(input)) {
      const problems = (validate.errors ?? []).map(
        (e) =>
          `${e.instancePath.slice(1) || 'config'} ${
            e.keyword === 'enum'
              ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
              : (e.message ?? 'is invalid')
          }`,
      );
      throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
    }
    // The one cast: ajv has just checked every value against the schema this type is read from.
    return input as EnvValues<S>;
  };
}

/**
 * Whether a bind address (HOST) only accepts connections from this machine. Anything else
 * (0.0.0.0, ::, an interface address, a host name) counts as exposed: the services refuse to
 * listen there without credentials unless ALLOW_UNAUTHENTICATED=true (README, "Containers").
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** A comma-separated list of secrets (tokens, keys), each at least `minLength` characters. */
export function secretList(
  value: string | number | boolean | undefined,
  name: string,
  minLength = 16,
): readonly string[] {
  const items = String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.some((s) => s.length < minLength))
    throw new ConfigError(`invalid configuration: ${name} must each be at least ${minLength} characters`);
  return Object.freeze(items);
}
