/**
 * RabbitMQ wire formats: exchange and queue names, their arguments, the work message and the
 * status event. Whoever needs a piece of the topology declares it (idempotently): the shared part
 * with `declareTopology`, a task type's queue with `declareTypeQueue`.
 *
 *   publish ──▶ <p>.work (direct, key = type or type:p<N>) ──▶ <p>.type.<type>      (band 0, quorum, delivery limit)
 *                                                        └──▶ <p>.type.<type>:p<N>  (bands 1..9, the same)
 *   retry   ──▶ <p>.wait.<ms> (fanout) ──▶ <p>.wait.<ms> (TTL ms) ──dead-letter──▶ <p>.work (key kept)
 *   poison  ──▶ <p>.dead (fanout) ──▶ <p>.dead queue   (recorded in the store, then acked)
 *   events  ──▶ <p>.events (topic, key = status.<status>.<type>)
 *
 * Work is routed by type so that an executor consumes only the types it has handlers for: a task
 * whose type no executor serves waits in its queue, visibly, and never reaches one that cannot run it.
 * Each type has a queue per priority band (docs/priorities.md): quorum queues have no message
 * priorities, so the executor takes the bands' deliveries highest first.
 */
import type { Channel, ConfirmChannel } from 'amqplib';
import {
  PRIORITY_RANGE,
  RETRY_BACKOFF,
  TASK_KINDS,
  type TaskError,
  type StatusEvent,
  type TaskKind,
  type TaskStatus,
} from './task.js';

/** Redeliveries after which a message is dead-lettered (a crash loop, not a task failure). */
export const DELIVERY_LIMIT = 5;

/** Delay steps for retries, in ms: powers of two from the backoff base up to its cap. */
export const DELAY_STEPS_MS: readonly number[] = (() => {
  const steps: number[] = [];
  for (let ms = RETRY_BACKOFF.baseMs; ms < RETRY_BACKOFF.capMs; ms *= 2) steps.push(ms);
  steps.push(RETRY_BACKOFF.capMs);
  return steps;
})();

/**
 * How far ahead a task is put on the broker. A task due later is not published when it is
 * created: its outbox entry becomes eligible this long before it is due, and the outbox relay
 * publishes it into a delay queue then (so far-future tasks do not cycle through delay queues).
 */
export const PUBLISH_HORIZON_MS = DELAY_STEPS_MS[DELAY_STEPS_MS.length - 1]!;

/** The priority bands of a task type, most urgent first: one queue each, band = priority. */
export const PRIORITY_BANDS: readonly number[] = Array.from(
  { length: PRIORITY_RANGE.max - PRIORITY_RANGE.min + 1 },
  (_, i) => PRIORITY_RANGE.max - i,
);

/**
 * The band of a task's priority. Tasks stored before the range was narrowed to 0..9 may hold
 * other values: they go to the nearest band.
 */
export function priorityBand(priority: number | undefined): number {
  const p = Math.trunc(priority ?? PRIORITY_RANGE.min);
  return Number.isFinite(p)
    ? Math.min(PRIORITY_RANGE.max, Math.max(PRIORITY_RANGE.min, p))
    : PRIORITY_RANGE.min;
}

/**
 * The routing key of a type's band: the type for band 0 (as before priorities), `<type>:p<N>`
 * above. `:` cannot occur in a type name, so no type's key is another type's band.
 */
export function workRoutingKey(type: string, band = 0): string {
  return band === 0 ? type : `${type}:p${band}`;
}

export interface Topology {
  workExchange: string;
  deadExchange: string;
  deadQueue: string;
  eventsExchange: string;
  /** The queue of one priority band of a task type (band 0 when not given), bound with workRoutingKey. */
  typeQueue(type: string, band?: number): string;
  /** The exchange and queue (same name) of one delay step. */
  waitQueue(stepMs: number): string;
  /** Queues of the per-kind layout used before routing by type; drained by executors (docs/executor.md). */
  legacyQueues: Record<TaskKind, string>;
}

export function topology(prefix = 'tasks'): Topology {
  return {
    workExchange: `${prefix}.work`,
    deadExchange: `${prefix}.dead`,
    deadQueue: `${prefix}.dead`,
    eventsExchange: `${prefix}.events`,
    typeQueue: (type, band = 0) => `${prefix}.type.${workRoutingKey(type, band)}`,
    waitQueue: (stepMs) => `${prefix}.wait.${stepMs}`,
    legacyQueues: { cpu: `${prefix}.cpu`, io: `${prefix}.io` },
  };
}

/** Every queue the topology declares for these task types (for tests and tools that clean up). */
export function topologyQueues(t: Topology, types: readonly string[]): string[] {
  return [
    t.deadQueue,
    ...DELAY_STEPS_MS.map((s) => t.waitQueue(s)),
    ...types.flatMap((type) => typeQueues(t, type)),
  ];
}

/** The queues of every priority band of a task type, most urgent first. */
export function typeQueues(t: Topology, type: string): string[] {
  return PRIORITY_BANDS.map((band) => t.typeQueue(type, band));
}

