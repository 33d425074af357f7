/**
 * The built-in task modules, as absolute file URLs. The executor imports each one; cpu modules
 * are imported again by URL inside the worker threads.
 */
// Under tsx (dev, tests) these files are .ts; built, they are .js. Follow this module's own.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

const MODULES = ['primes-count', 'hash', 'compress', 'sleep', 'noop', 'http-request', 'collect'];

export const builtinTaskModules: readonly string[] = Object.freeze(
  MODULES.map((name) => new URL(`./${name}.task${ext}`, import.meta.url).href),
);
