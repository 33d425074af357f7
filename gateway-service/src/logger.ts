import { createServiceLogger } from '@tasks/service-runtime';
import type { Logger } from 'pino';

/** This service's logger: JSON lines with `service: 'gateway'`, trace ids when tracing is on. */
export function createLogger(level: string, tracing = false): Logger {
  return createServiceLogger('gateway', level, tracing);
}
