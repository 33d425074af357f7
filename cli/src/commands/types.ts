/** `tasksctl types`: the registered task types, with their settings (paused, limits; `-`: none). */
import type { TaskType } from '@tasks/contracts';
import type { StoreCaller, Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { formatAge, formatDuration, renderTable, toJson } from '../format.js';

export interface TypesArgs {
  json: boolean;
}

export async function listTypes(client: StoreCaller, args: TypesArgs, out: Writer): Promise<ExitCode> {
  const { items } = await client.call('taskTypes.list', {});
  if (args.json) out.write(toJson({ items }));
  else out.write(items.length > 0 ? renderTypes(items) : 'no task types registered\n');
  return EXIT.ok;
}

export function renderTypes(items: readonly TaskType[], now: number = Date.now()): string {
  const sorted = [...items].sort((a, b) => a.type.localeCompare(b.type));
  return renderTable(
    [
      { header: 'type' },
      { header: 'kind' },
      { header: 'paused' },
      { header: 'concurrency', align: 'right' },
      { header: 'rate', align: 'right' },
      { header: 'timeout', align: 'right' },
      { header: 'attempts', align: 'right' },
      { header: 'registered by' },
      { header: 'updated', align: 'right' },
      { header: 'description' },
    ],
    sorted.map((t) => [
      t.type,
      t.kind,
      t.paused ? 'yes' : 'no',
      t.concurrency === null ? '-' : String(t.concurrency),
      t.ratePerSecond === null ? '-' : `${t.ratePerSecond}/s`,
      formatDuration(t.timeoutMs),
      String(t.maxAttempts),
      t.registeredBy,
      `${formatAge(t.updatedAt, now)} ago`,
      t.description ?? '',
    ]),
  );
}
