/** Markdown helpers for BENCHMARKS.md: numbers, median (min–max), tables. */
import type { Spread } from '../store/measure.js';

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

/** A table; `align` has one letter per column, l or r. */
export function table(head: string[], rows: string[][], align: string): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  const rule = head.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [head, rule, ...rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}
