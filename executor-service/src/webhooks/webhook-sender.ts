/**
 * Sends completion webhooks (docs/webhooks.md): every WEBHOOK_POLL_MS it claims the deliveries
 * that are due (as many as it has free slots, WEBHOOK_CONCURRENCY), POSTs each stored body with
 * the signature headers, and records the outcome in the store. The store decides retries and
 * giving up; a sender that dies mid-send leaves its lease to expire, and the delivery is sent
 * again (same Webhook-Id): at least once.
 */
import { randomUUID } from 'node:crypto';
import { isStoreError, type TaskStoreClient, type WebhookSend } from '@tasks/contracts';
import type { Logger } from 'pino';
import type { ExecutorMetrics } from '../metrics.js';
import { postWebhook, type PostOutcome } from './webhook-post.js';
import { webhookHeaders } from './webhook-signature.js';

export interface WebhookSenderOptions {
  secret: string;
  owner: string;
  pollMs: number;
  concurrency: number;
  timeoutMs: number;
  allowHosts: readonly string[];
}

/** Attempts at recording one outcome before the lease is left to expire (the POST is then repeated). */
const RECORD_TRIES = 5;

export class WebhookSender {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastPollFailed = false;

  constructor(
    private readonly store: TaskStoreClient,
    private readonly options: WebhookSenderOptions,
    private readonly metrics: ExecutorMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Claims no more, lets the POSTs under way finish (each bounded by WEBHOOK_TIMEOUT_MS) and records them. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.polling;
    await Promise.all([...this.inFlight]);
  }

  private schedule(ms: number): void {
    if (this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule(this.options.pollMs);
      });
    }, ms);
  }

  private async poll(): Promise<void> {
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) return;
    let items: WebhookSend[];
    try {
      ({ items } = await this.store.call('webhooks.claimDue', {
        owner: this.options.owner,
        limit: Math.min(100, free),
        // Long enough for the POST and the recording of its outcome (with its retries); a sender
        // that dies leaves its deliveries to be sent again this long after they were claimed.
        leaseMs: this.options.timeoutMs * 2 + 10_000,
      }));
      this.lastPollFailed = false;
    } catch (err) {
      // Once per outage, not once per poll.
      if (!this.lastPollFailed) this.log.warn({ err }, 'webhook claim failed; trying again');
      this.lastPollFailed = true;
      return;
    }
    for (const item of items) {
      const run = this.deliver(item).finally(() => this.inFlight.delete(run));
      this.inFlight.add(run);
    }
  }

  private async deliver(item: WebhookSend): Promise<void> {
    const started = performance.now();
    const outcome: PostOutcome = await postWebhook(
      { url: item.url, body: item.body, headers: webhookHeaders(this.options.secret, item.id, item.body) },
      { allowHosts: this.options.allowHosts, timeoutMs: this.options.timeoutMs },
    );
    const ms = Math.round(performance.now() - started);
    const ok = 'statusCode' in outcome && outcome.statusCode >= 200 && outcome.statusCode < 300;
    this.metrics.webhookAttempts.inc({ outcome: ok ? 'delivered' : 'failed' });
    const log = this.log.child({ webhookId: item.id });
    if (ok) log.debug({ ms, attempt: item.attempt }, 'webhook delivered');
    else log.info({ ...outcome, ms, attempt: item.attempt }, 'webhook attempt failed');
    const params = { id: item.id, leaseId: item.leaseId, ms, ...outcome };
    for (let tries = 1; ; tries++) {
      try {
        await this.store.call('webhooks.recordAttempt', params, { requestId: randomUUID() });
        return;
      } catch (err) {
        const retryable = isStoreError(err) ? err.retryable : true;
        if (!retryable || tries >= RECORD_TRIES) {
          log.warn({ err }, 'webhook outcome not recorded; its lease will expire and it is sent again');
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * 2 ** tries));
      }
    }
  }
}
