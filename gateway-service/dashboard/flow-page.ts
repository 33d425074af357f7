/** One flow: its tasks drawn as a graph by depth, each linking to its task page; live. */
import type { Flow, FlowNode, TaskStatus } from './contracts.js';
import { api, ApiError, stream } from './api.js';
import { h, replace, svg, time } from './dom.js';
import { GEOMETRY, layout } from './flow-layout.js';
import { STATUSES } from './status.js';

/** How often the flow is read while its event stream is down. */
const POLL_MS = 2_000;

const ENDED: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled'];

const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** "2 succeeded · 1 running · 3 waiting", in the dashboard's status order. */
export function nodeCounts(byStatus: Partial<Record<TaskStatus, number>>, total: number): HTMLElement {
  return h(
    'span',
    { class: 'node-counts' },
    `${total} node${total === 1 ? '' : 's'}: `,
    ...STATUSES.filter((s) => byStatus[s]).flatMap((s, i) => [
      i ? ' ' : '',
      h('span', { class: `status s-${s}`, 'data-status': s }, `${byStatus[s]} ${s}`),
    ]),
  );
}

function countNodes(nodes: readonly FlowNode[]): Partial<Record<TaskStatus, number>> {
  const counts: Partial<Record<TaskStatus, number>> = {};
  for (const n of nodes) counts[n.status] = (counts[n.status] ?? 0) + 1;
  return counts;
}

/** The graph: a rounded box per node, coloured by status, and a line from each dependency. */
export function flowGraph(flow: Flow): SVGElement {
  const { boxes, edges, width, height } = layout(flow.nodes);
  const { nodeWidth, nodeHeight } = GEOMETRY;
  const byKey = new Map(flow.nodes.map((n) => [n.key, n]));
  return svg(
    'svg',
    {
      class: 'flow-graph',
      id: 'flow-graph',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'group',
      'aria-label': `Graph of the flow's ${flow.nodes.length} tasks; each links to its task`,
    },
    svg(
      'defs',
      {},
      svg(
        'marker',
        {
          id: 'flow-arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto',
        },
        svg('path', { d: 'M0 0 L10 5 L0 10 z', class: 'arrow' }),
      ),
    ),
    ...edges.map((e) => {
      const from = byKey.get(e.from)!;
      return svg(
        'path',
        {
          d: e.d,
          class: `edge${ENDED.includes(from.status) ? ' ended' : ''}`,
          'marker-end': 'url(#flow-arrow)',
          'data-from': e.from,
          'data-to': e.to,
        },
        svg('title', {}, `${e.to} waits for ${e.from}`),
      );
    }),
    ...flow.nodes.map((n) => {
      const b = boxes.get(n.key)!;
      const label = `${n.key}: ${n.type}, ${n.status}${n.error ? `, ${n.error.code}` : ''}`;
      return svg(
        'a',
        {
          href: `#/tasks/${n.taskId}`,
          class: `node s-${n.status}`,
          'data-key': n.key,
          'data-status': n.status,
          'data-focus': `node:${n.key}`,
          'aria-label': label,
        },
        svg('title', {}, n.error ? `${label}: ${n.error.message}` : label),
        svg('rect', { x: b.x, y: b.y, width: nodeWidth, height: nodeHeight, rx: 8, ry: 8 }),
        svg('text', { x: b.x + 10, y: b.y + 19, class: 'key' }, clip(n.key, 20)),
        svg('text', { x: b.x + 10, y: b.y + 35, class: 'type' }, clip(n.type, 24)),
        svg('text', { x: b.x + 10, y: b.y + 50, class: 'state' }, n.status),
      );
    }),
  );
}

function nodeTable(flow: Flow): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { 'aria-labelledby': 'nodes-title', id: 'flow-nodes' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Key', 'Type', 'Status', 'Waits for', 'Error'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        ...flow.nodes.map((n) =>
          h(
            'tr',
            { 'data-key': n.key },
            h('td', {}, h('a', { href: `#/tasks/${n.taskId}`, 'data-focus': `task:${n.key}` }, n.key)),
            h('td', {}, n.type),
            h('td', {}, h('span', { class: `status s-${n.status}`, 'data-status': n.status }, n.status)),
            h('td', {}, n.dependsOn.length ? n.dependsOn.join(', ') : '–'),
            h('td', {}, n.error ? `${n.error.code}: ${n.error.message}` : ''),
          ),
        ),
      ),
    ),
  );
}

