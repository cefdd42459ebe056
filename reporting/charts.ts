/**
 * Server-side SVG charts for reports. Hand-written rather than Vega-Lite: vega 6 and vega-lite 6 are
 * ES-module-only packages, which this CommonJS runtime (tsx, @swc/jest) cannot require, and the
 * five chart shapes a report needs fit in this file. Output is deterministic, needs no fonts or
 * network, and every data mark carries class="mark" so a browser test can check it rendered.
 */

const PALETTE = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5'];
const FONT = 'font-family="system-ui, sans-serif" font-size="11"';

export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (n: number) => (Math.round(n * 10) / 10).toString();
export const colorOf = (i: number) => PALETTE[i % PALETTE.length];

function frame(title: string, width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${escapeXml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>` +
    `<title>${escapeXml(title)}</title><rect width="${width}" height="${height}" fill="#fff"/>` +
    `<text x="8" y="16" font-size="13" font-weight="600">${escapeXml(title)}</text>${body}</svg>`
  );
}

/** Long labels are cut with an ellipsis (the full text stays in the mark's tooltip). */
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function legend(names: string[], x: number, y: number): string {
  return names
    .map(
      (n, i) =>
        `<rect x="${x}" y="${y + i * 16}" width="10" height="10" fill="${colorOf(i)}"/><text x="${x + 14}" y="${y + i * 16 + 9}">${escapeXml(clip(n, 22))}</text>`,
    )
    .join('');
}

const linear = (d0: number, d1: number, r0: number, r1: number) => (v: number) =>
  d1 === d0 ? (r0 + r1) / 2 : r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);

export interface LinePoint {
  x: number;
  y: number | null;
  lo?: number | null;
  hi?: number | null;
}
export interface LineChart {
  title: string;
  xLabel: string;
  series: Array<{ name: string; points: LinePoint[] }>;
  yDomain?: [number, number];
  target?: { value: number; label: string };
}

/** Lines with optional interval bands (lo..hi) and a dashed target line. */
export function lineChart(c: LineChart): string {
  const width = 640;
  const height = 300;
  const m = { l: 44, r: 150, t: 30, b: 36 };
  const xs = c.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = c.series
    .flatMap((s) => s.points.flatMap((p) => [p.y, p.lo, p.hi]))
    .filter((v): v is number => typeof v === 'number');
  const [y0, y1] = c.yDomain ?? [Math.min(0, ...ys), Math.max(1, ...ys)];
  const x = linear(Math.min(...xs), Math.max(...xs), m.l + 10, width - m.r - 10);
  const y = linear(y0, y1, height - m.b, m.t);
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  let body = `<line x1="${m.l}" y1="${height - m.b}" x2="${width - m.r}" y2="${height - m.b}" stroke="#888"/>`;
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    body += `<line x1="${m.l}" x2="${width - m.r}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#eee"/><text x="${m.l - 4}" y="${f(y(v) + 4)}" text-anchor="end">${Number(v.toFixed(2))}</text>`;
  }
  body += xTicks.map((t) => `<text x="${f(x(t))}" y="${height - m.b + 14}" text-anchor="middle">${t}</text>`).join('');
  body += `<text x="${(m.l + width - m.r) / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(c.xLabel)}</text>`;
  c.series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.y !== null);
    const band = pts.filter((p) => typeof p.lo === 'number' && typeof p.hi === 'number');
    if (band.length) {
      const upper = band.map((p) => `${f(x(p.x))},${f(y(p.hi as number))}`);
      const lower = band.map((p) => `${f(x(p.x))},${f(y(p.lo as number))}`).reverse();
      // a single point gets a bar instead of a zero-width polygon
      body +=
        band.length === 1
          ? `<line class="mark band" x1="${f(x(band[0].x))}" x2="${f(x(band[0].x))}" y1="${upper[0].split(',')[1]}" y2="${lower[0].split(',')[1]}" stroke="${colorOf(i)}" stroke-opacity="0.4" stroke-width="8"/>`
          : `<polygon class="mark band" points="${[...upper, ...lower].join(' ')}" fill="${colorOf(i)}" fill-opacity="0.15"/>`;
    }
    if (pts.length > 1)
      body += `<polyline class="mark line" fill="none" stroke="${colorOf(i)}" stroke-width="2" points="${pts.map((p) => `${f(x(p.x))},${f(y(p.y as number))}`).join(' ')}"/>`;
    body += pts
      .map(
        (p) =>
          `<circle class="mark point" cx="${f(x(p.x))}" cy="${f(y(p.y as number))}" r="3.5" fill="${colorOf(i)}"><title>${escapeXml(`${s.name} @ ${p.x}: ${(p.y as number).toFixed(3)}`)}</title></circle>`,
      )
      .join('');
  });
  if (c.target) {
    const ty = f(y(c.target.value));
    body += `<line class="mark target" x1="${m.l}" x2="${width - m.r}" y1="${ty}" y2="${ty}" stroke="#d62728" stroke-dasharray="5,4"/><text x="${m.l + 4}" y="${f(Number(ty) - 4)}" fill="#d62728">${escapeXml(c.target.label)}</text>`;
  }
  body += legend(
    c.series.map((s) => s.name),
    width - m.r + 8,
    m.t + 20,
  );
  return frame(c.title, width, height, body);
}

