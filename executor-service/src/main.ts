import { isShutdownIncomplete, SHUTDOWN_CLOSE_ALLOWANCE_MS } from '@tasks/contracts';
import { startTelemetry } from '@tasks/telemetry';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { installCrashGuard } from './task-code/crash-guard.js';

async function run(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, config.telemetry.enabled);
  // Before the service's modules load: the instrumentations hook them as they are imported.
  const telemetry = await startTelemetry(config.telemetry, ['http']);
  if (telemetry.enabled)
    log.info(
      { endpoint: config.telemetry.tracesUrl, serviceName: config.telemetry.serviceName },
      'tracing on',
    );
  // Before anything starts: task code that throws from a timer or leaves a rejection unhandled
  // fails its own attempt; it never ends this process.
  installCrashGuard(process, log);
  const { startExecutor } = await import('./executor-service.js');
  const running = await startExecutor(config, log);
  log.info({ ops: running.opsUrl }, 'executor ready');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, inFlight: running.executor.inFlight }, 'shutting down');
    // Last resort should an await in the stop path escape its deadline.
    setTimeout(
      () => {
        log.error({ signal, graceMs: config.shutdownGraceMs }, 'shutdown did not finish; exiting');
        process.exit(1);
      },
      config.shutdownGraceMs + SHUTDOWN_CLOSE_ALLOWANCE_MS + 1_000,
    ).unref();
    running
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
}

run().catch((err: unknown) => {
  process.stderr.write(
    err instanceof ConfigError
      ? `executor: ${err.message}\n`
      : `executor: failed to start: ${String((err as Error)?.stack ?? err)}\n`,
  );
  process.exit(1);
});
