/** Recent flows (#/flows), newest first, with "More" paging by cursor; the first page kept fresh. */
import type { FlowSummary } from './contracts.js';
import { api } from './api.js';
import { ago, h, listTable, refreshEvery, replace } from './dom.js';
import { nodeCounts } from './flow-page.js';

const PAGE = 20;
/** The first page is read again this often, for new flows and changed statuses. */
const REFRESH_MS = 5_000;

interface FlowPage {
  items: FlowSummary[];
  nextCursor: string | null;
}

export function flowList(main: HTMLElement): () => void {
  const body = h('tbody');
  const info = h('span', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', id: 'more-flows' }, 'More');
  const error = h('p', { class: 'form-error', role: 'alert' });
  let items: FlowSummary[] = [];
  let nextCursor: string | null = null;
  let loaded = false;

  const rowFor = (f: FlowSummary) =>
    h(
      'tr',
      { 'data-flow-id': f.id },
      h('td', {}, h('a', { href: `#/flows/${f.id}` }, f.name ?? f.id.slice(0, 8))),
      h('td', {}, h('span', { class: `status s-${f.status}`, 'data-status': f.status }, f.status)),
      h('td', {}, nodeCounts(f.byStatus, f.nodeCount)),
      h('td', {}, f.failurePolicy),
      h('td', {}, h('time', { datetime: f.createdAt, title: f.createdAt }, ago(f.createdAt))),
    );
  const render = () => {
    replace(
      body,
      ...(items.length
        ? items.map(rowFor)
        : [h('tr', {}, h('td', { colspan: 5 }, loaded ? 'No flows.' : 'Loading…'))]),
    );
    info.textContent = `${items.length} flow${items.length === 1 ? '' : 's'} shown`;
    more.hidden = nextCursor === null;
  };
  const read = (cursor?: string) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (cursor) q.set('cursor', cursor);
    return api<FlowPage>(`/v1/flows?${q}`);
  };
  const fail = (err: unknown) => {
    error.textContent = `Could not load flows: ${err instanceof Error ? err.message : String(err)}`;
  };

  // The first page again: shown flows get their new status, new ones go on top. Pages further
  // down keep their cursor, so "More" goes on where it was.
  const refresh = async () => {
    const r = await read();
    error.textContent = '';
    const fresh = new Map(r.items.map((f) => [f.id, f]));
    const shown = new Set(items.map((f) => f.id));
    items = [...r.items.filter((f) => !shown.has(f.id)), ...items.map((f) => fresh.get(f.id) ?? f)];
    if (!loaded) nextCursor = r.nextCursor;
    loaded = true;
    render();
  };
  more.addEventListener('click', () => {
    if (nextCursor === null) return;
    more.disabled = true;
    read(nextCursor)
      .then((r) => {
        const shown = new Set(items.map((f) => f.id));
        items = [...items, ...r.items.filter((f) => !shown.has(f.id))];
        nextCursor = r.nextCursor;
        error.textContent = '';
        render();
      }, fail)
      .finally(() => (more.disabled = false));
  });

  replace(
    main,
    h(
      'section',
      { class: 'card flows', 'aria-labelledby': 'flows-title' },
      h('h2', { id: 'flows-title' }, 'Flows'),
      error,
      listTable(
        { 'aria-labelledby': 'flows-title', id: 'flows' },
        ['Flow', 'Status', 'Tasks', 'Failure policy', 'Created'],
        body,
      ),
      h('div', { class: 'pager' }, info, more),
    ),
  );
  render();
  return refreshEvery(REFRESH_MS, refresh, fail);
}
