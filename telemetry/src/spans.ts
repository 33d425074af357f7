/**
 * Spans made by hand at the seams no instrumentation covers: JSON-RPC calls (client and server),
 * AMQP publish and consume, the task run. Everything here is a no-op — fn runs bare, no
 * context is read — until startTelemetry turned tracing on, so that the cost when off is a
 * boolean test (BENCHMARKS.md, "Tracing").
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';

export { SpanKind, type Context };

let on = false;

/** Called by startTelemetry once the SDK is registered (and by tests). */
export function setTracingOn(value: boolean): void {
  on = value;
}

export function tracingOn(): boolean {
  return on;
}

const tracer = () => trace.getTracer('@tasks/telemetry');

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active context when absent. */
  parent?: Context;
  links?: Link[];
}

/**
 * Runs fn inside a new active span, ended when fn settles; a throw marks the span as an error.
 * With tracing off fn runs as is and gets undefined.
 */
export async function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!on) return fn(undefined);
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks a span as failed with the error (its type or code when it has one). */
export function failSpan(span: Span | undefined, err: unknown): void {
  if (!span) return;
  const e = err as { message?: unknown; type?: unknown };
  if (err instanceof Error) span.recordException(err);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: typeof e?.type === 'string' ? e.type : typeof e?.message === 'string' ? e.message : String(err),
  });
}

/** Starts a span the caller ends (several at once, e.g. one per call of a JSON-RPC batch). */
export function startSpan(name: string, options: SpanOptions): Span | undefined {
  if (!on) return undefined;
  return tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    options.parent ?? context.active(),
  );
}

/** The active context, to carry across a hop the async context does not follow (a batching queue). */
export function activeContext(): Context | undefined {
  return on ? context.active() : undefined;
}

/** Runs fn with ctx active (as is when tracing is off or there is none). */
export function withContext<T>(ctx: Context | undefined, fn: () => T): T {
  return on && ctx ? context.with(ctx, fn) : fn();
}

/** Writes the W3C trace context of the span (else the active context) into message or request headers. */
export function injectTraceHeaders(headers: Record<string, unknown>, span?: Span): void {
  if (!on) return;
  const ctx = span ? trace.setSpan(context.active(), span) : context.active();
  propagation.inject(ctx, headers);
}

/** The W3C traceparent of a span, e.g. for a header that carries one per call. */
export function traceparentOfSpan(span: Span): string {
  const s = span.spanContext();
  return `00-${s.traceId}-${s.spanId}-0${(s.traceFlags & 1).toString(16)}`;
}

/** The context that incoming headers (HTTP, AMQP) carry; the root context when none. */
export function extractTraceContext(headers: Record<string, unknown> | undefined): Context {
  if (!headers) return ROOT_CONTEXT;
  const carrier: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const value = headers[key];
    if (typeof value === 'string') carrier[key] = value;
    else if (Buffer.isBuffer(value)) carrier[key] = value.toString('utf8'); // AMQP may hand strings back as bytes
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** The context of a stored traceparent (a task's creating request). */
export function contextOfTraceparent(traceparent: string | undefined | null): Context | undefined {
  if (!on || !traceparent || !isTraceparent(traceparent)) return undefined;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** A span link to a stored traceparent, when it is another trace than the active one. */
export function linkTo(traceparent: string | undefined | null): Link[] {
  const ctx = contextOfTraceparent(traceparent);
  if (!ctx) return [];
  const linked = trace.getSpanContext(ctx);
  const active = trace.getSpanContext(context.active());
  if (!linked || linked.traceId === active?.traceId) return [];
  return [{ context: linked }];
}

/** Whether the active context belongs to a trace (a sampled or unsampled span). */
export function hasActiveTrace(): boolean {
  return on && trace.getSpanContext(context.active()) !== undefined;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** A W3C traceparent of version 00 whose ids are not all zero. Read without the SDK (the store keeps it on the task). */
export function isTraceparent(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = TRACEPARENT.exec(value);
  return m !== null && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
}

/** The trace id of a traceparent, or undefined when it is not one. */
export function traceIdOf(traceparent: string | undefined | null): string | undefined {
  return isTraceparent(traceparent) ? traceparent.slice(3, 35) : undefined;
}
