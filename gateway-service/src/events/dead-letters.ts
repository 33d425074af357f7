/**
 * Dead letters end in the store: this gateway consumes the dead-letter queue (competing with any
 * other replica) and records each message with deadLetters.record, which fails a task still
 * queued at the message's version (DEAD_LETTERED, with the reason). The message is acked only
 * once recorded; while the store cannot record it, it is held and tried again with backoff.
 */
import type { ConsumeMessage } from 'amqplib';
import { HEADERS, isPassingStoreError, type DeadLetterParams, type TaskStoreClient } from '@tasks/contracts';
import type { Broker, Delivery } from '@tasks/messaging';
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.js';
import type { TaskPublisher } from '../task-publisher.js';

/** Dead letters handled at once by one gateway. */
const PREFETCH = 20;
const MAX_BACKOFF_MS = 10_000;

export class DeadLetterRecorder {
  private stopped = false;

  constructor(
    private readonly store: TaskStoreClient,
    private readonly publisher: TaskPublisher,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  attach(broker: Broker): void {
    broker.consume({
      queues: [broker.topology.deadQueue],
      prefetch: PREFETCH,
      onMessage: (d) => void this.record(d),
    });
  }

  stop(): void {
    this.stopped = true;
  }

  private async record(delivery: Delivery): Promise<void> {
    const params = deadLetterParams(delivery.msg);
    for (let attempt = 0; ; attempt++) {
      try {
        const recorded = await this.store.call('deadLetters.record', params, { timeoutMs: 30_000 });
        const { task } = recorded;
        const { deadLetter } = recorded;
        this.metrics.deadLetters.inc({ outcome: deadLetter.outcome === 'failed' ? 'failed' : 'recorded' });
        this.log.error({ ...params, outcome: deadLetter.outcome }, 'dead letter recorded');
        if (task && deadLetter.outcome === 'failed') void this.publisher.emit(task, this.log);
        return delivery.ack();
      } catch (err) {
        // Gone for shutdown: the message goes back to the queue for another gateway or a restart.
        if (this.stopped) return delivery.nack();
        if (!isPassingStoreError(err)) {
          this.log.error({ err, ...params }, 'dead letter refused by the store; left in the queue');
          await sleep(MAX_BACKOFF_MS);
          return delivery.nack();
        }
        if (attempt % 10 === 0) this.log.warn({ err, attempt }, 'dead letter not recorded yet; retrying');
        await sleep(Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2));
      }
    }
  }
}

/** What a dead message says of itself: its body when it is a work message, and the broker's headers. */
export function deadLetterParams(msg: ConsumeMessage): DeadLetterParams {
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(msg.content.toString()) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: recorded without task fields
  }
  const headers = msg.properties.headers ?? {};
  const death = (headers['x-death'] as { reason?: unknown; queue?: unknown }[] | undefined)?.[0];
  const text = (v: unknown, max: number) =>
    typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined;
  const taskId = text(body.taskId, 100);
  const version = body.version;
  const deliveries: unknown = headers['x-delivery-count'];
  const params: DeadLetterParams = {
    reason: text(headers[HEADERS.deadReason], 1_000) ?? text(death?.reason, 1_000) ?? 'unknown',
  };
  if (taskId !== undefined && /^[A-Za-z0-9_.:-]+$/.test(taskId)) params.taskId = taskId;
  if (Number.isInteger(version) && (version as number) >= 1) params.version = version as number;
  const type = text(body.type, 100);
  if (type !== undefined) params.type = type;
  const kind = text(body.kind, 20);
  if (kind !== undefined) params.kind = kind;
  const queue = text(death?.queue, 300);
  if (queue !== undefined) params.queue = queue;
  if (Number.isInteger(deliveries) && (deliveries as number) >= 0) params.deliveries = deliveries as number;
  return params;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
