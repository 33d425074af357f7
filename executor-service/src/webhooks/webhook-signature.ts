/**
 * The signature receivers check (docs/webhooks.md): `v1=` and the hex HMAC-SHA256, keyed by
 * WEBHOOK_SECRET, of `<Webhook-Timestamp>.<raw body>`.
 */
import { createHmac } from 'node:crypto';

export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one attempt; the timestamp is the time of sending (Unix seconds). */
export function webhookHeaders(
  secret: string,
  id: string,
  body: string,
  now: number = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'tasks-webhooks/1',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': webhookSignature(secret, timestamp, body),
  };
}