/**
 * Where to publish a work message that may run in `waitMs`: straight to the work exchange when
 * due, else to the delay step not longer than the wait (what remains is delayed again when the
 * claim answers TASK_NOT_DUE). The routing key names the type and the priority band either way: a
 * delay queue dead-letters its messages back to the work exchange with the key they were
 * published with.
 */
export function workRoute(
  t: Topology,
  msg: Pick<WorkMessage, 'type' | 'priority'>,
  waitMs: number,
): { exchange: string; routingKey: string } {
  const routingKey = workRoutingKey(msg.type, priorityBand(msg.priority));
  if (waitMs <= 0) return { exchange: t.workExchange, routingKey };
  const step = [...DELAY_STEPS_MS].reverse().find((s) => s <= waitMs) ?? DELAY_STEPS_MS[0]!;
  return { exchange: t.waitQueue(step), routingKey };
}

export async function declareTopology(ch: Channel | ConfirmChannel, t: Topology): Promise<void> {
  await ch.assertExchange(t.workExchange, 'direct', { durable: true });
  await ch.assertExchange(t.deadExchange, 'fanout', { durable: true });
  await ch.assertExchange(t.eventsExchange, 'topic', { durable: true });
  await ch.assertQueue(t.deadQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(t.deadQueue, t.deadExchange, '');
  for (const step of DELAY_STEPS_MS) {
    const name = t.waitQueue(step);
    await ch.assertExchange(name, 'fanout', { durable: true });
    await ch.assertQueue(name, {
      durable: true,
      arguments: { 'x-message-ttl': step, 'x-dead-letter-exchange': t.workExchange },
    });
    await ch.bindQueue(name, name, '');
  }
}

/**
 * Declares the queues of every priority band of a task type and binds them; returns what the
 * broker reports of them together: the messages ready in all bands, and the most consumers of any
 * band (every executor of this version consumes all bands; one of an older one, band 0 only).
 */
export async function declareTypeQueue(
  ch: Channel | ConfirmChannel,
  t: Topology,
  type: string,
): Promise<{ messageCount: number; consumerCount: number }> {
  let messageCount = 0;
  let consumerCount = 0;
  for (const band of PRIORITY_BANDS) {
    const q = await ch.assertQueue(t.typeQueue(type, band), {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': DELIVERY_LIMIT,
        'x-dead-letter-exchange': t.deadExchange,
      },
    });
    await ch.bindQueue(q.queue, t.workExchange, workRoutingKey(type, band));
    messageCount += q.messageCount;
    consumerCount = Math.max(consumerCount, q.consumerCount);
  }
  return { messageCount, consumerCount };
}

/** Deletes what declareTopology and declareTypeQueue made for these types (tests and tools clean up). */
export async function deleteTopology(
  ch: Channel | ConfirmChannel,
  t: Topology,
  types: readonly string[],
): Promise<void> {
  for (const queue of topologyQueues(t, types)) await ch.deleteQueue(queue);
  for (const step of DELAY_STEPS_MS) await ch.deleteExchange(t.waitQueue(step));
  for (const ex of [t.workExchange, t.deadExchange, t.eventsExchange]) await ch.deleteExchange(ex);
}

/** The body of a work message. `version` is the task version that was queued (for markPublished). */
export interface WorkMessage {
  taskId: string;
  type: string;
  kind: TaskKind;
  version: number;
  /** The task's priority band; absent in messages of versions before priorities, meaning 0. */
  priority?: number;
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
    priority: { type: 'integer', minimum: PRIORITY_RANGE.min, maximum: PRIORITY_RANGE.max },
  },
} as const;

/**
 * The work message of a task as the store returned it (everyone who publishes work builds it so).
 * Band 0 leaves `priority` out: executors of the version before priorities consume band 0 and
 * refuse a message with a property they do not know (dead-lettering it).
 */
export function workMessage(task: {
  id: string;
  type: string;
  kind: TaskKind;
  version: number;
  priority: number;
}): WorkMessage {
  const band = priorityBand(task.priority);
  return {
    taskId: task.id,
    type: task.type,
    kind: task.kind,
    version: task.version,
    ...(band > 0 && { priority: band }),
  };
}

/** Builds the status event of a task as the store returned it (the gateway and the executor both publish them). */
export function statusEvent(task: {
  id: string;
  type: string;
  status: TaskStatus;
  version: number;
  attempts: number;
  updatedAt: string;
  progress: number | null;
  error: TaskError | null;
  flowId?: string;
}): StatusEvent {
  return {
    ...(task.flowId !== undefined && { flowId: task.flowId }),
    taskId: task.id,
    type: task.type,
    status: task.status,
    version: task.version,
    attempts: task.attempts,
    at: task.updatedAt,
    progress: task.progress,
    error: task.error,
  };
}

export function eventRoutingKey(status: TaskStatus, type: string): string {
  return `status.${status}.${type}`;
}

/** Header names carried on messages. */
export const HEADERS = {
  requestId: 'x-request-id',
  deadReason: 'x-dead-reason',
} as const;
