import { traceLogFields } from '@tasks/telemetry';
import { pino, type Logger } from 'pino';

/**
 * A service's JSON logger: every line carries `service`; with tracing on, also the active span's
 * traceId and spanId (docs/observability.md).
 */
export function createServiceLogger(service: string, level: string, tracing = false): Logger {
  return pino({ level, base: { service }, ...(tracing && { mixin: traceLogFields }) });
}
