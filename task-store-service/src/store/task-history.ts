/**
 * A task's whole history (docs/history.md). The task document keeps the latest entries (at most
 * HISTORY_LIMIT); older ones move out, a block of HISTORY_BLOCK at a time, to `task_history`:
 * block `<taskId>:<k>` holds the entries at positions k·B … k·B+B-1 of the task's history, and
 * the task's `historyOffset` says how many entries live outside it (always a multiple of B).
 *
 * Crash safety: blocks are written after the change's fence is taken and before the task is
 * written (applyChange), and by whoever rolls a stale fence forward (settle), both from the
 * stored version the change was decided on. A reader trusts only blocks below the offset it read
 * from the task, so a block whose task update never landed is invisible, and when the change is
 * made again it holds the same entries (positions never move), so its insert is a harmless duplicate.
 */
import { HISTORY_LIMIT, HISTORY_PAGE_LIMITS, type HistoryEntry, type Page } from '@tasks/contracts';
import { AppError, isDuplicateKey } from '../app-error.js';
import { mapBounded } from './bounded-map.js';
import type { Collections } from './collections.js';
import { historyToWire, type HistoryBlockDoc, type HistoryDoc, type TaskDoc } from './documents.js';

export type { HistoryBlockDoc };

/** Entries per block moved out of the task: the document then keeps HISTORY_LIMIT − B + 1 … HISTORY_LIMIT. */
export const HISTORY_BLOCK = HISTORY_LIMIT / 2;

const blockId = (taskId: string, block: number): string => `${taskId}:${block}`;

/**
 * The one way a change adds history: the entries appended to the task's latest ones, and, when
 * that makes more than HISTORY_LIMIT, the oldest whole blocks counted out (`historyOffset`).
 * applyChange writes those blocks before the task.
 */
export function appendHistory(
  doc: Pick<TaskDoc, 'history' | 'historyOffset'>,
  ...entries: HistoryDoc[]
): Pick<TaskDoc, 'history' | 'historyOffset'> {
  let history = [...doc.history, ...entries];
  let offset = doc.historyOffset ?? 0;
  if (history.length <= HISTORY_LIMIT) return { history };
  while (history.length > HISTORY_LIMIT) {
    history = history.slice(HISTORY_BLOCK);
    offset += HISTORY_BLOCK;
  }
  return { history, historyOffset: offset };
}

/**
 * The blocks a change from `prev` to `next` moves out of the task (none for most changes), taken
 * from `prev`, the stored version the change was decided on.
 */
export function blocksMoved(
  prev: Pick<TaskDoc, '_id' | 'history' | 'historyOffset'>,
  next: Partial<Pick<TaskDoc, 'historyOffset'>>,
  at: Date,
): HistoryBlockDoc[] {
  const from = prev.historyOffset ?? 0;
  const to = next.historyOffset ?? from;
  const blocks: HistoryBlockDoc[] = [];
  for (let seq = from; seq < to; seq += HISTORY_BLOCK) {
    const entries = prev.history.slice(seq - from, seq - from + HISTORY_BLOCK);
    // appendHistory moves only entries the previous version held; anything else is a bug, not data.
    if (entries.length !== HISTORY_BLOCK || seq % HISTORY_BLOCK !== 0)
      throw new Error(`history of task ${prev._id}: cannot move entries ${seq}.. out of version ${from}+`);
    const block = seq / HISTORY_BLOCK;
    blocks.push({ _id: blockId(prev._id, block), taskId: prev._id, block, entries, at });
  }
  return blocks;
}

/** Writes the blocks a change moves out (idempotent: a block already there holds the same entries). */
export async function writeMovedHistory(
  collections: Collections,
  prev: TaskDoc,
  next: Partial<Pick<TaskDoc, 'historyOffset'>>,
  at: Date,
): Promise<void> {
  const blocks = blocksMoved(prev, next, at);
  await Promise.all(
    blocks.map((b) =>
      collections.inserts.history.insert(b).catch((err: unknown) => {
        if (!isDuplicateKey(err)) throw err;
      }),
    ),
  );
}

