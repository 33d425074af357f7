/**
 * One task: payload, result or error, progress, every attempt with its worker and timings; live.
 * A flow node also links to its flow and shows how its dependencies ended.
 */
import { api, ApiError } from './api.js';
import type { DependencyResults, HistoryEntry, HoldReason, Task, WebhookDelivery } from './contracts.js';
import { duration, h, json, replace, time } from './dom.js';
import { tagChips } from './labels.js';
import { loadDeliveries, webhookCard } from './webhook-deliveries.js';

/** Why a due task has not started (Task.heldBy); the types page can resume it or show its limit. */
const HELD: Record<HoldReason, string> = {
  paused: 'waiting: type paused',
  concurrency: 'waiting: concurrency limit',
};

/** Attempts from history entries in order: each "running" entry starts one; the next entry ends it. */
function attempts(history: HistoryEntry[]) {
  const rows: {
    attempt: number;
    by: string;
    start: string;
    end?: string;
    outcome: string;
    error?: string;
  }[] = [];
  history.forEach((e, i) => {
    if (e.status !== 'running') return;
    const nextEntry = history[i + 1];
    rows.push({
      attempt: e.attempt,
      by: e.by,
      start: e.at,
      ...(nextEntry && { end: nextEntry.at }),
      outcome: nextEntry ? nextEntry.status : 'running',
      ...(nextEntry?.error && { error: `${nextEntry.error.code}: ${nextEntry.error.message}` }),
    });
  });
  return rows;
}

