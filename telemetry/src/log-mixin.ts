/** The trace and span ids of the active span in every pino line (pino's `mixin`), when tracing is on. */
import { context, trace } from '@opentelemetry/api';
import { tracingOn } from './spans.js';

export function traceLogFields(): { traceId?: string; spanId?: string } {
  if (!tracingOn()) return {};
  const span = trace.getSpanContext(context.active());
  return span ? { traceId: span.traceId, spanId: span.spanId } : {};
}
