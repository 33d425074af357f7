import { RETRY_BACKOFF } from '@tasks/contracts';

/**
 * Delay before attempt `attempt + 1` after a retryable failure of attempt `attempt` (1-based):
 * exponential, capped, with "equal jitter" (half fixed, half random) so that tasks failing
 * together do not come back together.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(
    RETRY_BACKOFF.capMs,
    RETRY_BACKOFF.baseMs * RETRY_BACKOFF.factor ** Math.max(0, attempt - 1),
  );
  return Math.round(exp / 2 + random() * (exp / 2));
}
