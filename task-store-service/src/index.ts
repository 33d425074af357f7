export { loadConfig, ConfigError, type Config } from './config.js';
export { createLogger } from './logger.js';
export { startStoreService, type StoreService } from './store-service.js';
export { EQUALITY_FILTERED_FIELDS } from './store/collections.js';
export { BUCKET_MS, bucketOf, hourOf, nodesOf } from './store/list-buckets.js';
export { createMetrics } from './metrics.js';
