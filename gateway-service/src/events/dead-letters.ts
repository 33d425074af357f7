/**
 * The most recent dead-lettered messages, as seen by this gateway: a copy of each reaches an
 * exclusive queue bound to the dead-letter (fanout) exchange and is kept in a bounded ring.
 * The dead-letter queue itself is never read, so operators find every message still there.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Broker } from '@tasks/messaging';

export interface DeadLetter {
  /** When this gateway saw it. */
  at: string;
  taskId: string | null;
  type: string | null;
  kind: string | null;
  /** From x-death (RabbitMQ): why and from which queue, when the broker dead-lettered it. */
  reason: string | null;
  queue: string | null;
  /** Times RabbitMQ delivered it before giving up (x-delivery-count), when known. */
  deliveries: number | null;
}

export class DeadLetterLog {
  private readonly ring: DeadLetter[] = [];
  /** Resolves once this gateway's copy queue is bound: dead letters from then on are seen. */
  ready: Promise<void> = Promise.resolve();

  constructor(private readonly capacity = 50) {}

  attach(broker: Broker): void {
    this.ready = broker.tap(broker.topology.deadExchange, (msg) => this.add(msg));
    this.ready.catch(() => undefined); // a failed setup is retried on reconnect
  }

  add(msg: ConsumeMessage): void {
    let body: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(msg.content.toString()) as unknown;
      if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
    } catch {
      // not JSON: still counted, shown without task fields
    }
    const headers = msg.properties.headers ?? {};
    const death = (headers['x-death'] as { reason?: unknown; queue?: unknown }[] | undefined)?.[0];
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    const count: unknown = headers['x-delivery-count'];
    this.ring.push({
      at: new Date().toISOString(),
      taskId: str(body.taskId),
      type: str(body.type),
      kind: str(body.kind),
      reason: str(death?.reason),
      queue: str(death?.queue),
      deliveries: typeof count === 'number' ? count : null,
    });
    if (this.ring.length > this.capacity) this.ring.shift();
  }

  /** Newest first. */
  recent(): DeadLetter[] {
    return [...this.ring].reverse();
  }
}
