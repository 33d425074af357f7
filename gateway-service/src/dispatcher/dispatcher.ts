/**
 * The dispatcher loop: hands expired leases back to the queue, ends tasks not started by their
 * expiresAt, and publishes every queued task whose publication was never confirmed (the outbox). Safe with many gateway replicas: each
 * step is a compare-and-set in the store, and a duplicate message is harmless (claiming is).
 */
import { randomUUID } from 'node:crypto';
import type { TaskStoreClient } from '@tasks/contracts';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { GatewayMetrics } from '../metrics.js';
import type { TaskPublisher } from '../task-publisher.js';
import { Periodic } from './periodic.js';

/** Store-call budget of the dispatcher's passes. */
const BACKGROUND_TIMEOUT_MS = 30_000;

export class Dispatcher {
  private readonly loop: Periodic;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly store: TaskStoreClient,
    private readonly publisher: TaskPublisher,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {
    this.loop = new Periodic('dispatcher', config.dispatchIntervalMs, () => this.runOnce(), log);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass; returns how many tasks it published. */
  async runOnce(): Promise<number> {
    const requestId = `dispatcher-${randomUUID()}`;
    const log = this.log.child({ reqId: requestId });
    const { dispatchBatch: limit } = this.config;
    let published = 0;
    // Nobody waits on these calls, so they get a longer budget than a request's STORE_TIMEOUT_MS:
    // on a slow store a pass that always timed out would leave the outbox unpublished.
    const opts = { requestId, timeoutMs: Math.max(this.config.storeTimeoutMs, BACKGROUND_TIMEOUT_MS) };
    // The two halves are independent: a failing lease sweep must not hold the outbox back.
    try {
      published += await this.requeueExpired(limit, opts, log);
    } catch (err) {
      log.warn({ err }, 'lease sweep failed; the outbox pass goes on');
    }
    try {
      await this.expireOverdue(limit, opts, log);
    } catch (err) {
      log.warn({ err }, 'deadline sweep failed; the outbox pass goes on');
    }
    const { items } = await this.store.call(
      'tasks.listUnpublished',
      { olderThanMs: this.config.republishAfterMs, limit },
      opts,
    );
    this.metrics.outboxBacklog.set(items.length);
    if (items.length === 0) return published;
    const confirmed = await this.publisher.publish(items, requestId, log, 'dispatcher');
    log.info({ found: items.length, published: confirmed }, 'unpublished tasks published');
    return published + confirmed;
  }

  /** Tasks past their expiresAt end failed (EXPIRED): announced, with the flow nodes that moved. */
  private async expireOverdue(
    limit: number,
    opts: { requestId: string; timeoutMs: number },
    log: Logger,
  ): Promise<void> {
    const { items, dependents = [] } = await this.store.call(
      'tasks.expireOverdue',
      { limit, by: 'dispatcher' },
      opts,
    );
    if (items.length === 0) return;
    log.info({ count: items.length }, 'tasks not started by their expiresAt ended');
    for (const t of [...items, ...dependents]) void this.publisher.emit(t, log);
    const queued = dependents.filter((t) => t.status === 'queued');
    if (queued.length > 0) await this.publisher.publish(queued, opts.requestId, log, 'dispatcher');
  }

  private async requeueExpired(
    limit: number,
    opts: { requestId: string; timeoutMs: number },
    log: Logger,
  ): Promise<number> {
    const requeued = await this.store.call('tasks.requeueExpired', { limit, by: 'dispatcher' }, opts);
    if (requeued.items.length === 0) return 0;
    this.metrics.requeuedLeases.inc(requeued.items.length);
    log.info({ count: requeued.items.length }, 'expired leases handed back');
    // With the flow nodes the expiries moved (a node failed for good tells its dependents).
    const moved = [...requeued.items, ...(requeued.dependents ?? [])];
    for (const t of moved) void this.publisher.emit(t, log);
    // Published now rather than after REPUBLISH_AFTER_MS: nobody else will publish them.
    const queued = moved.filter((t) => t.status === 'queued');
    return queued.length > 0 ? this.publisher.publish(queued, opts.requestId, log, 'dispatcher') : 0;
  }
}
