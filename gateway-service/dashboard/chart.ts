/** Completed and failed tasks per second over the last minutes, from the live events (SVG). */
import { h, svg } from './dom.js';

const SECONDS = 180;
const W = 360;
const H = 120;

export class ThroughputChart {
  readonly element: HTMLElement;
  private readonly done = new Map<number, number>();
  private readonly failed = new Map<number, number>();
  private readonly plot: SVGElement;
  private readonly summary: HTMLElement;

  constructor() {
    this.plot = svg('svg', {
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-labelledby': 'chart-summary',
      class: 'chart',
    });
    this.summary = h('p', { id: 'chart-summary', class: 'chart-summary' });
    this.element = h(
      'figure',
      { class: 'throughput' },
      this.plot,
      h(
        'figcaption',
        {},
        h('span', { class: 'key done' }, 'completed/s'),
        ' ',
        h('span', { class: 'key failed' }, 'failed/s'),
        ` · last ${SECONDS / 60} minutes`,
      ),
      this.summary,
    );
    this.render();
    window.setInterval(() => this.render(), 1_000);
  }

  add(status: string, now: number): void {
    const s = Math.floor(now / 1000);
    const m = status === 'succeeded' ? this.done : status === 'failed' ? this.failed : undefined;
    if (!m) return;
    m.set(s, (m.get(s) ?? 0) + 1);
  }

  private render(): void {
    const now = Math.floor(Date.now() / 1000);
    for (const m of [this.done, this.failed]) for (const k of m.keys()) if (k <= now - SECONDS) m.delete(k);
    const series = (m: Map<number, number>) =>
      Array.from({ length: SECONDS }, (_, i) => m.get(now - SECONDS + 1 + i) ?? 0);
    const done = series(this.done);
    const failed = series(this.failed);
    const max = Math.max(1, ...done, ...failed);
    const line = (values: number[]) =>
      values
        .map((v, i) => `${((i / (SECONDS - 1)) * W).toFixed(1)},${(H - 4 - (v / max) * (H - 16)).toFixed(1)}`)
        .join(' ');
    this.plot.replaceChildren(
      svg('line', { x1: 0, y1: H - 4, x2: W, y2: H - 4, class: 'axis' }),
      svg('text', { x: 2, y: 10, class: 'scale' }),
      svg('polyline', { points: line(done), class: 'done', fill: 'none' }),
      svg('polyline', { points: line(failed), class: 'failed', fill: 'none' }),
    );
    this.plot.querySelector('text')!.textContent = `${max}/s`;
    const last = (v: number[]) => v.slice(-60).reduce((a, b) => a + b, 0);
    this.summary.textContent = `Last minute: ${last(done)} completed, ${last(failed)} failed.`;
  }
}
