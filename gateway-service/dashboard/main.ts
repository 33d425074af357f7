/**
 * The dashboard: an overview (#/), a task page (#/tasks/<id>), recent flows (#/flows), a flow
 * page (#/flows/<id>), the task types with their settings (#/types) and the schedules
 * (#/schedules), live from /v1/events (a flow page from its own events; the schedules read every
 * few seconds).
 */
import './style.css';
import type { StatusEvent, TaskSummary } from './contracts.js';
import { api, apiKey, setUnauthorizedHandler, stream } from './api.js';
import { ago, h, replace } from './dom.js';
import { taskForm, type TaskType } from './form.js';
import { ThroughputChart } from './chart.js';
import { flowList } from './flow-list.js';
import { tagChips } from './labels.js';
import { flowPage } from './flow-page.js';
import { scheduleList } from './schedule-list.js';
import { STATUSES } from './status.js';
import { taskPage } from './task-page.js';
import { typesPage } from './types-page.js';

/** A list item: the task without payload, result and history (GET /v1/tasks sends summaries). */
type TaskRow = TaskSummary;

/** The task table reads its page again at most this often, however many events arrive. */
const PAGE_REFRESH_MS = 1_000;
interface Stats {
  byStatus: Record<string, number>;
  succeededLastMinute: number;
  failedLastMinute: number;
  unservedTypes: { type: string; queued: number }[];
}
interface Worker {
  id: string;
  lastSeen: string;
  running: { taskId: string; type: string; progress: number | null }[];
}
interface DeadLetter {
  at: string;
  taskId: string | null;
  type: string | null;
  reason: string | null;
  queue: string | null;
}

const listeners = new Set<(e: StatusEvent) => void>();
const chart = new ThroughputChart();
let types: TaskType[] = [];

// ---- Shell: header, banner, API key ------------------------------------------------------------

const banner = h('div', { class: 'banner', role: 'alert', id: 'banner', hidden: true });
const liveState = h('span', { class: 'live', id: 'live', 'aria-live': 'polite' }, 'connecting…');
const main = h('main', { id: 'main', tabindex: -1 });
const keyInput = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true });
const authForm = h(
  'form',
  { class: 'auth', id: 'auth', hidden: true, 'aria-labelledby': 'auth-title' },
  h('h2', { id: 'auth-title' }, 'API key required'),
  h('p', {}, 'The gateway runs with API keys. The key is kept for this browser session only.'),
  h('label', { for: 'api-key' }, 'API key'),
  keyInput,
  h('button', { type: 'submit' }, 'Use key'),
);
authForm.addEventListener('submit', (e) => {
  e.preventDefault();
  apiKey.set(keyInput.value.trim());
  authForm.hidden = true;
  location.reload();
});
setUnauthorizedHandler(() => {
  apiKey.clear();
  if (authForm.hidden) {
    authForm.hidden = false;
    keyInput.focus();
  }
});

document.body.append(
  h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
  h(
    'header',
    {},
    h('h1', {}, h('a', { href: '#/' }, 'Tasks')),
    h(
      'nav',
      { 'aria-label': 'Main' },
      h('a', { href: '#/' }, 'Overview'),
      h('a', { href: '#/flows' }, 'Flows'),
      h('a', { href: '#/types' }, 'Task types'),
      h('a', { href: '#/schedules' }, 'Schedules'),
      h('a', { href: '/docs' }, 'API docs'),
    ),
    liveState,
  ),
  banner,
  authForm,
  main,
);

const problems = { store: false, broker: false, events: false };
function showBanner(): void {
  const down = [
    problems.store && 'the task store',
    problems.broker && 'the message broker',
    problems.events && 'the live event stream',
  ].filter(Boolean);
  banner.hidden = down.length === 0;
  banner.textContent = down.length
    ? `The gateway has lost ${down.join(' and ')}. Data shown may be stale.`
    : '';
}

async function checkReady(): Promise<void> {
  try {
    const res = await fetch('/readyz');
    const r = (await res.json()) as { store: string; broker: string };
    problems.store = r.store !== 'up';
    problems.broker = r.broker !== 'up';
  } catch {
    problems.store = problems.broker = true;
  }
  showBanner();
}

