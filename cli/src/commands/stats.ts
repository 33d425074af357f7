/** `tasksctl stats`: counts by status and by type, outcomes in the last minute. */
import { TASK_STATUSES, type Stats } from '@tasks/contracts';
import type { StoreCaller, Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { renderTable, toJson } from '../format.js';

export interface StatsArgs {
  json: boolean;
}

export async function showStats(client: StoreCaller, args: StatsArgs, out: Writer): Promise<ExitCode> {
  const stats = await client.call('tasks.stats', {});
  out.write(args.json ? toJson(stats) : renderStats(stats));
  return EXIT.ok;
}

export function renderStats(stats: Stats): string {
  const total = TASK_STATUSES.reduce((sum, s) => sum + (stats.byStatus[s] ?? 0), 0);
  const byStatus = renderTable(
    [{ header: 'status' }, { header: 'tasks', align: 'right' }],
    [...TASK_STATUSES.map((s) => [s, String(stats.byStatus[s] ?? 0)]), ['total', String(total)]],
  );
  const types = Object.keys(stats.byType).sort();
  const byType =
    types.length === 0
      ? ''
      : '\n' +
        renderTable(
          [{ header: 'type' }, ...TASK_STATUSES.map((s) => ({ header: s, align: 'right' as const }))],
          types.map((t) => [t, ...TASK_STATUSES.map((s) => String(stats.byType[t]?.[s] ?? 0))]),
        );
  const lastMinute = `\nlast minute: ${stats.succeededLastMinute} succeeded, ${stats.failedLastMinute} failed\n`;
  const unserved = stats.unservedTypes
    .map((u) => `${u.type}: ${u.queued} queued, no executor serves this type\n`)
    .join('');
  return byStatus + byType + lastMinute + unserved;
}