export interface BarChart {
  title: string;
  bars: Array<{ label: string; value: number; series?: string }>;
  /** Upper end of the value axis (default: the largest value or the reference). */
  max?: number;
  reference?: { value: number; label: string };
  format?: (v: number) => string;
}

/** Horizontal bars, coloured by series, with an optional reference line (a budget, a target). */
export function barChart(c: BarChart): string {
  const fmt = c.format ?? ((v: number) => Number(v.toFixed(3)).toString());
  const series = [...new Set(c.bars.map((b) => b.series ?? ''))];
  const LABEL_CHARS = 36;
  const labelWidth = 12 + 6.5 * Math.min(LABEL_CHARS, Math.max(4, ...c.bars.map((b) => b.label.length)));
  const width = 680;
  const rowH = 20;
  const m = { l: labelWidth, r: series.length > 1 ? 200 : 60, t: 30, b: 24 };
  const height = m.t + m.b + rowH * Math.max(1, c.bars.length);
  const max = c.max ?? Math.max(1e-9, c.reference?.value ?? 0, ...c.bars.map((b) => b.value));
  const x = linear(0, max, m.l, width - m.r);
  let body = `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${height - m.b}" stroke="#888"/>`;
  c.bars.forEach((b, i) => {
    const yy = m.t + i * rowH;
    const color = colorOf(series.indexOf(b.series ?? ''));
    body += `<text x="${m.l - 4}" y="${yy + 14}" text-anchor="end">${escapeXml(clip(b.label, LABEL_CHARS))}</text>`;
    body += `<rect class="mark bar" x="${m.l}" y="${yy + 3}" width="${f(Math.max(0, x(Math.min(b.value, max)) - m.l))}" height="${rowH - 6}" fill="${color}"><title>${escapeXml(`${b.label}: ${fmt(b.value)}`)}</title></rect>`;
    body += `<text x="${f(x(Math.min(b.value, max)) + 4)}" y="${yy + 14}">${escapeXml(fmt(b.value))}</text>`;
  });
  if (c.reference) {
    const rx = f(x(c.reference.value));
    body += `<line class="mark target" x1="${rx}" x2="${rx}" y1="${m.t - 4}" y2="${height - m.b}" stroke="#d62728" stroke-dasharray="5,4"/><text x="${rx}" y="${height - 8}" text-anchor="middle" fill="#d62728">${escapeXml(c.reference.label)}</text>`;
  }
  if (series.length > 1) body += legend(series, width - m.r + 60, m.t);
  return frame(c.title, width, height, body);
}

/** A confusion matrix (rows: truth, columns: verdict), shaded by count. */
export function confusionChart(title: string, cells: { tp: number; fp: number; fn: number; tn: number }): string {
  const grid = [
    ['truth pass', cells.tp, cells.fn],
    ['truth fail', cells.fp, cells.tn],
  ] as const;
  const max = Math.max(1, cells.tp, cells.fp, cells.fn, cells.tn);
  const size = 64;
  const m = { l: 80, t: 48 };
  let body = `<text x="${m.l + size / 2}" y="${m.t - 6}" text-anchor="middle">judge pass</text><text x="${m.l + size * 1.5}" y="${m.t - 6}" text-anchor="middle">judge fail</text>`;
  grid.forEach(([label, a, b], r) => {
    body += `<text x="${m.l - 6}" y="${m.t + r * size + size / 2 + 4}" text-anchor="end">${label}</text>`;
    [a, b].forEach((v, col) => {
      const shade = 0.1 + 0.8 * (v / max);
      const cx = m.l + col * size;
      const cy = m.t + r * size;
      body += `<rect class="mark cell" x="${cx}" y="${cy}" width="${size - 2}" height="${size - 2}" fill="#4269d0" fill-opacity="${shade.toFixed(2)}"/><text x="${cx + size / 2}" y="${cy + size / 2 + 4}" text-anchor="middle" font-size="14" fill="${shade > 0.5 ? '#fff' : '#000'}">${v}</text>`;
    });
  });
  return frame(title, m.l + 2 * size + 16, m.t + 2 * size + 12, body);
}

export interface ForestRow {
  label: string;
  estimate: number;
  lo: number;
  hi: number;
  significant: boolean;
}

