/**
 * `sleep` (io): waits `ms` milliseconds without using CPU; stops at once when the task is
 * aborted (timeout, cancellation, shutdown) by rejecting with the signal's reason.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { defineTask, TaskFailure } from '../task-definition.js';

export interface SleepPayload {
  ms: number;
}

export interface SleepResult {
  /** Measured, so it can exceed `ms` by a little on a busy event loop. */
  sleptMs: number;
}

export const MAX_SLEEP_MS = 600_000;

export default defineTask<SleepPayload, SleepResult>({
  type: 'sleep',
  kind: 'io',
  description: 'Waits ms milliseconds; stops early when aborted.',
  payloadSchema: {
    type: 'object',
    properties: { ms: { type: 'integer', minimum: 0, maximum: MAX_SLEEP_MS } },
    required: ['ms'],
    additionalProperties: false,
  },
  resultSchema: {
    type: 'object',
    properties: { sleptMs: { type: 'integer', minimum: 0 } },
    required: ['sleptMs'],
  },
  // Longer than the longest allowed sleep, so a valid payload never times out by default.
  timeoutMs: MAX_SLEEP_MS + 30_000,
  maxAttempts: 3,
  async handler({ ms }, { signal }) {
    if (!Number.isInteger(ms) || ms < 0 || ms > MAX_SLEEP_MS) {
      throw new TaskFailure('PAYLOAD_INVALID', `ms must be an integer in 0..${MAX_SLEEP_MS}`);
    }
    const started = performance.now();
    try {
      await delay(ms, undefined, { signal });
    } catch (err) {
      // timers/promises rejects with a generic AbortError; the reason says why (timeout, cancel).
      signal.throwIfAborted();
      throw err;
    }
    return { sleptMs: Math.round(performance.now() - started) };
  },
});
