/**
 * Publishing accepted tasks: a work message with publisher confirms, then tasks.markPublished
 * (coalesced, not awaited: see published-marks.ts). A failure here never fails the request — the
 * task is durable in the store, and the dispatcher publishes whatever stays unmarked.
 */
import {
  eventRoutingKey,
  PUBLISH_HORIZON_MS,
  statusEvent,
  workMessage,
  type TaskSummary,
  type TaskStoreClient,
} from '@tasks/contracts';
import type { Broker } from '@tasks/messaging';
import type { Logger } from 'pino';
import type { GatewayMetrics } from './metrics.js';
import { PublishedMarks } from './published-marks.js';

export class TaskPublisher {
  private readonly marks: PublishedMarks;

  constructor(
    private readonly broker: Broker,
    store: TaskStoreClient,
    private readonly metrics: GatewayMetrics,
    private readonly publishTimeoutMs: number,
    log: Logger,
  ) {
    this.marks = new PublishedMarks(store, log);
  }

  /** Waits for the marks of everything published so far (shutdown, tests). */
  flushMarks(): Promise<void> {
    return this.marks.flush();
  }

  /** Publishes every task (in one burst of confirms) and marks the confirmed ones; returns how many were confirmed. */
  async publish(
    tasks: TaskSummary[],
    requestId: string,
    log: Logger,
    source: 'request' | 'dispatcher' | 'reconciler',
  ): Promise<number> {
    if (!this.broker.connected) {
      // Waiting out the confirm timeout would only slow every request down while the broker is
      // away; the tasks stay unmarked in the store and the dispatcher publishes them once it is back.
      this.metrics.publishes.inc({ source, outcome: 'deferred' }, tasks.length);
      log.debug({ count: tasks.length }, 'broker disconnected; publish left to the dispatcher');
      return 0;
    }
    const now = Date.now();
    // Due beyond the horizon: the outbox relay publishes it when it comes within reach.
    const later = tasks.filter((t) => Date.parse(t.runAt) - now > PUBLISH_HORIZON_MS);
    if (later.length > 0) {
      this.metrics.publishes.inc({ source, outcome: 'deferred' }, later.length);
      tasks = tasks.filter((t) => Date.parse(t.runAt) - now <= PUBLISH_HORIZON_MS);
    }
    const results = await Promise.allSettled(
      tasks.map((t) =>
        this.broker.publishWork(workMessage(t), Date.parse(t.runAt) - now, requestId, {
          timeoutMs: this.publishTimeoutMs,
          origin: t.traceparent,
        }),
      ),
    );
    const confirmed = tasks.filter((_, i) => results[i]!.status === 'fulfilled');
    const failed = tasks.length - confirmed.length;
    this.metrics.publishes.inc({ source, outcome: 'confirmed' }, confirmed.length);
    if (failed > 0) {
      this.metrics.publishes.inc({ source, outcome: 'failed' }, failed);
      const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult)
        .reason as unknown;
      log.warn({ failed, err: reason }, 'publish not confirmed; the dispatcher will publish again');
    }
    if (confirmed.length > 0) this.marks.add(confirmed.map((t) => ({ id: t.id, version: t.version })));
    return confirmed.length;
  }

  /** Status event for dashboards, SSE and executors (cancellation); best effort. */
  async emit(task: TaskSummary, log: Logger): Promise<void> {
    // Not buffered while the broker is away (they would pile up and arrive late); SSE clients
    // reconnect and read the current state.
    if (!this.broker.connected) return;
    await this.broker
      .publish(
        this.broker.topology.eventsExchange,
        eventRoutingKey(task.status, task.type),
        statusEvent(task),
      )
      .catch((err: unknown) => log.warn({ err, taskId: task.id }, 'status event not published'));
  }
}

/** What clients see of a task (or a summary): everything but the lease token (and the traceparent: traceId says it). */
export function publicTask<T extends TaskSummary>(t: T): Omit<T, 'leaseId' | 'traceparent'> {
  const rest: Partial<T> = { ...t };
  delete rest.leaseId;
  delete rest.traceparent;
  return rest as Omit<T, 'leaseId' | 'traceparent'>;
}
