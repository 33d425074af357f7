export * from './env-config.js';
export * from './http-limits.js';
export * from './metrics-registry.js';
export * from './shutdown-deadline.js';
export * from './logger.js';
export * from './run-service.js';