/** How each dependency of a flow node ended, as its handler received them; each result folded. */
function dependencies(deps: DependencyResults): HTMLElement {
  const entries = Object.entries(deps);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'deps-title', id: 'dependency-results' },
    h('h2', { id: 'deps-title' }, 'Dependency results'),
    entries.length
      ? h(
          'ul',
          { class: 'plain' },
          ...entries.map(([key, d]) =>
            h(
              'li',
              { 'data-key': key },
              h('a', { href: `#/tasks/${d.taskId}` }, h('code', {}, key)),
              ' ',
              h('span', { class: `status s-${d.status}`, 'data-status': d.status }, d.status),
              d.error ? ` ${d.error.code}: ${d.error.message}` : '',
              d.status === 'succeeded'
                ? h('details', {}, h('summary', {}, 'Result'), json(d.result ?? null))
                : null,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No dependencies.'),
    h('details', {}, h('summary', {}, 'As JSON'), json(deps)),
  );
}

/** One history entry as a list item. */
function historyItem(e: HistoryEntry): HTMLElement {
  return h(
    'li',
    {},
    time(e.at),
    ' ',
    h('span', { class: `status s-${e.status}` }, e.status),
    ` by ${e.by}`,
    e.error ? ` — ${e.error.code}: ${e.error.message}` : '',
  );
}

/** Entries per page when the older history is loaded (GET /v1/tasks/{id}/history). */
const HISTORY_PAGE = 200;

export function taskPage(main: HTMLElement, id: string, onChange: (f: () => void) => () => void): () => void {
  let task: Task | undefined;
  /** The changes older than the task carries, as far as loaded (oldest first), and where to go on. */
  const older: { entries: HistoryEntry[]; cursor: string | null; loading: boolean; error: string } = {
    entries: [],
    cursor: null,
    loading: false,
    error: '',
  };
  let deliveries: WebhookDelivery[] | undefined;
  const message = h('p', { class: 'form-error', role: 'alert', id: 'action-error' });
  const loadOlder = () => {
    if (older.loading) return;
    older.loading = true;
    older.error = '';
    const cursor = older.cursor ? `&cursor=${encodeURIComponent(older.cursor)}` : '';
    api<{ items: HistoryEntry[]; nextCursor: string | null }>(
      `/v1/tasks/${encodeURIComponent(id)}/history?limit=${HISTORY_PAGE}${cursor}`,
    )
      .then(
        (page) => {
          older.entries.push(...page.items);
          older.cursor = page.nextCursor;
        },
        (err: unknown) => (older.error = err instanceof Error ? err.message : String(err)),
      )
      .finally(() => {
        older.loading = false;
        render();
      });
  };
  /** The History heading, the older changes (when asked for), and the latest the task carries. */
  const historyParts = (t: Task): (HTMLElement | null)[] => {
    const offset = t.historyOffset ?? 0;
    const shown = older.entries.slice(0, offset);
    const left = offset - shown.length;
    const more =
      left > 0
        ? h(
            'button',
            { type: 'button', id: 'history-more', disabled: older.loading },
            shown.length === 0
              ? `Full history (${offset} earlier changes)`
              : `Load more (${left} earlier changes left)`,
          )
        : null;
    more?.addEventListener('click', loadOlder);
    return [
      h('h3', {}, 'History'),
      offset > 0
        ? h(
            'p',
            { class: 'muted', id: 'history-note' },
            `${offset + t.history.length} changes; the task carries the latest ${t.history.length}.`,
          )
        : null,
      shown.length > 0
        ? h('ol', { class: 'history', id: 'history-earlier' }, ...shown.map(historyItem))
        : null,
      more,
      older.error ? h('p', { class: 'form-error', role: 'alert' }, older.error) : null,
      h('ol', { class: 'history', id: 'history-latest', start: offset + 1 }, ...t.history.map(historyItem)),
    ];
  };
  const render = () => {
    if (!task) return;
    const t = task;
    const cancel = h(
      'button',
      { type: 'button', id: 'cancel', disabled: !['waiting', 'queued', 'running'].includes(t.status) },
      'Cancel',
    );
    const retry = h(
      'button',
      { type: 'button', id: 'retry', disabled: !['failed', 'cancelled'].includes(t.status) },
      'Retry',
    );
    const act = (status: 'cancelled' | 'queued') => () => {
      message.textContent = '';
      api<Task>(`/v1/tasks/${encodeURIComponent(id)}`, { method: 'PATCH', json: { status } }).then(
        (updated) => {
          if (!task || updated.version >= task.version) task = updated;
          render();
        },
        (err: unknown) => (message.textContent = err instanceof Error ? err.message : String(err)),
      );
    };
    cancel.addEventListener('click', act('cancelled'));
    retry.addEventListener('click', act('queued'));
    // Every attempt once the older history is loaded; else those the task's latest changes show.
    const offset = t.historyOffset ?? 0;
    const rows = attempts(
      older.entries.length >= offset ? [...older.entries.slice(0, offset), ...t.history] : t.history,
    );
    replace(
      main,
      h('p', {}, h('a', { href: '#/' }, '← All tasks')),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'task-title' },
        h('h2', { id: 'task-title' }, `${t.type} `, h('code', {}, t.id)),
        h(
          'p',
          {},
          'Status: ',
          h('span', { class: `status s-${t.status}`, id: 'task-status', 'data-status': t.status }, t.status),
          t.status === 'waiting' ? ' (for the tasks it depends on to end)' : '',
        ),
        t.heldBy
          ? h(
              'p',
              { class: 'held', id: 'task-held', 'data-held-by': t.heldBy },
              HELD[t.heldBy],
              ' (',
              h('a', { href: '#/types' }, 'task types'),
              ')',
            )
          : null,
        t.flowId
          ? h(
              'p',
              { id: 'task-flow' },
              'Node ',
              h('code', {}, t.flowKey ?? '?'),
              ' of flow ',
              h('a', { href: `#/flows/${t.flowId}` }, h('code', {}, t.flowId)),
            )
          : null,
        t.scheduleId
          ? h(
              'p',
              { id: 'task-schedule' },
              'Created by schedule ',
              h('a', { href: `#/schedules/${t.scheduleId}` }, h('code', {}, t.scheduleId)),
              ' for its tick at ',
              h('time', { datetime: t.runAt, title: t.runAt }, t.runAt),
            )
          : null,
        t.progress !== null
          ? h(
              'p',
              {},
              h('label', { for: 'progress' }, 'Progress '),
              h('progress', { id: 'progress', max: 100, value: t.progress }, `${Math.round(t.progress)}%`),
              ` ${Math.round(t.progress)}% ${t.progressMessage ?? ''}`,
            )
          : null,
        h('div', { class: 'actions' }, cancel, retry),
        message,
        h(
          'dl',
          { class: 'facts' },
          ...(
            [
              ['Kind', t.kind],
              ['Priority', String(t.priority)],
              ['Attempts', `${t.attempts} of ${t.maxAttempts}`],
              ['Worker', t.leaseOwner ?? '–'],
              ['Created', time(t.createdAt)],
              ...(t.expiresAt ? ([['Expires', time(t.expiresAt)]] as const) : []),
              ...(t.tags?.length ? ([['Tags', tagChips(t.tags)]] as const) : []),
              ...Object.entries(t.metadata ?? {}).map(([k, v]) => [`metadata.${k}`, v] as const),
              ['Started', time(t.startedAt)],
              ['Finished', time(t.finishedAt)],
              // The OpenTelemetry trace of its creating request (docs/observability.md): search it in Jaeger.
              ...(t.traceId
                ? ([
                    ['Trace', h('code', { id: 'task-trace', title: 'OpenTelemetry trace id' }, t.traceId)],
                  ] as const)
                : []),
            ] as const
          ).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
      ),
      h(
        'div',
        { class: 'grid' },
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'payload-title' },
          h('h2', { id: 'payload-title' }, 'Payload'),
          json(t.payload),
        ),
        t.error
          ? h(
              'section',
              { class: 'card', 'aria-labelledby': 'error-title' },
              h('h2', { id: 'error-title' }, 'Error'),
              h('p', { id: 'task-error' }, h('code', {}, t.error.code), ' ', t.error.message),
            )
          : h(
              'section',
              { class: 'card', 'aria-labelledby': 'result-title' },
              h('h2', { id: 'result-title' }, 'Result'),
              json(t.result ?? null),
            ),
      ),
      t.dependencyResults ? dependencies(t.dependencyResults) : null,
      t.webhook ? webhookCard(t.id, t.webhook.url, deliveries, () => void load()) : null,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'attempts-title' },
        h('h2', { id: 'attempts-title' }, 'Attempts'),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { 'aria-labelledby': 'attempts-title', id: 'attempts' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['#', 'Worker', 'Started', 'Took', 'Outcome'].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h(
              'tbody',
              {},
              ...(rows.length
                ? rows.map((r) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, r.attempt),
                      h('td', {}, r.by),
                      h('td', {}, time(r.start)),
                      h('td', {}, r.end ? duration(Date.parse(r.end) - Date.parse(r.start)) : 'running'),
                      h(
                        'td',
                        {},
                        h('span', { class: `status s-${r.outcome}` }, r.outcome),
                        r.error ? ` ${r.error}` : '',
                      ),
                    ),
                  )
                : [h('tr', {}, h('td', { colspan: 5 }, 'No attempt yet.'))]),
            ),
          ),
        ),
        ...historyParts(t),
      ),
    );
  };
  let loading = false;
  let again = false;
  const load = async () => {
    if (loading) return void (again = true);
    loading = true;
    try {
      const t = await api<Task>(`/v1/tasks/${encodeURIComponent(id)}`);
      if (!task || t.version >= task.version) task = t;
      // A missing list only leaves the card at "Loading…" until the next change.
      if (t.webhook) deliveries = await loadDeliveries(id).catch(() => deliveries);
      render();
    } catch (err) {
      replace(
        main,
        h('p', {}, h('a', { href: '#/' }, '← All tasks')),
        h(
          'p',
          { role: 'alert' },
          err instanceof ApiError && err.status === 404
            ? `No task ${id}.`
            : `Could not load the task: ${String(err)}`,
        ),
      );
    } finally {
      loading = false;
      if (again) {
        again = false;
        void load();
      }
    }
  };
  replace(main, h('p', {}, 'Loading…'));
  void load();
  const unsubscribe = onChange(() => void load());
  // Deliveries change without a task event: look again while one is due or still to come.
  const webhookPoll = setInterval(() => {
    if (!task?.webhook) return;
    const ended = ['succeeded', 'failed', 'cancelled'].includes(task.status);
    const toCome = ended && (deliveries === undefined || deliveries.length === 0);
    if (toCome || deliveries?.some((d) => d.state === 'pending')) void load();
  }, 3_000);
  return () => {
    clearInterval(webhookPoll);
    unsubscribe();
  };
}
