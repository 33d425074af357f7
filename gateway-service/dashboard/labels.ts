/** Tags and metadata as the task list and the task page show them (docs/tags-and-bulk-actions.md). */
import { api } from './api.js';
import { h } from './dom.js';

/** Each tag as a chip; a click puts it in the task list's tag filter when `onPick` is given. */
export function tagChips(tags: readonly string[] = [], onPick?: (tag: string) => void): HTMLElement {
  return h(
    'span',
    { class: 'tags' },
    ...tags.map((t) =>
      onPick
        ? h(
            'button',
            {
              type: 'button',
              class: 'tag',
              'data-tag': t,
              title: `Only tasks tagged ${t}`,
              onclick: () => onPick(t),
            },
            t,
          )
        : h('span', { class: 'tag', 'data-tag': t }, t),
    ),
  );
}

export interface BulkTotals {
  action: 'cancel' | 'retry';
  dryRun: boolean;
  matched: number;
  changed: number;
}

/**
 * "Retry all failed" of one type: counts first (a dry run), asks with that count, then retries.
 * Resolves to the totals, or null when there was nothing to retry or the user said no.
 */
export async function retryAllFailed(
  type: string,
  ask: (question: string) => boolean,
): Promise<BulkTotals | null> {
  const filter = { status: 'failed', type };
  const dry = await api<BulkTotals>('/v1/tasks/actions', {
    method: 'POST',
    json: { action: 'retry', filter, dryRun: true },
  });
  if (dry.matched === 0) return dry;
  if (!ask(`Retry ${dry.matched} failed task${dry.matched === 1 ? '' : 's'} of ${type}?`)) return null;
  return api<BulkTotals>('/v1/tasks/actions', { method: 'POST', json: { action: 'retry', filter } });
}