export function flowPage(main: HTMLElement, id: string): () => void {
  const path = `/v1/flows/${encodeURIComponent(id)}`;
  const back = () => h('p', {}, h('a', { href: '#/flows' }, '← All flows'));
  const message = h('p', { class: 'form-error', role: 'alert', id: 'action-error' });
  let flow: Flow | undefined;
  // Bumped by every newer copy (an event, the answer to cancel): a read started before one is
  // older than what is shown, and is dropped. A flow has no version number to compare.
  let seq = 0;

  const render = () => {
    if (!flow) return;
    const f = flow;
    // Re-rendering must not lose the reader's place: keep focus and the graph's scroll.
    const focused = document.activeElement?.getAttribute('data-focus');
    const scroll = main.querySelector('.graph-wrap')?.scrollLeft ?? 0;

    const cancel =
      f.status === 'running'
        ? h('button', { type: 'button', id: 'cancel-flow', 'data-focus': 'cancel' }, 'Cancel flow')
        : null;
    cancel?.addEventListener('click', () => {
      message.textContent = '';
      cancel.disabled = true;
      api<Flow>(path, { method: 'PATCH', json: { status: 'cancelled' } }).then(
        (updated) => {
          seq += 1;
          flow = updated;
          render();
        },
        (err: unknown) => {
          cancel.disabled = false;
          message.textContent = err instanceof Error ? err.message : String(err);
        },
      );
    });

    replace(
      main,
      back(),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'flow-title' },
        h('h2', { id: 'flow-title' }, `${f.name ?? 'Flow'} `, h('code', {}, f.id)),
        h(
          'p',
          {},
          'Status: ',
          h('span', { class: `status s-${f.status}`, id: 'flow-status', 'data-status': f.status }, f.status),
        ),
        h('div', { class: 'actions' }, cancel),
        message,
        h(
          'dl',
          { class: 'facts' },
          ...(
            [
              ['Name', f.name ?? '–'],
              ['Id', h('code', {}, f.id)],
              ['Failure policy', f.failurePolicy],
              ['Created', time(f.createdAt)],
              ['Cancelled', time(f.cancelledAt)],
              ['Tasks', nodeCounts(countNodes(f.nodes), f.nodes.length)],
            ] as const
          ).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'graph-title' },
        h('h2', { id: 'graph-title' }, 'Graph'),
        h(
          'p',
          { class: 'muted' },
          'Columns by depth: a task waits for the tasks with arrows into it. Select one for its page.',
        ),
        h('div', { class: 'graph-wrap' }, f.nodes.length ? flowGraph(f) : 'No tasks.'),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'nodes-title' },
        h('h2', { id: 'nodes-title' }, 'Tasks'),
        nodeTable(f),
      ),
    );

    const wrap = main.querySelector('.graph-wrap');
    if (wrap) wrap.scrollLeft = scroll;
    if (focused)
      main.querySelector<HTMLElement | SVGElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  };

  let loading = false;
  let again = false;
  const load = async () => {
    if (loading) return void (again = true);
    loading = true;
    const at = seq;
    try {
      const f = await api<Flow>(path);
      if (seq !== at) return;
      flow = f;
      render();
    } catch (err) {
      // Once the flow is shown, a failed re-read leaves it (the banner tells when the gateway is away).
      if (flow) return;
      replace(
        main,
        back(),
        h(
          'p',
          { role: 'alert' },
          err instanceof ApiError && err.status === 404
            ? `No flow ${id}.`
            : `Could not load the flow: ${String(err)}`,
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

  let poll: number | undefined;
  const live = stream(
    `${path}/events`,
    (event, data) => {
      if (event !== 'flow') return;
      const f = data as Flow;
      if (f.id !== id) return;
      seq += 1;
      flow = f;
      render();
    },
    (open) => {
      if (open) {
        if (poll !== undefined) window.clearInterval(poll);
        poll = undefined;
        void load(); // whatever changed while the stream was away
      } else {
        poll ??= window.setInterval(() => void load(), POLL_MS);
      }
    },
  );

  replace(main, h('p', {}, 'Loading…'));
  void load();
  return () => {
    live.stop();
    if (poll !== undefined) window.clearInterval(poll);
  };
}
