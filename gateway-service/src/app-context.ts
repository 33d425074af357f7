/**
 * The types every route and middleware shares: the request state, the router context and what
 * the app is built from. Apart from app.ts, which imports the routes, so that no import goes round.
 */
import type { RouterContext } from '@koa/router';
import type { TaskStoreClient } from '@tasks/contracts';
import type { Broker } from '@tasks/messaging';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { EventHub } from './events/event-hub.js';
import type { GatewayMetrics } from './metrics.js';
import type { TaskPublisher } from './task-publisher.js';

export interface GatewayState {
  requestId: string;
  log: Logger;
  /** Who is calling (a hash of the API key) when auth is on. */
  client?: string;
}

export type GatewayContext = RouterContext<GatewayState>;

export interface AppDeps {
  config: Readonly<Config>;
  store: TaskStoreClient;
  broker: Broker;
  publisher: TaskPublisher;
  hub: EventHub;
  metrics: GatewayMetrics;
  log: Logger;
  /** True once the gateway is stopping: /readyz answers 503 so that traffic moves elsewhere. */
  isDraining?: () => boolean;
}
