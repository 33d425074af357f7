/** `tasksctl list`: newest first, filtered, one page at a time. */
import type { ListParams } from '@tasks/contracts';
import type { StoreCaller, Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { toJson } from '../format.js';
import { renderTaskTable } from '../task-table.js';

export interface ListArgs extends ListParams {
  json: boolean;
}

export async function listTasks(client: StoreCaller, args: ListArgs, out: Writer): Promise<ExitCode> {
  const { json, ...params } = args;
  const page = await client.call('tasks.list', params);
  if (json) {
    out.write(toJson(page));
    return EXIT.ok;
  }
  out.write(page.items.length > 0 ? renderTaskTable(page.items) : 'no tasks\n');
  // The cursor carries the position only: the same filters must be given with it.
  if (page.nextCursor) out.write(`next cursor: ${page.nextCursor}\n`);
  return EXIT.ok;
}
