/**
 * Completion webhooks (docs/webhooks.md): a task created with `webhook: {url}` has its task POSTed
 * to that URL once per terminal version, from the store's `webhook_deliveries` collection.
 */
import type { TaskStatus } from './task.js';

export const WEBHOOK_LIMITS = {
  maxUrlLength: 2048,
  /** http or https, a host, no user:password@ (a secret in a URL ends up in logs), no spaces. */
  urlPattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\\s]+([/?#][^\\s]*)?$',
  /** Attempts of one delivery, at most (the store's WEBHOOK_MAX_ATTEMPTS default). */
  maxAttempts: 8,
  /** Delay after attempt n: min(capMs, baseMs * 2^(n-1)), the top half jittered (store's WEBHOOK_RETRY_BASE_MS default). */
  retryBaseMs: 10_000,
  retryCapMs: 60 * 60_000,
  /** The newest attempts a delivery keeps in its log. */
  attemptLogLimit: 20,
  /** Error texts a sender reports are cut to this. */
  maxErrorLength: 500,
} as const;

export const WEBHOOK_DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryState = (typeof WEBHOOK_DELIVERY_STATES)[number];

export interface WebhookAttempt {
  at: string;
  /** The receiver's HTTP status, null when none came (refused, timed out, blocked by the SSRF policy). */
  statusCode: number | null;
  error: string | null;
  ms: number;
}

/** One delivery: one terminal version of one task (`id` = `<taskId>:<version>`, the Webhook-Id). */
export interface WebhookDelivery {
  id: string;
  taskId: string;
  version: number;
  url: string;
  /** The task status it reports. */
  status: TaskStatus;
  state: WebhookDeliveryState;
  attempts: number;
  maxAttempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** When it is next tried (null once delivered or given up). */
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** The newest attempts, oldest first (at most WEBHOOK_LIMITS.attemptLogLimit). */
  attemptLog: WebhookAttempt[];
}

/** What a sender gets to POST: the stored body, sent unchanged on every attempt. */
export interface WebhookSend {
  id: string;
  url: string;
  body: string;
  leaseId: string;
  attempt: number;
}
