export { loadConfig, ConfigError, type Config } from './config.js';
export { createLogger } from './logger.js';
export { startStoreService, type StoreService } from './store-service.js';
export { STALE_FENCE_MS, BUSY_TIMEOUT_MS } from './store/fenced-update.js';
export { EQUALITY_FILTERED_FIELDS } from './store/collections.js';
export { BUCKET_MS, bucketOf, hourOf, nodesOf } from './store/list-buckets.js';
