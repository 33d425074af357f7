/**
 * The store is the truth, the broker only delivers (DESIGN.md): every queued task that is due
 * must have a message on its way. The outbox covers publishes that were never confirmed; this
 * covers messages lost after their confirm (a purged or deleted queue, a broker that lost its
 * data, a message dropped by hand). For each task type whose queue has no message ready, queued
 * tasks of that type that have been due and untouched for RECONCILE_AFTER_MS are published again;
 * the claim absorbs any duplicate.
 *
 * A legitimate backlog is never flooded: while a type's queue has messages ready, executors are
 * behind and the waiting tasks' messages are among them, so the type is skipped. Each task is
 * published again at most once per RECONCILE_AFTER_MS by one gateway.
 */
import { randomUUID } from 'node:crypto';
import type { TaskStoreClient } from '@tasks/contracts';
import type { Broker } from '@tasks/messaging';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { GatewayMetrics } from '../metrics.js';
import type { TaskPublisher } from '../task-publisher.js';
import { Periodic } from './periodic.js';

const BACKGROUND_TIMEOUT_MS = 30_000;

export interface ReconcilePass {
  /** Types checked in the store (their queue had nothing ready). */
  checked: number;
  /** Tasks published again. */
  republished: number;
  /** Types with messages ready and no consumer: waiting for an executor that serves them. */
  unserved: string[];
}

export class Reconciler {
  private readonly loop: Periodic;
  /** `<taskId>:<version>` → when this gateway last published it again. */
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly config: Readonly<Config>,
    private readonly store: TaskStoreClient,
    private readonly broker: Broker,
    private readonly publisher: TaskPublisher,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {
    this.loop = new Periodic('reconciler', config.reconcileIntervalMs, () => this.runOnce(), log);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  async runOnce(): Promise<ReconcilePass> {
    const pass: ReconcilePass = { checked: 0, republished: 0, unserved: [] };
    if (!this.broker.connected) return pass; // nothing to compare with; the outbox keeps what is new
    const requestId = `reconciler-${randomUUID()}`;
    const log = this.log.child({ reqId: requestId });
    const opts = { requestId, timeoutMs: Math.max(this.config.storeTimeoutMs, BACKGROUND_TIMEOUT_MS) };
    const now = Date.now();
    for (const [key, at] of this.recent)
      if (now - at >= this.config.reconcileAfterMs) this.recent.delete(key);

    const { items: types } = await this.store.call('taskTypes.list', {}, opts);
    for (const { type } of types) {
      const queue = await this.broker.inspectType(type);
      if (queue.messageCount > 0) {
        if (queue.consumerCount === 0) pass.unserved.push(type);
        continue;
      }
      pass.checked++;
      const { items } = await this.store.call(
        'tasks.listStale',
        { type, olderThanMs: this.config.reconcileAfterMs, limit: this.config.dispatchBatch },
        opts,
      );
      const lost = items.filter((t) => !this.recent.has(`${t.id}:${t.version}`));
      if (lost.length === 0) continue;
      const published = await this.publisher.publish(lost, requestId, log, 'reconciler');
      for (const t of lost) this.recent.set(`${t.id}:${t.version}`, now);
      this.metrics.reconciled.inc({ type }, published);
      pass.republished += published;
      log.warn(
        { type, count: lost.length, published, oldest: lost[0]!.id },
        'queued tasks with no message on its way published again',
      );
    }
    this.metrics.unservedTypes.set(pass.unserved.length);
    return pass;
  }
}
