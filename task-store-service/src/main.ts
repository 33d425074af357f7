import { runService } from '@tasks/service-runtime';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';

runService({
  name: 'task-store',
  loadConfig,
  createLogger: (config) => createLogger(config.logLevel, config.telemetry.enabled),
  instrumentations: ['http', 'mongodb'],
  async start(config, log) {
    const { startStoreService } = await import('./store-service.js');
    const store = await startStoreService(config, log);
    return {
      stop: () => store.close(),
      ready: { message: 'task store listening', fields: { url: store.url } },
    };
  },
});
