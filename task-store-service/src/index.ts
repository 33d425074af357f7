export { loadConfig, ConfigError, ENV_SCHEMA, type Config } from './config.js';
export { createLogger } from './logger.js';
export { startStoreService, type StoreService } from './store-service.js';
export { EQUALITY_FILTERED_FIELDS, TASK_INDEXES } from './store/collections.js';
export { FenceSweeper, fenceTimes } from './store/fence-sweep.js';
export { BUCKET_MS, bucketOf, hourOf, nodesOf } from './store/list-buckets.js';
export { createMetrics } from './metrics.js';
// The stored documents' shapes and labels, for benchmarks and tools that write a history straight
// into the database: their documents must be what the store writes, or they measure another store.
export type { BucketNodeDoc } from './store/bucket-tree.js';
export type { CountWriterDoc, TaskCountsDoc, TaskDoc } from './store/documents.js';
export { hourLabel, labelsOf } from './store/task-labels.js';
export { queuedTaskDoc, type NewTaskFields } from './store/task-creation.js';
// For bench/store/retention-first-pass.ts: one sweeper pass on a database with history in it.
export { ensureIndexes, openCollections } from './store/collections.js';
export { RetentionSweeper } from './store/retention.js';
export { FINISHED_HOUR_MARKER, markNewDatabase } from './store/finished-hour-backfill.js';
