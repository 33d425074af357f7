/**
 * A horizontal bar chart as a hand-written SVG string, log-scaled (the figures span 10 to
 * 100,000 per second), one colour per group, the value printed at the end of each bar.
 */
export interface Bar {
  label: string;
  value: number;
  group: string;
}

const COLOURS: Record<string, string> = {
  ours: '#2f6fb3',
  BullMQ: '#c0392b',
  'BullMQ, AOF': '#e67e22',
  'raw stage': '#7f8c8d',
};
const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export function barChart(title: string, bars: Bar[]): string {
  const labelW = 330;
  const plotW = 460;
  const rowH = 22;
  const top = 52;
  const height = top + Math.max(1, bars.length) * rowH + 46;
  const width = labelW + plotW + 90;
  const max = Math.max(10, ...bars.map((b) => b.value));
  const decades = Math.ceil(Math.log10(max));
  const x = (v: number) => labelW + (Math.log10(Math.max(1, v)) / decades) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let d = 0; d <= decades; d++) {
    const gx = x(10 ** d);
    parts.push(
      `<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${top + bars.length * rowH}" stroke="#dddddd"/>`,
      `<text x="${gx}" y="${top + bars.length * rowH + 16}" text-anchor="middle" fill="#555555">${(10 ** d).toLocaleString('en')}</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const colour = COLOURS[b.group] ?? '#555555';
    parts.push(
      `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${labelW}" y="${y + 3}" width="${Math.max(1, x(b.value) - labelW).toFixed(1)}" height="${rowH - 6}" fill="${colour}"/>`,
      `<text x="${(x(b.value) + 4).toFixed(1)}" y="${y + 15}" fill="#222222">${b.value.toLocaleString('en', { maximumFractionDigits: b.value < 100 ? 1 : 0 })}/s</text>`,
    );
  });
  let lx = labelW;
  const ly = height - 14;
  for (const [group, colour] of Object.entries(COLOURS)) {
    parts.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colour}"/>`,
      `<text x="${lx + 16}" y="${ly}">${esc(group)}</text>`,
    );
    lx += 110;
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}
