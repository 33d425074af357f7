/**
 * Task types (#/types): each registered type with its run-time settings (docs/flow-control.md) and
 * a Pause or Resume button (PATCH /v1/task-types/{type}), and "Retry all failed" (a dry run's count
 * to confirm, then POST /v1/tasks/actions). Limits and retention (docs/retention.md) are shown, set
 * with tasksctl or PUT /v1/task-types/{type}/limits and PATCH /v1/task-types/{type}.
 */
import type { RegisteredType, TypeSettings } from './contracts.js';
import { api } from './api.js';
import { h, listTable, refreshEvery, replace } from './dom.js';
import { retryAllFailed } from './labels.js';

/** Settings change rarely and from elsewhere too (tasksctl, another tab): read again this often. */
const REFRESH_MS = 5_000;

const limitText = (n: number | null, unit = '') => (n === null ? 'no limit' : `${n}${unit}`);

/** A retention in the largest whole unit that fits (7 days, 36 h, 90 s). */
export function durationText(seconds: number): string {
  for (const [unit, s] of [
    ['days', 86_400],
    ['h', 3_600],
    ['min', 60],
  ] as const)
    if (seconds % s === 0 && seconds >= s)
      return `${seconds / s} ${unit === 'days' && seconds === s ? 'day' : unit}`;
  return `${seconds} s`;
}

export function typesPage(main: HTMLElement): () => void {
  const body = h('tbody');
  const message = h('p', { class: 'form-error', role: 'alert', id: 'types-error' });
  const notice = h('p', { role: 'status', id: 'types-notice' });
  let items: RegisteredType[] = [];
  /** The store's TASK_RETENTION_SECONDS, for types without their own. */
  let defaultRetention: number | null = null;
  let loaded = false;

  const toggle = (t: RegisteredType, button: HTMLButtonElement) => {
    button.disabled = true;
    message.textContent = '';
    api<TypeSettings>(`/v1/task-types/${encodeURIComponent(t.type)}`, {
      method: 'PATCH',
      json: { paused: !t.paused },
    }).then(
      (s) => {
        items = items.map((x) =>
          x.type === s.type
            ? {
                ...x,
                paused: s.paused,
                concurrency: s.concurrency,
                ratePerSecond: s.ratePerSecond,
                retentionSeconds: s.retentionSeconds,
              }
            : x,
        );
        render();
      },
      (err: unknown) => {
        button.disabled = false;
        message.textContent = `Could not change ${t.type}: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
  };

  const rowFor = (t: RegisteredType) => {
    const button = h(
      'button',
      { type: 'button', 'aria-label': `${t.paused ? 'Resume' : 'Pause'} ${t.type}` },
      t.paused ? 'Resume' : 'Pause',
    );
    button.addEventListener('click', () => toggle(t, button));
    const retry = h(
      'button',
      { type: 'button', class: 'retry-failed', 'aria-label': `Retry all failed ${t.type}` },
      'Retry all failed',
    );
    retry.addEventListener('click', () => retryFailed(t, retry));
    return h(
      'tr',
      { 'data-type': t.type },
      h('td', {}, h('code', {}, t.type)),
      h('td', {}, t.kind),
      h(
        'td',
        {},
        h(
          'span',
          { class: `status ${t.paused ? 's-paused' : 's-active'}`, 'data-paused': String(t.paused) },
          t.paused ? 'paused' : 'active',
        ),
      ),
      h('td', { 'data-limit': 'concurrency' }, limitText(t.concurrency, ' at once')),
      h('td', { 'data-limit': 'rate' }, limitText(t.ratePerSecond, '/s')),
      h(
        'td',
        { 'data-retention': String(t.retentionSeconds ?? 'default') },
        t.retentionSeconds !== null
          ? durationText(t.retentionSeconds)
          : defaultRetention === null
            ? 'default'
            : `${durationText(defaultRetention)} (default)`,
      ),
      h('td', {}, button, ' ', retry),
    );
  };

  /** Counts the type's failed tasks (a dry run), asks with that count, then retries them all. */
  const retryFailed = (t: RegisteredType, button: HTMLButtonElement) => {
    button.disabled = true;
    message.textContent = '';
    retryAllFailed(t.type, (question) => window.confirm(question)).then(
      (totals) => {
        button.disabled = false;
        if (totals === null) return;
        notice.textContent =
          totals.matched === 0
            ? `No failed ${t.type} tasks.`
            : `${totals.changed} failed ${t.type} task${totals.changed === 1 ? '' : 's'} queued again.`;
      },
      (err: unknown) => {
        button.disabled = false;
        message.textContent = `Could not retry ${t.type}: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
  };

  /** Draws the rows anew; a keyboard user's focus stays on the same type's button. */
  const render = () => {
    const active = document.activeElement;
    const focused = active && body.contains(active) ? active.closest('tr')?.dataset.type : undefined;
    replace(
      body,
      ...(items.length
        ? [...items].sort((a, b) => a.type.localeCompare(b.type)).map(rowFor)
        : [h('tr', {}, h('td', { colspan: 7 }, loaded ? 'No task types registered.' : 'Loading…'))]),
    );
    if (focused !== undefined) {
      body.querySelector<HTMLButtonElement>(`tr[data-type="${CSS.escape(focused)}"] button`)?.focus();
    }
  };

  const refresh = async () => {
    const list = await api<{ items: RegisteredType[]; retention?: { defaultSeconds: number } }>(
      '/v1/task-types',
    );
    items = list.items;
    defaultRetention = list.retention?.defaultSeconds ?? null;
    loaded = true;
    render();
  };
  const fail = (err: unknown) => {
    message.textContent = `Could not load the task types: ${err instanceof Error ? err.message : String(err)}`;
  };

  replace(
    main,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'types-title' },
      h('h2', { id: 'types-title' }, 'Task types'),
      h(
        'p',
        { class: 'muted' },
        'A paused type starts no task: running ones finish, the others wait. Limits hold across every executor; ' +
          'set them with tasksctl type limits or PUT /v1/task-types/{type}/limits. Finished tasks are removed ' +
          'after their type’s retention (tasksctl type retention).',
      ),
      message,
      notice,
      listTable(
        { 'aria-labelledby': 'types-title', id: 'task-types' },
        ['Type', 'Kind', 'State', 'Concurrency', 'Rate', 'Retention', 'Action'],
        body,
      ),
    ),
  );
  render();
  return refreshEvery(REFRESH_MS, refresh, fail);
}