/** Coefficients with 95% intervals against a zero line; significant ones filled. */
export function forestPlot(title: string, rows: ForestRow[]): string {
  const width = 640;
  const rowH = 20;
  const m = { l: 210, r: 30, t: 30, b: 30 };
  const height = m.t + m.b + rowH * Math.max(1, rows.length);
  const lim = Math.max(0.1, ...rows.flatMap((r) => [Math.abs(r.lo), Math.abs(r.hi)]));
  const x = linear(-lim, lim, m.l, width - m.r);
  let body = `<line x1="${f(x(0))}" x2="${f(x(0))}" y1="${m.t - 4}" y2="${height - m.b}" stroke="#888" stroke-dasharray="3,3"/>`;
  for (const v of [-lim, -lim / 2, 0, lim / 2, lim])
    body += `<text x="${f(x(v))}" y="${height - m.b + 14}" text-anchor="middle">${Number(v.toFixed(2))}</text>`;
  body += `<text x="${(m.l + width - m.r) / 2}" y="${height - 4}" text-anchor="middle">standardised within-show coefficient (95% CI)</text>`;
  rows.forEach((r, i) => {
    const yy = m.t + i * rowH + rowH / 2;
    const color = r.estimate >= 0 ? '#3ca951' : '#ff725c';
    body += `<text x="${m.l - 6}" y="${yy + 4}" text-anchor="end">${escapeXml(r.label)}</text>`;
    body += `<line class="mark interval" x1="${f(x(r.lo))}" x2="${f(x(r.hi))}" y1="${yy}" y2="${yy}" stroke="${color}" stroke-width="2"/>`;
    body += `<circle class="mark point" cx="${f(x(r.estimate))}" cy="${yy}" r="4" stroke="${color}" fill="${r.significant ? color : '#fff'}"><title>${escapeXml(`${r.label}: ${r.estimate.toFixed(3)} [${r.lo.toFixed(3)}, ${r.hi.toFixed(3)}]`)}</title></circle>`;
  });
  return frame(title, width, height, body);
}

/** Phases as bars on a time axis; an open phase runs to `now`. */
export function timelineChart(
  title: string,
  spans: Array<{ label: string; start: string; end: string | null }>,
  now: string,
): string {
  const width = 640;
  const rowH = 22;
  const m = { l: 130, r: 20, t: 30, b: 30 };
  const height = m.t + m.b + rowH * Math.max(1, spans.length);
  const t = (s: string) => new Date(s).getTime();
  const t0 = Math.min(...spans.map((s) => t(s.start)));
  const t1 = Math.max(t0 + 1, ...spans.map((s) => t(s.end ?? now)));
  const x = linear(t0, t1, m.l, width - m.r);
  let body = '';
  for (let i = 0; i <= 4; i++) {
    const v = t0 + ((t1 - t0) * i) / 4;
    body += `<line x1="${f(x(v))}" x2="${f(x(v))}" y1="${m.t}" y2="${height - m.b}" stroke="#eee"/><text x="${f(x(v))}" y="${height - m.b + 14}" text-anchor="middle">${new Date(v).toISOString().slice(0, 16).replace('T', ' ')}</text>`;
  }
  spans.forEach((s, i) => {
    const yy = m.t + i * rowH;
    const x0 = x(t(s.start));
    const x1 = Math.max(x0 + 3, x(t(s.end ?? now)));
    body += `<text x="${m.l - 6}" y="${yy + 15}" text-anchor="end">${escapeXml(s.label)}</text>`;
    body += `<rect class="mark span" x="${f(x0)}" y="${yy + 4}" width="${f(x1 - x0)}" height="${rowH - 8}" fill="${colorOf(i)}"${s.end ? '' : ' fill-opacity="0.5"'}><title>${escapeXml(`${s.label}: ${s.start} → ${s.end ?? 'running'}`)}</title></rect>`;
  });
  return frame(title, width, height, body);
}

/**
 * A symmetric matrix (rater × rater agreement) as shaded cells: low values red, high green, blank
 * where a pair shared nothing. Names run down the left and, abbreviated by index, along the top.
 */
export function heatmapChart(title: string, names: string[], value: (a: string, b: string) => number | null): string {
  const cell = Math.max(18, Math.min(40, Math.floor(480 / Math.max(1, names.length))));
  const m = { l: 12 + 6.5 * Math.min(28, Math.max(4, ...names.map((n) => n.length))), t: 48 };
  let body = '';
  names.forEach((a, i) => {
    body += `<text x="${f(m.l - 4)}" y="${m.t + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(clip(`${i + 1}. ${a}`, 30))}</text>`;
    body += `<text x="${f(m.l + i * cell + cell / 2)}" y="${m.t - 6}" text-anchor="middle">${i + 1}</text>`;
    names.forEach((b, j) => {
      const v = i === j ? null : value(a, b);
      if (v === null) return;
      // red (0) → yellow (0.5) → green (1)
      const hue = Math.round(120 * Math.max(0, Math.min(1, v)));
      body += `<rect class="mark cell" x="${f(m.l + j * cell)}" y="${m.t + i * cell}" width="${cell - 1}" height="${cell - 1}" fill="hsl(${hue},65%,55%)"><title>${escapeXml(`${a} × ${b}: ${(v * 100).toFixed(1)}%`)}</title></rect>`;
      if (cell >= 30)
        body += `<text x="${f(m.l + j * cell + cell / 2)}" y="${m.t + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="10">${Math.round(v * 100)}</text>`;
    });
  });
  return frame(title, Math.ceil(m.l + names.length * cell + 16), m.t + names.length * cell + 12, body);
}
