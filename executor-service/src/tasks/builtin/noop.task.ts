/**
 * `noop` (io): does nothing and returns `{}`. The benchmarks use it to measure the system's own
 * overhead per task, so the handler is synchronous and allocates only its result.
 */
import { defineTask } from '../task-definition.js';

export default defineTask<Record<string, unknown>, Record<string, never>>({
  type: 'noop',
  kind: 'io',
  description: 'Does nothing; accepts any object. For measuring per-task overhead.',
  payloadSchema: { type: 'object' },
  resultSchema: { type: 'object', maxProperties: 0 },
  timeoutMs: 10_000,
  maxAttempts: 3,
  handler: () => ({}),
});
