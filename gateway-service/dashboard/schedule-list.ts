/**
 * Schedules (#/schedules): every schedule with its cron, next and last run, paused or not, and a
 * button to pause or resume it. `#/schedules/<id>` is the same page with that schedule marked
 * (where a task's page links to). Read again every few seconds, for the next and last runs.
 */
import type { Schedule } from './contracts.js';
import { api } from './api.js';
import { ago, h, listTable, refreshEvery, replace } from './dom.js';

const REFRESH_MS = 5_000;

function when(iso: string | null): Node | string {
  return iso ? h('time', { datetime: iso, title: iso }, ago(iso)) : '–';
}

export function scheduleList(main: HTMLElement, marked?: string): () => void {
  const body = h('tbody');
  const error = h('p', { class: 'form-error', role: 'alert' });
  let items: Schedule[] = [];
  let loaded = false;

  const toggle = (s: Schedule) => () => {
    api<Schedule>(`/v1/schedules/${encodeURIComponent(s.id)}`, {
      method: 'PATCH',
      json: { paused: !s.paused },
    }).then((updated) => {
      items = items.map((x) => (x.id === updated.id ? updated : x));
      error.textContent = '';
      render();
    }, fail);
  };
  const rowFor = (s: Schedule) =>
    h(
      'tr',
      { 'data-schedule-id': s.id, class: s.id === marked ? 'current' : undefined },
      h('td', {}, s.name, h('br'), h('code', { class: 'muted' }, s.id.slice(0, 8))),
      h('td', {}, h('code', {}, s.cron), s.timezone === 'UTC' ? '' : ` (${s.timezone})`),
      h('td', {}, s.task.type),
      h('td', { class: 'schedule-state', 'data-paused': String(s.paused) }, s.paused ? 'paused' : 'active'),
      h('td', {}, when(s.nextRunAt)),
      h(
        'td',
        {},
        s.lastTaskId ? h('a', { href: `#/tasks/${s.lastTaskId}` }, when(s.lastRunAt)) : when(s.lastRunAt),
        s.lastError
          ? h('span', { class: 'form-error', title: s.lastError.message }, ` ${s.lastError.code}`)
          : '',
      ),
      h('td', {}, String(s.skipped)),
      h('td', {}, h('button', { type: 'button', onclick: toggle(s) }, s.paused ? 'Resume' : 'Pause')),
    );
  const render = () => {
    replace(
      body,
      ...(items.length
        ? items.map(rowFor)
        : [h('tr', {}, h('td', { colspan: 8 }, loaded ? 'No schedules.' : 'Loading…'))]),
    );
  };
  function fail(err: unknown): void {
    error.textContent = `Could not load schedules: ${err instanceof Error ? err.message : String(err)}`;
  }
  const refresh = async () => {
    items = (await api<{ items: Schedule[] }>('/v1/schedules')).items;
    loaded = true;
    error.textContent = '';
    render();
  };

  replace(
    main,
    h(
      'section',
      { class: 'card schedules', 'aria-labelledby': 'schedules-title' },
      h('h2', { id: 'schedules-title' }, 'Schedules'),
      h(
        'p',
        { class: 'muted' },
        'Each tick creates one ordinary task. Create them with POST /v1/schedules or tasksctl schedule create.',
      ),
      error,
      listTable(
        { 'aria-labelledby': 'schedules-title', id: 'schedules' },
        ['Schedule', 'Cron', 'Task type', 'State', 'Next run', 'Last run', 'Skipped', ''],
        body,
      ),
    ),
  );
  render();
  return refreshEvery(REFRESH_MS, refresh, fail);
}
