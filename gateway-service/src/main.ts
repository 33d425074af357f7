import { runService } from '@tasks/service-runtime';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';

runService({
  name: 'gateway',
  loadConfig,
  createLogger: (config) => createLogger(config.logLevel, config.telemetry.enabled),
  instrumentations: ['http', 'koa'],
  async start(config, log) {
    const { startGateway } = await import('./gateway-service.js');
    const gateway = await startGateway(config, log);
    return {
      stop: () => gateway.stop(),
      ready: { message: 'gateway listening', fields: { url: gateway.url } },
    };
  },
});
