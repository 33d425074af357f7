/**
 * RabbitMQ for the services, through amqp-connection-manager: it reconnects with backoff and
 * re-runs each channel's setup (topology, prefetch, consume), so consumers resume by themselves —
 * unless stopConsuming() was called, which holds across reconnects. Publishes go through one
 * confirm channel and resolve when the broker has confirmed them; a task type's queues (one per
 * priority band) are declared on that channel before the first message of the type is published
 * (and again on reconnect).
 */
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import {
  declareTopology,
  declareTypeQueue,
  HEADERS,
  typeQueues,
  workRoute,
  type Topology,
  type WorkMessage,
} from '@tasks/contracts';
import { publishSpan } from '@tasks/telemetry';
import type { Logger } from 'pino';

/** A delivery and the channel that delivered it: acks must go to that channel, not a newer one. */
export interface Delivery {
  msg: ConsumeMessage;
  ack(): void;
  /** Back to the queue (counts as a delivery toward the delivery limit). */
  nack(): void;
}

export interface ConsumerSpec {
  /** Consumed on one channel, each with its own prefetch (quorum queues have no per-channel prefetch). */
  queues: readonly string[];
  prefetch: number;
  /** Runs on the channel before it consumes, on every (re)connect: e.g. declare the queues. */
  setup?(ch: Channel): Promise<void>;
  onMessage(d: Delivery): void;
}

export interface TypeQueueInfo {
  /** Messages ready in the type's queues, all bands (not counting those delivered and not yet acked). */
  messageCount: number;
  /** The most consumers of any of the type's queues: executors that serve the type (each consumes every band). */
  consumerCount: number;
}

export class Broker {
  private readonly conn: AmqpConnectionManager;
  private readonly publisher: ChannelWrapper;
  private readonly consumers: ChannelWrapper[] = [];
  private readonly consumerTags = new Map<ChannelWrapper, { ch: Channel; tags: string[] }>();
  /** Task types whose queues the publisher channel declares (once, and again on reconnect). */
  private readonly declaredTypes = new Map<string, Promise<void>>();
  private consuming = true;
  connected = false;

  constructor(
    url: string,
    readonly topology: Topology,
    private readonly log: Logger,
  ) {
    this.conn = amqp.connect([url], { heartbeatIntervalInSeconds: 5, reconnectTimeInSeconds: 1 });
    this.conn.on('connect', () => {
      this.connected = true;
      log.info('broker connected');
    });
    this.conn.on('disconnect', ({ err }) => {
      this.connected = false;
      log.warn({ err }, 'broker disconnected; reconnecting');
    });
    this.publisher = this.conn.createChannel({
      confirm: true,
      setup: (ch: ConfirmChannel) => declareTopology(ch, topology),
    });
    this.publisher.on('error', (err) =>
      log.warn({ err }, 'broker publisher channel error; it will be set up again'),
    );
  }

