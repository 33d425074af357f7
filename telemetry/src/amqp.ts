/**
 * Trace context across RabbitMQ (docs/observability.md): the publish span's W3C `traceparent`
 * travels in the message's AMQP headers, and the consumer's span is its child — so the run of
 * a task is in the trace of whatever published it.
 */
import { SpanKind, type Span } from '@opentelemetry/api';
import {
  contextOfTraceparent,
  extractTraceContext,
  hasActiveTrace,
  injectTraceHeaders,
  linkTo,
  withSpan,
} from './spans.js';

export interface MessagingTarget {
  /** The exchange published to, or the queue consumed from. */
  destination: string;
  routingKey?: string;
  messageId?: string;
  /** Extra attributes (task id, type). */
  attributes?: Record<string, string | number>;
}

function messagingAttributes(operation: 'publish' | 'process', t: MessagingTarget) {
  return {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': t.destination,
    ...(t.routingKey !== undefined && { 'messaging.rabbitmq.destination.routing_key': t.routingKey }),
    ...(t.messageId !== undefined && { 'messaging.message.id': t.messageId }),
    ...t.attributes,
  };
}

/**
 * A PRODUCER span around one publish; `headers` gets its traceparent. With no active trace (the
 * dispatcher's timer) the span continues the trace of `origin`, the task's creating request, so
 * that a late publish and its run stay in the trace the task shows.
 */
export function publishSpan<T>(
  target: MessagingTarget,
  headers: Record<string, unknown>,
  origin: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  // From a timer (the dispatcher) there is no active trace: continue the task's. Within a request
  // or a consumer, that trace stays the parent and the task's is linked when it is another one.
  const fromOrigin = hasActiveTrace() ? undefined : contextOfTraceparent(origin);
  const links = fromOrigin ? [] : linkTo(origin);
  return withSpan(
    `publish ${target.destination}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: messagingAttributes('publish', target),
      parent: fromOrigin,
      links,
    },
    (span) => {
      injectTraceHeaders(headers, span);
      return fn();
    },
  );
}

/** A CONSUMER span around the handling of one delivery, child of the publish its headers name. */
export function consumeSpan<T>(
  target: MessagingTarget,
  headers: Record<string, unknown> | undefined,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  return withSpan(
    `process ${target.destination}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: messagingAttributes('process', target),
      parent: extractTraceContext(headers),
    },
    fn,
  );
}