/** A position in a task's history, opaque to callers: base64url of `h<seq>`. */
export function encodeHistoryCursor(seq: number): string {
  return Buffer.from(`h${seq}`).toString('base64url');
}

function badCursor(): AppError {
  return new AppError('VALIDATION_FAILED', 'cursor is not one this store issued', {
    fields: [{ path: '/cursor', message: 'is not a valid cursor' }],
  });
}

export function decodeHistoryCursor(text: string): number {
  const m = /^h(0|[1-9][0-9]{0,14})$/.exec(Buffer.from(text, 'base64url').toString('latin1'));
  if (!m || encodeHistoryCursor(Number(m[1])) !== text) throw badCursor();
  return Number(m[1]);
}

/**
 * One page of a task's whole history, oldest first: `limit` entries from the cursor's position.
 * Reads the task (its latest entries and offset), then only the blocks the page covers, by `_id`
 * (the same cost on MongoDB and FerretDB however long the history is).
 */
export async function readHistory(
  collections: Collections,
  p: { id: string; limit?: number; cursor?: string },
): Promise<Page<HistoryEntry>> {
  const limit = p.limit ?? HISTORY_PAGE_LIMITS.default;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > HISTORY_PAGE_LIMITS.max) {
    throw new AppError('VALIDATION_FAILED', `limit must be 1..${HISTORY_PAGE_LIMITS.max}`, {
      fields: [{ path: '/limit', message: `must be an integer 1..${HISTORY_PAGE_LIMITS.max}` }],
    });
  }
  const start = p.cursor === undefined ? 0 : decodeHistoryCursor(p.cursor);
  const task = await collections.tasks.findOne(
    { _id: p.id },
    { projection: { history: 1, historyOffset: 1 } },
  );
  if (!task) throw new AppError('TASK_NOT_FOUND', `no task with id ${p.id}`, { id: p.id });
  const offset = task.historyOffset ?? 0;
  const total = offset + task.history.length;
  // Positions only grow, and the store issues cursors below the total: a larger one is forged.
  if (start > total) throw badCursor();
  const end = Math.min(total, start + limit);
  const entries: HistoryDoc[] = [];
  if (start < offset) {
    const first = Math.floor(start / HISTORY_BLOCK);
    const last = Math.floor((Math.min(end, offset) - 1) / HISTORY_BLOCK);
    const ks = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    const blocks = await mapBounded(ks, 8, (k) => collections.history.findOne({ _id: blockId(p.id, k) }));
    for (const [i, b] of blocks.entries()) {
      if (!b) {
        // Below the offset every block was written before the task: only a removal takes one away.
        if (!(await collections.tasks.findOne({ _id: p.id }, { projection: { _id: 1 } })))
          throw new AppError('TASK_NOT_FOUND', `no task with id ${p.id}`, { id: p.id });
        throw new Error(`history block ${blockId(p.id, ks[i]!)} is missing`);
      }
      const base = b.block * HISTORY_BLOCK;
      entries.push(...b.entries.slice(Math.max(0, start - base), Math.min(end, offset) - base));
    }
  }
  if (end > offset) entries.push(...task.history.slice(Math.max(0, start - offset), end - offset));
  return { items: entries.map(historyToWire), nextCursor: end < total ? encodeHistoryCursor(end) : null };
}

/**
 * Removes the kept history of these tasks (retention removes a task's history with it). Call it
 * before removing the tasks: a sweep that stops in between finds the task again next time, while
 * blocks of a task already gone would be found by nothing. Idempotent; one `deleteMany` by
 * `taskId` (an equality FerretDB pushes down) per task.
 */
export async function deleteHistoryOf(collections: Collections, taskIds: string[]): Promise<number> {
  const counts = await mapBounded(
    taskIds,
    8,
    async (taskId) => (await collections.history.deleteMany({ taskId })).deletedCount,
  );
  return counts.reduce((a, b) => a + b, 0);
}