  /** Resolves once the broker confirmed the message. */
  async publish(
    exchange: string,
    routingKey: string,
    body: object,
    options: Options.Publish = {},
  ): Promise<void> {
    await this.publisher.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), {
      persistent: true,
      contentType: 'application/json',
      ...options,
    });
  }

  /**
   * Publishes a work message for a task due in `waitMs` (a delay queue when not yet due), to the
   * queue of its priority band. `timeoutMs`: how long to wait for the confirm; `origin`: the
   * task's creating traceparent, which a publish outside any trace continues (docs/observability.md).
   */
  async publishWork(
    msg: WorkMessage,
    waitMs: number,
    requestId: string,
    options: { timeoutMs?: number; origin?: string } = {},
  ): Promise<void> {
    await this.ensureTypeQueue(msg.type);
    const route = workRoute(this.topology, msg, waitMs);
    const headers: Record<string, unknown> = { [HEADERS.requestId]: requestId };
    const messageId = `${msg.taskId}:${msg.version}`;
    await publishSpan(
      {
        destination: route.exchange,
        routingKey: route.routingKey,
        messageId,
        attributes: { 'task.id': msg.taskId, 'task.type': msg.type },
      },
      headers,
      options.origin,
      () =>
        this.confirmed(
          this.publish(route.exchange, route.routingKey, msg, { headers, messageId }),
          options.timeoutMs,
        ),
    );
  }

  /** Waits for a publish's confirm, at most `timeoutMs` when given. */
  private async confirmed(publishing: Promise<void>, timeoutMs: number | undefined): Promise<void> {
    if (timeoutMs === undefined) return publishing;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        publishing,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no publisher confirm within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Publishes bytes as they are (e.g. a message being dead-lettered); resolves on confirm. */
  async publishRaw(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
  ): Promise<void> {
    await this.publisher.publish(exchange, routingKey, content, options);
  }

  /**
   * The type's queues exist from the first publish of the type on: a message for a type that no
   * executor serves waits there instead of being dropped as unroutable. All bands at once: one
   * declaration per type and process, and inspectType can read them all.
   */
  private ensureTypeQueue(type: string): Promise<void> {
    let declared = this.declaredTypes.get(type);
    if (!declared) {
      declared = this.publisher.addSetup(async (ch: ConfirmChannel) => {
        await declareTypeQueue(ch, this.topology, type);
      });
      // A failed declaration is tried again on the next publish of the type.
      declared.catch(() => this.declaredTypes.delete(type));
      this.declaredTypes.set(type, declared);
    }
    return declared;
  }

  /** Declares the type's queues (idempotent) and reports their ready messages and consumers. */
  async inspectType(type: string): Promise<TypeQueueInfo> {
    await this.ensureTypeQueue(type);
    const info: TypeQueueInfo = { messageCount: 0, consumerCount: 0 };
    for (const queue of typeQueues(this.topology, type)) {
      const q = await this.publisher.checkQueue(queue);
      info.messageCount += q.messageCount;
      info.consumerCount = Math.max(info.consumerCount, q.consumerCount);
    }
    return info;
  }

  consume(spec: ConsumerSpec): void {
    const wrapper = this.conn.createChannel({
      setup: async (ch: ConfirmChannel) => {
        await declareTopology(ch, this.topology);
        await spec.setup?.(ch);
        // Stopped for shutdown: a reconnect during the grace period must not start consuming again.
        if (!this.consuming) return;
        await ch.prefetch(spec.prefetch);
        const tags: string[] = [];
        this.consumerTags.set(wrapper, { ch, tags });
        for (const queue of spec.queues) {
          const { consumerTag } = await ch.consume(
            queue,
            (msg) => {
              if (!msg) return; // the broker cancelled the consumer; setup runs again on reconnect
              spec.onMessage({
                msg,
                ack: () => settle(() => ch.ack(msg), this.log),
                nack: () => settle(() => ch.nack(msg, false, true), this.log),
              });
            },
            { noAck: false },
          );
          tags.push(consumerTag);
          if (!this.consuming) await ch.cancel(consumerTag); // stopConsuming() ran meanwhile
        }
      },
    });
    this.watch(wrapper);
  }

  /** Whether a queue exists, asked on a throwaway channel (a passive check that fails closes its channel). */
  async queueExists(queue: string): Promise<boolean> {
    const connection = this.conn.connection;
    if (!connection) return false;
    const ch = await connection.createChannel();
    ch.on('error', () => undefined);
    try {
      await ch.checkQueue(queue);
      await ch.close();
      return true;
    } catch {
      return false;
    }
  }

  /** An exclusive, auto-deleted queue bound to the events exchange (e.g. cancellations). */
  subscribe(bindingKey: string, onEvent: (body: unknown) => void): void {
    const wrapper = this.conn.createChannel({
      setup: async (ch: ConfirmChannel) => {
        await declareTopology(ch, this.topology); // the exchange may not exist yet on a fresh broker
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
        await ch.bindQueue(queue, this.topology.eventsExchange, bindingKey);
        await ch.consume(
          queue,
          (msg) => {
            if (!msg) return;
            try {
              onEvent(JSON.parse(msg.content.toString()) as unknown);
            } catch (err) {
              this.log.warn({ err }, 'unreadable event ignored');
            }
          },
          { noAck: true },
        );
      },
    });
    this.watch(wrapper);
  }

  /**
   * Copies of what reaches a fanout exchange (e.g. the dead-letter exchange), through an exclusive,
   * auto-deleted queue of this process: the exchange's own queues keep their messages.
   * Resolves once the queue is bound (the first time).
   */
  tap(exchange: string, onMessage: (msg: ConsumeMessage) => void): Promise<void> {
    const wrapper = this.conn.createChannel({
      setup: async (ch: ConfirmChannel) => {
        await declareTopology(ch, this.topology);
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
        await ch.bindQueue(queue, exchange, '');
        await ch.consume(queue, (msg) => msg && onMessage(msg), { noAck: true });
      },
    });
    this.watch(wrapper);
    return wrapper.waitForConnect();
  }

  /** Messages ready in a queue, read passively (checkQueue): nothing is consumed. */
  async queueDepth(queue: string): Promise<number> {
    return (await this.publisher.checkQueue(queue)).messageCount;
  }

  /** A failing channel setup is retried on the next reconnect; it must not crash the process. */
  private watch(wrapper: ChannelWrapper): void {
    wrapper.on('error', (err) => this.log.warn({ err }, 'broker channel error; it will be set up again'));
    this.consumers.push(wrapper);
  }

  /** Stops new deliveries; in-flight ones can still be acked. */
  async stopConsuming(): Promise<void> {
    this.consuming = false;
    for (const { ch, tags } of this.consumerTags.values()) {
      for (const tag of tags) await ch.cancel(tag).catch(() => undefined);
    }
  }

  async waitForConnect(timeoutMs: number): Promise<void> {
    await Promise.race([
      this.publisher.waitForConnect(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no broker connection after ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  }

  async close(): Promise<void> {
    for (const c of this.consumers) await c.close().catch(() => undefined);
    await this.publisher.close().catch(() => undefined);
    await this.conn.close();
  }
}

/** An ack on a channel that has since closed is moot: the broker redelivers the message. */
function settle(fn: () => void, log: Logger): void {
  try {
    fn();
  } catch (err) {
    log.warn({ err }, 'ack/nack on a closed channel; the broker will redeliver');
  }
}
