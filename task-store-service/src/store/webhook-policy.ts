import { WEBHOOK_LIMITS } from '@tasks/contracts';

/** The store's webhook retry policy (WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_BASE_MS; docs/webhooks.md). */
export interface WebhookPolicy {
  maxAttempts: number;
  retryBaseMs: number;
}

export const DEFAULT_WEBHOOK_POLICY: Readonly<WebhookPolicy> = {
  maxAttempts: WEBHOOK_LIMITS.maxAttempts,
  retryBaseMs: WEBHOOK_LIMITS.retryBaseMs,
};
