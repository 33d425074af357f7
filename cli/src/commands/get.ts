/** `tasksctl get <id>`: one task, as a detail view or raw JSON. */
import type { HoldReason, Task } from '@tasks/contracts';
import type { StoreCaller, Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { clean, formatDuration, formatTime, toJson } from '../format.js';
import { renderEntry } from './history.js';

export interface GetArgs {
  id: string;
  json: boolean;
}

export async function getTask(client: StoreCaller, args: GetArgs, out: Writer): Promise<ExitCode> {
  const task = await client.call('tasks.get', { id: args.id });
  out.write(args.json ? toJson(task) : renderTask(task));
  return EXIT.ok;
}

const MAX_INLINE_JSON = 300;

/** Why a due task has not started (Task.heldBy). */
const HELD: Record<HoldReason, string> = {
  paused: 'waiting: type paused (tasksctl type resume)',
  concurrency: 'waiting: concurrency limit (tasksctl type limits)',
};

/** Compact JSON, cut short for the terminal (`--json` shows all of it). */
function inlineJson(value: unknown): string {
  if (value === undefined || value === null) return '-';
  const text = JSON.stringify(value);
  return text.length > MAX_INLINE_JSON ? `${text.slice(0, MAX_INLINE_JSON)}… (see --json)` : text;
}

export function renderTask(t: Task, now: number = Date.now()): string {
  const rows: [string, string][] = [
    ['id', t.id],
    ['type', `${t.type} (${t.kind})`],
    ['status', t.status],
    ['attempts', `${t.attempts}/${t.maxAttempts}`],
    ['priority', String(t.priority)],
    ['timeout', formatDuration(t.timeoutMs)],
    ['created', formatTime(t.createdAt, now)],
    ['updated', formatTime(t.updatedAt, now)],
    ['run at', formatTime(t.runAt, now)],
    ['started', formatTime(t.startedAt, now)],
    ['finished', formatTime(t.finishedAt, now)],
  ];
  if (t.expiresAt) rows.push(['expires', `${formatTime(t.expiresAt, now)}, unless started by then`]);
  if (t.heldBy) rows.push(['held', HELD[t.heldBy]]);
  if (t.leaseOwner) rows.push(['lease', `${t.leaseOwner}, expires ${formatTime(t.leaseExpiresAt, now)}`]);
  if (t.progress !== null) {
    rows.push(['progress', `${t.progress}%${t.progressMessage ? ` ${t.progressMessage}` : ''}`]);
  }
  if (t.idempotencyKey) rows.push(['idempotency', t.idempotencyKey]);
  if (t.error) {
    const retry = t.error.retryable === false ? ' (not retryable)' : '';
    rows.push(['error', `${t.error.code}: ${t.error.message}${retry}`]);
  }
  rows.push(['payload', inlineJson(t.payload)]);
  if (t.status === 'succeeded') rows.push(['result', inlineJson(t.result)]);
  rows.push(['version', String(t.version)]);

  const keyWidth = Math.max(...rows.map(([k]) => k.length)) + 1;
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(keyWidth)}  ${clean(v)}`);
  if (t.history.length > 0) {
    const earlier = t.historyOffset ?? 0;
    lines.push(
      earlier > 0
        ? `history (the latest ${t.history.length} of ${earlier + t.history.length}; all: tasksctl history ${t.id}):`
        : 'history:',
    );
    for (const h of t.history) lines.push(`  ${renderEntry(h, now)}`);
  }
  return lines.join('\n') + '\n';
}
