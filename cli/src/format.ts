/** Plain-text rendering for people: aligned tables, ages, durations. `--json` bypasses all of it. */

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/**
 * Replaces control characters (terminal escape sequences included) so that text from the store
 * — task types, error messages written by task handlers — cannot repaint the user's terminal.
 */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\t' || c === '\n' ? ' ' : '?'));
}

const width = (s: string): number => [...s].length;

function pad(s: string, w: number, align: Column['align']): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'right' ? fill + s : s + fill;
}

/** Columns separated by two spaces, headers upper-cased, no trailing blanks. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((r) => columns.map((_, i) => clean(r[i] ?? '')));
  const headers = columns.map((c) => c.header.toUpperCase());
  const widths = columns.map((_, i) => Math.max(width(headers[i]!), ...cells.map((r) => width(r[i]!))));
  const render = (r: readonly string[]) =>
    r
      .map((v, i) => pad(v, widths[i]!, columns[i]!.align))
      .join('  ')
      .trimEnd();
  return [render(headers), ...cells.map(render)].join('\n') + '\n';
}

/** A short duration: 850ms, 42s, 12m, 5h, 3d. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1_000);
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** How long ago an ISO time was, e.g. "12m"; "-" when absent. */
export function formatAge(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '?';
  const ms = Math.max(0, now - t);
  return ms < 1_000 ? '0s' : formatDuration(ms);
}

/** An ISO time as "2026-11-28 14:22:03Z" followed by its age; "-" when absent. */
export function formatTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return clean(iso);
  const stamp = new Date(t).toISOString().slice(0, 19).replace('T', ' ') + 'Z';
  const delta = now - t;
  return delta >= 0 ? `${stamp} (${formatDuration(delta)} ago)` : `${stamp} (in ${formatDuration(-delta)})`;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