stream(
  '/v1/events',
  (event, data) => {
    // Missed events could not be replayed (away too long): show the current state again.
    if (event === 'reset') return route(false);
    if (event !== 'status') return;
    const e = data as StatusEvent;
    chart.add(e.status, Date.now());
    for (const l of listeners) l(e);
  },
  (open) => {
    problems.events = !open;
    liveState.textContent = open ? '● live' : 'reconnecting…';
    liveState.classList.toggle('off', !open);
    showBanner();
  },
);

// ---- Overview ----------------------------------------------------------------------------------

function section(id: string, title: string, ...body: (Node | null)[]): HTMLElement {
  return h(
    'section',
    { class: `card ${id}`, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    ...body,
  );
}

function overview(): () => void {
  const counts = h('dl', { class: 'counts' });
  const unserved = h('div', { role: 'status', 'aria-live': 'polite' });
  const deadCount = h('p', { class: 'big', id: 'dead-count' }, '–');
  const deadList = h('ul', { class: 'plain' });
  const workerList = h('ul', { class: 'plain', id: 'workers' });
  const tableBody = h('tbody');
  const statusFilter = h(
    'select',
    { id: 'filter-status' },
    h('option', { value: '' }, 'any'),
    ...STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const typeFilter = h(
    'select',
    { id: 'filter-type' },
    h('option', { value: '' }, 'any'),
    ...types.map((t) => h('option', { value: t.type }, t.type)),
  );
  // Tags, space-separated: tasks carrying every one (GET /v1/tasks?tag=a&tag=b).
  const tagFilter = h('input', { id: 'filter-tag', type: 'search', placeholder: 'tag …', size: 14 });
  const sortButton = h('button', { type: 'button', class: 'link', id: 'sort-age' }, 'Created ↓');
  const ageHeader = h('th', { scope: 'col', 'aria-sort': 'descending' }, sortButton);
  const pager = h('div', { class: 'pager' });
  const pageInfo = h('span', { 'aria-live': 'polite' });

  let cursors: (string | undefined)[] = [undefined];
  let page = 0;
  let newestFirst = true;
  let items: TaskRow[] = [];
  let nextCursor: string | null = null;

  const rowFor = (t: TaskRow) =>
    h(
      'tr',
      { 'data-task-id': t.id },
      // A flow node's id is its flow's id and its key: the key tells the nodes of one flow apart.
      h('td', {}, h('a', { href: `#/tasks/${t.id}` }, t.id.slice(0, 8), t.flowKey ? `.${t.flowKey}` : '')),
      h('td', {}, t.type),
      h('td', {}, h('span', { class: `status s-${t.status}`, 'data-status': t.status }, t.status)),
      h('td', {}, t.attempts, '/', t.maxAttempts),
      h('td', {}, h('time', { datetime: t.createdAt, title: t.createdAt }, ago(t.createdAt))),
      h(
        'td',
        {},
        tagChips(t.tags, (tag) => {
          tagFilter.value = tag;
          refilter();
        }),
      ),
    );
  const renderRows = () => {
    const sorted = [...items].sort((a, b) =>
      newestFirst ? b.createdAt.localeCompare(a.createdAt) : a.createdAt.localeCompare(b.createdAt),
    );
    replace(
      tableBody,
      ...(sorted.length ? sorted.map(rowFor) : [h('tr', {}, h('td', { colspan: 6 }, 'No tasks.'))]),
    );
    pageInfo.textContent = `Page ${page + 1}, ${items.length} task${items.length === 1 ? '' : 's'}`;
    prev.disabled = page === 0;
    next.disabled = nextCursor === null;
  };
  let lastLoad = 0;
  let loads = 0;
  const load = async () => {
    lastLoad = Date.now();
    const seq = ++loads;
    const q = new URLSearchParams({ limit: '20' });
    if (statusFilter.value) q.set('status', statusFilter.value);
    if (typeFilter.value) q.set('type', typeFilter.value);
    for (const tag of new Set(tagFilter.value.split(/\s+/).filter(Boolean))) q.append('tag', tag);
    const c = cursors[page];
    if (c) q.set('cursor', c);
    const r = await api<{ items: TaskRow[]; nextCursor: string | null }>(`/v1/tasks?${q}`);
    // A newer load started meanwhile (another filter, page or refresh): its answer is the one shown.
    if (seq !== loads) return;
    items = r.items;
    nextCursor = r.nextCursor;
    renderRows();
    tableBody.dataset.query = q.toString(); // what the rows show (tests wait for it)
  };
  // One page read for any number of events within PAGE_REFRESH_MS (a tab open at 1,000 tasks/s
  // would otherwise ask for 1,000 tasks a second and meet its own rate limit).
  let reloadTimer: number | undefined;
  const reloadSoon = () => {
    reloadTimer ??= window.setTimeout(
      () => {
        reloadTimer = undefined;
        void load().catch(() => undefined);
      },
      Math.max(0, lastLoad + PAGE_REFRESH_MS - Date.now()),
    );
  };
  const prev = h('button', { type: 'button' }, '← Newer');
  const next = h('button', { type: 'button' }, 'Older →');
  prev.addEventListener('click', () => {
    page = Math.max(0, page - 1);
    void load();
  });
  next.addEventListener('click', () => {
    if (nextCursor === null) return;
    cursors[page + 1] = nextCursor;
    page += 1;
    void load();
  });
  const refilter = () => {
    cursors = [undefined];
    page = 0;
    void load();
  };
  statusFilter.addEventListener('change', refilter);
  typeFilter.addEventListener('change', refilter);
  tagFilter.addEventListener('change', refilter);
  sortButton.addEventListener('click', () => {
    newestFirst = !newestFirst;
    sortButton.textContent = newestFirst ? 'Created ↓' : 'Created ↑';
    ageHeader.setAttribute('aria-sort', newestFirst ? 'descending' : 'ascending');
    renderRows();
  });
  append(pager, prev, pageInfo, next);

  const refreshStats = async () => {
    const s = await api<Stats>('/v1/stats');
    replace(
      counts,
      ...STATUSES.flatMap((st) => [
        h(
          'div',
          { class: `count s-${st}` },
          h('dt', {}, st),
          h('dd', { 'data-count': st }, s.byStatus[st] ?? 0),
        ),
      ]),
    );
    replace(
      unserved,
      ...s.unservedTypes.map((u) =>
        h('p', { class: 'warning' }, `${u.queued} ${u.type} queued: no executor serves this type`),
      ),
    );
  };
  const refreshSide = async () => {
    const [dead, workers] = await Promise.all([
      api<{ count: number; recent: DeadLetter[] }>('/v1/dead-letters'),
      api<{ items: Worker[] }>('/v1/workers'),
    ]);
    deadCount.textContent = `${dead.count} recorded (their tasks failed DEAD_LETTERED)`;
    replace(
      deadList,
      ...(dead.recent.length
        ? dead.recent
            .slice(0, 10)
            .map((d) =>
              h(
                'li',
                {},
                d.taskId ? h('a', { href: `#/tasks/${d.taskId}` }, d.taskId.slice(0, 8)) : '(unreadable)',
                ` ${d.type ?? ''} · ${d.reason ?? 'rejected'} · `,
                h('time', { datetime: d.at }, ago(d.at)),
              ),
            )
        : [h('li', { class: 'muted' }, 'None seen since the gateway started.')]),
    );
    replace(
      workerList,
      ...(workers.items.length
        ? workers.items.map((w) =>
            h(
              'li',
              {},
              h('strong', {}, w.id),
              ` · seen ${ago(w.lastSeen)} · `,
              w.running.length
                ? h(
                    'span',
                    {},
                    'running ',
                    ...w.running.flatMap((r, i) => [
                      i ? ', ' : '',
                      h('a', { href: `#/tasks/${r.taskId}` }, `${r.type} ${r.taskId.slice(0, 8)}`),
                    ]),
                  )
                : 'idle',
            ),
          )
        : [h('li', { class: 'muted' }, 'No worker seen in the last minutes.')]),
    );
  };

  let statsTimer: number | undefined;
  const onEvent = (e: StatusEvent) => {
    statsTimer ??= window.setTimeout(() => {
      statsTimer = undefined;
      void refreshStats().catch(() => undefined);
    }, 500);
    const row = tableBody.querySelector(`tr[data-task-id="${CSS.escape(e.taskId)}"]`);
    const t = items.find((x) => x.id === e.taskId);
    if (t && row) {
      // A task on the page: the event says all the row shows.
      if (e.version < t.version) return;
      Object.assign(t, { status: e.status, version: e.version, attempts: e.attempts, updatedAt: e.at });
      row.replaceWith(rowFor(t));
      // It has left this filtered page: the next read fills the gap.
      if (statusFilter.value && e.status !== statusFilter.value) reloadSoon();
    } else if (page === 0 && (!typeFilter.value || typeFilter.value === e.type)) {
      // A task not shown belongs on the first page only if it is new, or newly in the filtered
      // status; either way the page is read again (at most once per PAGE_REFRESH_MS), never the task.
      const mayBelong = statusFilter.value ? e.status === statusFilter.value : e.version === 1;
      if (mayBelong) reloadSoon();
    }
  };
  listeners.add(onEvent);

  replace(
    main,
    h(
      'div',
      { class: 'grid' },
      section('statuses', 'Tasks by status', counts, unserved),
      section('throughput', 'Throughput', chart.element),
      section('dead', 'Dead letters', deadCount, h('h3', {}, 'Most recent'), deadList),
      section('workers', 'Workers', workerList),
    ),
    h(
      'div',
      { class: 'grid wide' },
      section(
        'tasks',
        'Tasks',
        h(
          'div',
          { class: 'filters' },
          h('label', { for: 'filter-status' }, 'Filter by status'),
          statusFilter,
          h('label', { for: 'filter-type' }, 'Filter by type'),
          typeFilter,
          h('label', { for: 'filter-tag' }, 'Filter by tag'),
          tagFilter,
        ),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { 'aria-label': 'Tasks' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Id'),
                h('th', { scope: 'col' }, 'Type'),
                h('th', { scope: 'col' }, 'Status'),
                h('th', { scope: 'col' }, 'Attempts'),
                ageHeader,
                h('th', { scope: 'col' }, 'Tags'),
              ),
            ),
            tableBody,
          ),
        ),
        pager,
      ),
      h(
        'section',
        { class: 'card new-task' },
        taskForm(types, (id) => (location.hash = `#/tasks/${id}`)),
      ),
    ),
  );
  void refreshStats().catch(() => undefined);
  void load().catch(() => undefined);
  void refreshSide().catch(() => undefined);
  // Also on a timer: the store's counts may trail the last event a little.
  const side = window.setInterval(() => {
    void refreshSide().catch(() => undefined);
    void refreshStats().catch(() => undefined);
  }, 5_000);
  return () => {
    listeners.delete(onEvent);
    window.clearInterval(side);
    if (statsTimer !== undefined) window.clearTimeout(statsTimer);
    if (reloadTimer !== undefined) window.clearTimeout(reloadTimer);
  };
}

