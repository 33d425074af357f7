/** A tiny element builder: text is always set as text, never parsed as HTML. */
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A list page's table: a head row of `columns`, then the body the page fills. */
export function listTable(
  attrs: Attrs,
  columns: readonly string[],
  body: HTMLTableSectionElement,
): HTMLElement {
  const head = h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)));
  return h('div', { class: 'table-wrap' }, h('table', attrs, h('thead', {}, head), body));
}

/** Runs `refresh` now and every `ms` (a failure goes to `fail`); returns what stops it. */
export function refreshEvery(
  ms: number,
  refresh: () => Promise<void>,
  fail: (err: unknown) => void,
): () => void {
  void refresh().catch(fail);
  const timer = window.setInterval(() => void refresh().catch(fail), ms);
  return () => window.clearInterval(timer);
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(
  tag: string,
  attrs: Record<string, string | number>,
  ...children: (Node | string)[]
): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** A value as indented JSON, scrollable by keyboard. */
export const json = (v: unknown): HTMLPreElement =>
  h('pre', { class: 'json', tabindex: 0 }, JSON.stringify(v, null, 2) ?? 'null');

/** A timestamp in the reader's locale, or a dash when there is none. */
export const time = (iso: string | null): HTMLTimeElement | string =>
  iso ? h('time', { datetime: iso }, new Date(iso).toLocaleString()) : '–';

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const delta = Math.round((now - Date.parse(iso)) / 1000);
  // A time ahead (a schedule's next run) reads "in 5s"; a second's difference between the clocks, "0s ago".
  if (delta < -1) return `in ${span(-delta)}`;
  return `${span(Math.max(0, delta))} ago`;
}

function span(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}
