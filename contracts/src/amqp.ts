/**
 * RabbitMQ wire formats: exchange and queue names, their arguments, the work message and the
 * status event. Whoever needs a piece of the topology declares all of it (idempotently) with
 * `declareTopology`.
 *
 *   publish ──▶ <p>.work (direct, key = kind) ──▶ <p>.cpu / <p>.io   (quorum, delivery limit)
 *   retry   ──▶ <p>.delay.<kind>.<ms> (TTL ms) ──dead-letter──▶ <p>.work (key = kind)
 *   poison  ──▶ <p>.dead (fanout) ──▶ <p>.dead queue
 *   events  ──▶ <p>.events (topic, key = status.<status>.<type>)
 */
import type { Channel, ConfirmChannel } from 'amqplib';
import { RETRY_BACKOFF, TASK_KINDS, type TaskError, type TaskKind, type TaskStatus } from './task.js';

/** Redeliveries after which a message is dead-lettered (a crash loop, not a task failure). */
export const DELIVERY_LIMIT = 5;

/** Delay steps for retries, in ms: powers of two from the backoff base up to its cap. */
export const DELAY_STEPS_MS: readonly number[] = (() => {
  const steps: number[] = [];
  for (let ms = RETRY_BACKOFF.baseMs; ms < RETRY_BACKOFF.capMs; ms *= 2) steps.push(ms);
  steps.push(RETRY_BACKOFF.capMs);
  return steps;
})();

export interface Topology {
  workExchange: string;
  queues: Record<TaskKind, string>;
  deadExchange: string;
  deadQueue: string;
  eventsExchange: string;
  delayQueue(kind: TaskKind, stepMs: number): string;
}

export function topology(prefix = 'tasks'): Topology {
  return {
    workExchange: `${prefix}.work`,
    queues: { cpu: `${prefix}.cpu`, io: `${prefix}.io` },
    deadExchange: `${prefix}.dead`,
    deadQueue: `${prefix}.dead`,
    eventsExchange: `${prefix}.events`,
    delayQueue: (kind, stepMs) => `${prefix}.delay.${kind}.${stepMs}`,
  };
}

/**
 * Where to publish a work message that may run in `waitMs`: straight to the work exchange when
 * due, else to the delay queue of the largest step not longer than the wait (what remains is
 * delayed again when the claim answers TASK_NOT_DUE), via the default exchange.
 */
export function workRoute(
  t: Topology,
  kind: TaskKind,
  waitMs: number,
): { exchange: string; routingKey: string } {
  if (waitMs <= 0) return { exchange: t.workExchange, routingKey: kind };
  const step = [...DELAY_STEPS_MS].reverse().find((s) => s <= waitMs) ?? DELAY_STEPS_MS[0]!;
  return { exchange: '', routingKey: t.delayQueue(kind, step) };
}

export async function declareTopology(ch: Channel | ConfirmChannel, t: Topology): Promise<void> {
  await ch.assertExchange(t.workExchange, 'direct', { durable: true });
  await ch.assertExchange(t.deadExchange, 'fanout', { durable: true });
  await ch.assertExchange(t.eventsExchange, 'topic', { durable: true });
  await ch.assertQueue(t.deadQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(t.deadQueue, t.deadExchange, '');
  for (const kind of TASK_KINDS) {
    await ch.assertQueue(t.queues[kind], {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': DELIVERY_LIMIT,
        'x-dead-letter-exchange': t.deadExchange,
      },
    });
    await ch.bindQueue(t.queues[kind], t.workExchange, kind);
    for (const step of DELAY_STEPS_MS) {
      await ch.assertQueue(t.delayQueue(kind, step), {
        durable: true,
        arguments: {
          'x-message-ttl': step,
          'x-dead-letter-exchange': t.workExchange,
          'x-dead-letter-routing-key': kind,
        },
      });
    }
  }
}

/** The body of a work message. `version` is the task version that was queued (for markPublished). */
export interface WorkMessage {
  taskId: string;
  type: string;
  kind: TaskKind;
  version: number;
}

export const WORK_MESSAGE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['taskId', 'type', 'kind', 'version'],
  properties: {
    taskId: { type: 'string', minLength: 1, maxLength: 100 },
    type: { type: 'string', minLength: 1, maxLength: 100 },
    kind: { enum: TASK_KINDS },
    version: { type: 'integer', minimum: 1 },
  },
} as const;

/** A status change, published after the store recorded it. */
export interface StatusEvent {
  taskId: string;
  type: string;
  status: TaskStatus;
  version: number;
  attempts: number;
  at: string;
  progress?: number | null;
  error?: TaskError | null;
}

export function eventRoutingKey(status: TaskStatus, type: string): string {
  return `status.${status}.${type}`;
}

/** Header names carried on messages. */
export const HEADERS = {
  requestId: 'x-request-id',
  deadReason: 'x-dead-reason',
} as const;
