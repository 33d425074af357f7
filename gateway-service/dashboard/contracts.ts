/**
 * The wire types the dashboard reads, from the contracts' sources. Not through '@tasks/contracts':
 * its index brings the server-side modules (ajv, amqp) into this browser-only type check.
 * Types only; nothing of the contracts reaches the bundle.
 */
export type { Flow, FlowNode, FlowStatus, FlowSummary } from '../../contracts/src/flow.js';
export type { Schedule } from '../../contracts/src/schedule.js';
export type {
  DependencyResult,
  DependencyResults,
  HistoryEntry,
  StatusEvent,
  Task,
  TaskStatus,
  TaskSummary,
  TaskType as RegisteredType,
} from '../../contracts/src/task.js';
export type { HoldReason, TypeSettings } from '../../contracts/src/type-settings.js';
export type { WebhookDelivery } from '../../contracts/src/webhook.js';
