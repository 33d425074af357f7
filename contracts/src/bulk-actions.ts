/** Bulk actions by filter (docs/tags-and-bulk-actions.md): what they may do, and to which statuses. */
import type { TaskStatus } from './task.js';

export const BULK_ACTIONS = ['cancel', 'retry'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** The statuses each action applies to: the same as tasks.cancel and tasks.retry accept. */
export const BULK_ACTION_STATUSES: Readonly<Record<BulkAction, readonly TaskStatus[]>> = {
  cancel: ['queued', 'waiting', 'running'],
  retry: ['failed', 'cancelled'],
};

/** Tasks one tasks.bulkAction call handles at most (its `limit`), and by default. */
export const BULK_PAGE_MAX = 500;
export const BULK_PAGE_DEFAULT = 100;

export interface BulkFilter {
  status?: TaskStatus;
  type?: string;
  /** One tag or several: every one must be on the task. */
  tag?: string | string[];
  createdBefore?: string;
  createdAfter?: string;
}
