/**
 * tasks.bulkAction: one page of a cancel or retry by filter (docs/tags-and-bulk-actions.md).
 * The page is a list page of the filter for one status the action applies to (an equality every
 * list path serves from its indexes), walked status by status; each task is changed by the same
 * code as tasks.cancel or tasks.retry (fences, flows, slots, holds, outbox). A task that is no
 * longer eligible when its turn comes is skipped, so a repeated page changes only what still
 * matches.
 */
import {
  BULK_ACTION_STATUSES,
  BULK_PAGE_DEFAULT,
  DEPENDENCY_FAILED,
  type BulkActionParams,
  type TaskStatus,
} from '@tasks/contracts';
import { AppError, isAppError } from '../app-error.js';
import type { Collections } from './collections.js';
import type { SummaryDoc, TaskDoc } from './documents.js';
import { listTasks } from './list-pages.js';
import { cancel, retry } from './task-lifecycle.js';

/** Tasks of a page changed at once: each change is a few round trips of its own. */
const CHANGES_IN_FLIGHT = 8;

export interface BulkPage {
  matched: number;
  changed: number;
  nextCursor: string | null;
  /** The changed tasks as they are now. */
  tasks: TaskDoc[];
  /** Flow nodes the changes moved. */
  dependents: TaskDoc[];
}

export async function bulkAction(collections: Collections, p: BulkActionParams): Promise<BulkPage> {
  const statuses = statusesOf(p);
  const { index, listCursor } = decodeBulkCursor(p.cursor, statuses.length);
  const { type, createdBefore, createdAfter, tag } = p.filter;
  const range = { type, createdBefore, createdAfter };
  const tags = tag === undefined ? undefined : typeof tag === 'string' ? [tag] : tag;
  const page = await listTasks(collections, {
    ...range,
    status: statuses[index],
    ...(tags && { tags }),
    limit: p.limit ?? BULK_PAGE_DEFAULT,
    ...(listCursor !== undefined && { cursor: listCursor }),
  });
  const nextCursor = page.nextCursor
    ? `${index}-${page.nextCursor}`
    : index + 1 < statuses.length
      ? String(index + 1)
      : null;
  const eligible = page.docs.filter((d) => applies(p.action, d));
  if (p.dryRun) return { matched: eligible.length, changed: 0, nextCursor, tasks: [], dependents: [] };

  const by = p.by ?? 'bulk-action';
  const changed: TaskDoc[] = [];
  const dependents: TaskDoc[] = [];
  const queue = [...eligible];
  const worker = async () => {
    for (let doc = queue.shift(); doc; doc = queue.shift()) {
      const moved: TaskDoc[] = [];
      const done = await changeOne(collections, p.action, doc._id, by, moved);
      if (done) changed.push(done);
      dependents.push(...moved);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHANGES_IN_FLIGHT, queue.length) }, worker));
  return { matched: eligible.length, changed: changed.length, nextCursor, tasks: changed, dependents };
}

/** The statuses to walk: the filter's (when the action applies to it), else every one it applies to. */
function statusesOf(p: BulkActionParams): readonly TaskStatus[] {
  const statuses = BULK_ACTION_STATUSES[p.action];
  if (p.filter.status === undefined) return statuses;
  if (!statuses.includes(p.filter.status)) {
    const message = `${p.action} applies to ${statuses.join(', ')} tasks only`;
    throw new AppError('VALIDATION_FAILED', message, { fields: [{ path: '/filter/status', message }] });
  }
  return [p.filter.status];
}

/** A flow node cancelled because a dependency failed is retried through that dependency (tasks.retry refuses it). */
function applies(action: BulkActionParams['action'], doc: SummaryDoc): boolean {
  return !(action === 'retry' && doc.flowId !== undefined && doc.error?.code === DEPENDENCY_FAILED);
}

/** The task changed, or null when it has moved on (another status, or gone) since the page was read. */
async function changeOne(
  collections: Collections,
  action: BulkActionParams['action'],
  id: string,
  by: string,
  moved: TaskDoc[],
): Promise<TaskDoc | null> {
  try {
    return action === 'cancel'
      ? await cancel(collections, { id, by }, moved)
      : await retry(collections, { id, by }, moved);
  } catch (err) {
    if (isAppError(err) && (err.type === 'INVALID_TRANSITION' || err.type === 'TASK_NOT_FOUND')) return null;
    throw err;
  }
}

/** `<status index>` or `<status index>-<list cursor>`: where in which status's walk the next page starts. */
function decodeBulkCursor(
  cursor: string | undefined,
  statuses: number,
): { index: number; listCursor?: string } {
  if (cursor === undefined) return { index: 0 };
  const dash = cursor.indexOf('-');
  const index = Number(dash < 0 ? cursor : cursor.slice(0, dash));
  if (!Number.isSafeInteger(index) || index >= statuses) {
    throw new AppError('VALIDATION_FAILED', 'cursor is not one this store issued for this filter', {
      fields: [{ path: '/cursor', message: 'is not a valid cursor' }],
    });
  }
  return dash < 0 ? { index } : { index, listCursor: cursor.slice(dash + 1) };
}
