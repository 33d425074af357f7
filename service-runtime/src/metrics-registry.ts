/** Each service's Prometheus registry, made the same way in all three. */
import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A registry of its own (several servers can live in one process: tests), labelled with the
 * service's name and holding Node's process metrics (CPU, memory, event-loop lag, handles).
 */
export function serviceRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
