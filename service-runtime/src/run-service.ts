/**
 * The one bootstrap of a service process; each main.ts is a call to runService.
 *
 * In order: read the configuration (a bad one ends the process with one line on stderr), make
 * the logger, start tracing before the service's modules load (the instrumentations hook them as
 * they are imported), start the service and log that it is ready. On SIGTERM or SIGINT it stops
 * the service, which drains in its own order within its grace period (runShutdownSteps), then
 * exports the last spans and exits: 0 after a clean stop, 1 after one that did not finish. Should
 * an await in the stop path escape its deadline, the process exits 1 a second after grace period
 * plus SHUTDOWN_CLOSE_ALLOWANCE_MS.
 */
import { startTelemetry, type InstrumentationName, type TelemetryConfig } from '@tasks/telemetry';
import type { Logger } from 'pino';
import { ConfigError } from './env-config.js';
import { isShutdownIncomplete, SHUTDOWN_CLOSE_ALLOWANCE_MS } from './shutdown-deadline.js';

/** What runService reads of every service's configuration. */
export interface ServiceConfig {
  logLevel: string;
  shutdownGraceMs: number;
  telemetry: TelemetryConfig;
}

export interface StartedService {
  /** Drains and closes everything; rejects with a ShutdownIncomplete when that ran out of time. */
  stop(): Promise<void>;
  /** The line logged once the service is ready, e.g. `gateway listening` with its URL. */
  ready: { message: string; fields?: Record<string, unknown> };
  /** Fields for the `shutting down` line, read when the signal comes (e.g. the tasks in flight). */
  stoppingFields?(): Record<string, unknown>;
}

export interface ServiceDefinition<C extends ServiceConfig> {
  /** Begins the one-line start error on stderr, e.g. `gateway: invalid configuration: …`. */
  name: string;
  loadConfig(): C;
  createLogger(config: C): Logger;
  /** The instrumentations tracing hooks when it is on. */
  instrumentations: readonly InstrumentationName[];
  /** Imports the service's modules (tracing has started by then) and starts it. */
  start(config: C, log: Logger): Promise<StartedService>;
}

export function runService<C extends ServiceConfig>(service: ServiceDefinition<C>): void {
  run(service).catch((err: unknown) => {
    process.stderr.write(
      err instanceof ConfigError
        ? `${service.name}: ${err.message}\n`
        : `${service.name}: failed to start: ${String((err as Error)?.stack ?? err)}\n`,
    );
    process.exit(1);
  });
}

async function run<C extends ServiceConfig>(service: ServiceDefinition<C>): Promise<void> {
  const config = service.loadConfig();
  const log = service.createLogger(config);
  const telemetry = await startTelemetry(config.telemetry, service.instrumentations);
  if (telemetry.enabled)
    log.info(
      { endpoint: config.telemetry.tracesUrl, serviceName: config.telemetry.serviceName },
      'tracing on',
    );
  const started = await service.start(config, log);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, ...started.stoppingFields?.() }, 'shutting down');
    setTimeout(
      () => {
        log.error({ signal, graceMs: config.shutdownGraceMs }, 'shutdown did not finish; exiting');
        process.exit(1);
      },
      config.shutdownGraceMs + SHUTDOWN_CLOSE_ALLOWANCE_MS + 1_000,
    ).unref();
    started
      .stop()
      .finally(() => telemetry.shutdown())
      .then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          if (isShutdownIncomplete(err))
            log.error(
              { signal, unfinished: err.unfinished, failed: err.failed, graceMs: config.shutdownGraceMs },
              'shutdown did not finish cleanly',
            );
          else log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // Only now: whoever waits for this line may signal the process at once.
  log.info(started.ready.fields ?? {}, started.ready.message);
}
