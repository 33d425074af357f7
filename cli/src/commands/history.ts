/** `tasksctl history <id>`: every change of a task, oldest first (docs/history.md). */
import { HISTORY_PAGE_LIMITS, type HistoryEntry } from '@tasks/contracts';
import type { StoreCaller, Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { clean, formatTime, toJson } from '../format.js';

export interface HistoryArgs {
  id: string;
  /** One page of this many entries (from `cursor`); without it, every page. */
  limit?: number;
  cursor?: string;
  json: boolean;
}

export async function showHistory(client: StoreCaller, args: HistoryArgs, out: Writer): Promise<ExitCode> {
  const one = args.limit !== undefined || args.cursor !== undefined;
  const items: HistoryEntry[] = [];
  let cursor = args.cursor;
  let next: string | null;
  do {
    const page = await client.call('tasks.history', {
      id: args.id,
      limit: args.limit ?? HISTORY_PAGE_LIMITS.max,
      ...(cursor !== undefined && { cursor }),
    });
    items.push(...page.items);
    next = page.nextCursor;
    cursor = next ?? undefined;
  } while (!one && next !== null);
  if (args.json) {
    out.write(toJson({ items, nextCursor: next }));
    return EXIT.ok;
  }
  const now = Date.now();
  for (const h of items) out.write(`${renderEntry(h, now)}\n`);
  if (items.length === 0) out.write('no entries\n');
  if (next !== null) out.write(`next cursor: ${next}\n`);
  return EXIT.ok;
}

export function renderEntry(h: HistoryEntry, now: number): string {
  const error = h.error ? `  ${h.error.code}: ${h.error.message}` : '';
  return clean(`${formatTime(h.at, now)}  ${h.status} by ${h.by}, attempt ${h.attempt}${error}`);
}
