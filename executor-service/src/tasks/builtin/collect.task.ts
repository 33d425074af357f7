/**
 * `collect` (io): fan-in with no user code. Its result is its flow dependencies' results as an
 * object keyed by node key (docs/flows.md); under the `continue` policy a dependency that failed
 * or was cancelled appears as `null` (its node in the flow shows why).
 */
import { defineTask } from '../task-definition.js';

export default defineTask<Record<string, never>, Record<string, unknown>>({
  type: 'collect',
  kind: 'io',
  description: 'Returns the results of its flow dependencies as an object keyed by node key.',
  payloadSchema: { type: 'object', additionalProperties: false },
  resultSchema: { type: 'object' },
  timeoutMs: 30_000,
  maxAttempts: 3,
  handler(_payload, { dependencies }) {
    // fromEntries, not assignment: a node may be called `__proto__`.
    return Object.fromEntries(
      Object.entries(dependencies)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, dep]) => [key, dep.status === 'succeeded' ? dep.result : null]),
    );
  },
});
