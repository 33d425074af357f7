export { loadConfig, ConfigError, ENV_SCHEMA, type Config } from './config.js';
export { createLogger } from './logger.js';
export { startGateway, type RunningGateway } from './gateway-service.js';
export { createApp, type AppDeps } from './app.js';
