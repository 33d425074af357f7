import { runService } from '@tasks/service-runtime';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { installCrashGuard } from './task-code/crash-guard.js';

runService({
  name: 'executor',
  loadConfig,
  createLogger: (config) => createLogger(config.logLevel, config.telemetry.enabled),
  instrumentations: ['http'],
  async start(config, log) {
    // Before anything starts: task code that throws from a timer or leaves a rejection unhandled
    // fails its own attempt; it never ends this process.
    installCrashGuard(process, log);
    const { startExecutor } = await import('./executor-service.js');
    const running = await startExecutor(config, log);
    return {
      stop: () => running.stop(),
      ready: { message: 'executor ready', fields: { ops: running.opsUrl } },
      stoppingFields: () => ({
        inFlight: running.executor.inFlight,
        claimsInFlight: running.executor.claimsInFlight,
      }),
    };
  },
});
