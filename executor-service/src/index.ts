export { loadConfig, ConfigError, ENV_SCHEMA, type Config } from './config.js';
export { createLogger } from './logger.js';
export { startExecutor, type RunningExecutor } from './executor-service.js';
export { defineTask, TaskFailure, type TaskDefinition, type TaskContext } from './tasks/task-definition.js';
export { createMetrics } from './metrics.js';