function append(el: Element, ...c: Node[]) {
  el.append(...c);
}

// ---- Routing -----------------------------------------------------------------------------------

let leave: (() => void) | undefined;
function route(moveFocus = true): void {
  leave?.();
  const m = /^#\/tasks\/([A-Za-z0-9_.:-]+)$/.exec(location.hash);
  const flow = /^#\/flows\/([A-Za-z0-9_.:-]+)$/.exec(location.hash);
  const schedule = /^#\/schedules(?:\/([A-Za-z0-9_.:-]+))?$/.exec(location.hash);
  if (flow) {
    leave = flowPage(main, flow[1]!);
  } else if (schedule) {
    leave = scheduleList(main, schedule[1]);
  } else if (location.hash === '#/flows') {
    leave = flowList(main);
  } else if (location.hash === '#/types') {
    leave = typesPage(main);
  } else if (m) {
    const id = m[1]!;
    leave = taskPage(main, id, (f) => {
      const l = (e: StatusEvent) => e.taskId === id && f();
      listeners.add(l);
      return () => listeners.delete(l);
    });
  } else {
    leave = overview();
  }
  // After navigation a screen reader starts at the new content; a fresh load starts at the top.
  if (moveFocus) main.focus({ preventScroll: true });
}

async function start(): Promise<void> {
  void checkReady();
  window.setInterval(() => void checkReady(), 5_000);
  try {
    types = (await api<{ items: TaskType[] }>('/v1/task-types')).items;
  } catch {
    types = [];
  }
  window.addEventListener('hashchange', () => route());
  route(false);
  window.setInterval(() => {
    for (const t of document.querySelectorAll<HTMLTimeElement>('time[datetime]'))
      t.textContent = ago(t.dateTime);
  }, 5_000);
}

void start();
