import { traceLogFields } from '@tasks/telemetry';
import { pino, type Logger } from 'pino';

/** With tracing on, each line carries the active span's traceId and spanId (docs/observability.md). */
export function createLogger(level: string, tracing = false): Logger {
  return pino({ level, base: { service: 'gateway' }, ...(tracing && { mixin: traceLogFields }) });
}
