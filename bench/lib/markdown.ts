/** Markdown helpers for BENCHMARKS.md: numbers, median (min–max), tables. */
import { basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Spread } from './measure.js';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en', { maximumFractionDigits: digits });
}

/** "median (min–max)", or the median alone when the runs agree. */
export function spreadText(s: Spread | null | undefined, digits = 1): string {
  if (!s) return '–';
  if (s.min === s.max) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

/**
 * A command as a page shows it, without the paths of the machine it ran on: a path inside the
 * repository becomes relative to its root; an `--out=FILE` elsewhere is left out (where a run wrote
 * its file says nothing about the run); any other absolute path keeps only its file name.
 */
export function portableCommand(command: string): string {
  return command
    .split(' ')
    .flatMap((word) => {
      const m = /^(--[\w-]+=)?(\/\S*)$/.exec(word);
      if (!m) return [word];
      const option = m[1] ?? '';
      const path = m[2]!;
      if (path.startsWith(REPOSITORY)) return [option + relative(REPOSITORY, path)];
      return option === '--out=' ? [] : [option + basename(path)];
    })
    .join(' ');
}

/** A table; `align` has one letter per column, l or r. */
export function table(head: string[], rows: string[][], align: string): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  const rule = head.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [head, rule, ...rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}

/** `HTTP 503: {…"code":"DEPENDENCY_UNAVAILABLE"…}` → `HTTP 503 DEPENDENCY_UNAVAILABLE`; other text cut short. */
export function shortError(text: string | undefined): string {
  if (!text) return '';
  const m = /^HTTP (\d{3}):.*?"code":"([A-Z_]+)"/.exec(text);
  return m ? `HTTP ${m[1]} ${m[2]}` : text.slice(0, 120);
}
