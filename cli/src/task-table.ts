/** The task table shared by `list` and `requeue-expired`. */
import type { TaskSummary } from '@tasks/contracts';
import { formatAge, renderTable, type Column } from './format.js';

const COLUMNS: readonly Column[] = [
  { header: 'id' },
  { header: 'type' },
  { header: 'status' },
  { header: 'attempts', align: 'right' },
  { header: 'age', align: 'right' },
  { header: 'updated', align: 'right' },
];

export function renderTaskTable(tasks: readonly TaskSummary[], now: number = Date.now()): string {
  return renderTable(
    COLUMNS,
    tasks.map((t) => [
      t.id,
      t.type,
      t.status,
      `${t.attempts}/${t.maxAttempts}`,
      formatAge(t.createdAt, now),
      `${formatAge(t.updatedAt, now)} ago`,
    ]),
  );
}
