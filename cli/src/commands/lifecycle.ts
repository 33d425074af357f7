/** Operator actions on task status: `cancel`, `retry`, `requeue-expired`. */
import type { StoreCaller, Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { clean, toJson } from '../format.js';
import { renderTaskTable } from '../task-table.js';

/** Recorded in the task's history as who made the change. */
export const ACTOR = 'tasksctl';

export interface CancelArgs {
  id: string;
  reason?: string;
  json: boolean;
}

export async function cancelTask(client: StoreCaller, args: CancelArgs, out: Writer): Promise<ExitCode> {
  const task = await client.call('tasks.cancel', { id: args.id, by: ACTOR, reason: args.reason });
  out.write(args.json ? toJson(task) : clean(`task ${task.id} is ${task.status}`) + '\n');
  return EXIT.ok;
}

export interface RetryArgs {
  id: string;
  json: boolean;
}

export async function retryTask(client: StoreCaller, args: RetryArgs, out: Writer): Promise<ExitCode> {
  const task = await client.call('tasks.retry', { id: args.id, by: ACTOR });
  out.write(
    args.json
      ? toJson(task)
      : clean(`task ${task.id} is ${task.status} again (attempts 0/${task.maxAttempts})`) + '\n',
  );
  return EXIT.ok;
}

export interface RequeueExpiredArgs {
  limit?: number;
  json: boolean;
}

export async function requeueExpired(
  client: StoreCaller,
  args: RequeueExpiredArgs,
  out: Writer,
): Promise<ExitCode> {
  const { items } = await client.call('tasks.requeueExpired', { by: ACTOR, limit: args.limit });
  if (args.json) {
    out.write(toJson({ items }));
    return EXIT.ok;
  }
  if (items.length === 0) {
    out.write('no expired leases\n');
    return EXIT.ok;
  }
  const failed = items.filter((t) => t.status === 'failed').length;
  out.write(`${items.length} expired lease(s): ${items.length - failed} requeued, ${failed} failed\n`);
  out.write(renderTaskTable(items));
  return EXIT.ok;
}
