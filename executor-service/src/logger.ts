import { createServiceLogger } from '@tasks/service-runtime';
import type { Logger } from 'pino';

/** This service's logger: JSON lines with `service: 'executor'`, trace ids when tracing is on. */
export function createLogger(level: string, tracing = false): Logger {
  return createServiceLogger('executor', level, tracing);
}
