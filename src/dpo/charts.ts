import { html, type Html, type Lang, formatNumber } from './html.js';
import { texts } from './texts/index.js';

/**
 * Charts as server-rendered SVG: no library, no script. Colours come from the stylesheet
 * (classes), never from inline styles, so the content security policy can forbid them. Every
 * chart has a title, a text description and per-bar tooltips (<title>), and the numbers are in
 * a table beside it for screen readers and printing.
 */

export interface Series {
  readonly label: string;
  readonly permitted: number;
  readonly refused: number;
}

/** A round upper bound for an axis: 1, 2, 2.5, 5 or 10 times a power of ten. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** A whole-number axis step (1, 2 or 5 times a power of ten) giving about four intervals, and the top. */
export function axisScale(value: number): { max: number; step: number } {
  const raw = Math.max(1, value) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, Math.round([1, 2, 5, 10].map((s) => s * power).find((s) => s >= raw) ?? 10 * power));
  return { max: step * Math.max(1, Math.ceil(value / step)), step };
}

const round = (n: number): string => (Math.round(n * 10) / 10).toString();

/**
 * Requests per day as stacked columns: permitted below, refused on top.
 */
export function dailyChart(
  id: string,
  title: string,
  days: readonly Series[],
  lang: Lang,
  legend: { permitted: string; refused: string },
): Html {
  const width = 760;
  const height = 240;
  const left = 48;
  const right = 12;
  const top = 16;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const { max, step } = axisScale(Math.max(0, ...days.map((d) => d.permitted + d.refused)));
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(1, slot * 0.8);
  const y = (v: number): number => top + plotH - (v / max) * plotH;
  const ticks = Array.from({ length: Math.round(max / step) + 1 }, (_, i) => i * step);
  const labelEvery = Math.max(1, Math.ceil(days.length / 10));
  const total = days.reduce((s, d) => s + d.permitted + d.refused, 0);
  return html`<figure class="chart" id="${id}">
  <svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-t ${id}-d" class="chart-svg">
    <title id="${id}-t">${title}</title>
    <desc id="${id}-d">${texts(lang).charts.daysSummary(days.length, formatNumber(total, lang))}</desc>
    ${ticks.map(
      (v) => html`<line class="grid" x1="${left}" x2="${width - right}" y1="${round(y(v))}" y2="${round(y(v))}"></line>
    <text class="axis" x="${left - 6}" y="${round(y(v) + 4)}" text-anchor="end">${formatNumber(v, lang)}</text>`,
    )}
    ${days.map((d, i) => {
      const x = left + i * slot + (slot - barW) / 2;
      const hp = (d.permitted / max) * plotH;
      const hr = (d.refused / max) * plotH;
      return html`<g class="bar" data-day="${d.label}"><title>${`${d.label}: ${formatNumber(d.permitted, lang)} ${legend.permitted.toLowerCase()}, ${formatNumber(d.refused, lang)} ${legend.refused.toLowerCase()}`}</title>
      <rect class="bar-permitted" x="${round(x)}" y="${round(top + plotH - hp)}" width="${round(barW)}" height="${round(hp)}"></rect>
      <rect class="bar-refused" x="${round(x)}" y="${round(top + plotH - hp - hr)}" width="${round(barW)}" height="${round(hr)}"></rect></g>
      ${i % labelEvery === 0 ? html`<text class="axis" x="${round(x + barW / 2)}" y="${height - bottom + 16}" text-anchor="middle">${d.label.slice(5)}</text>` : ''}`;
    })}
    <line class="axis-line" x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}"></line>
    <rect class="bar-permitted" x="${left}" y="${height - 14}" width="10" height="10"></rect>
    <text class="legend" x="${left + 14}" y="${height - 5}">${legend.permitted}</text>
    <rect class="bar-refused" x="${left + 140}" y="${height - 14}" width="10" height="10"></rect>
    <text class="legend" x="${left + 154}" y="${height - 5}">${legend.refused}</text>
  </svg>
</figure>`;
}

/**
 * Horizontal bars, one per row, permitted and refused side by side in one bar.
 */
export function barChart(
  id: string,
  title: string,
  rows: readonly Series[],
  lang: Lang,
  legend: { permitted: string; refused: string },
): Html {
  const width = 520;
  const rowH = 24;
  const labelW = 190;
  const valueW = 70;
  const top = 8;
  const height = top + Math.max(1, rows.length) * rowH + 26;
  const plotW = width - labelW - valueW;
  const max = niceMax(Math.max(0, ...rows.map((r) => r.permitted + r.refused)));
  return html`<figure class="chart" id="${id}">
  <svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-t" class="chart-svg">
    <title id="${id}-t">${title}</title>
    ${rows.length === 0 ? html`<text class="axis" x="${labelW}" y="${top + 16}">${texts(lang).charts.noRequests}</text>` : ''}
    ${rows.map((r, i) => {
      const yy = top + i * rowH;
      const wp = (r.permitted / max) * plotW;
      const wr = (r.refused / max) * plotW;
      return html`<g class="bar"><title>${`${r.label}: ${formatNumber(r.permitted, lang)} ${legend.permitted.toLowerCase()}, ${formatNumber(r.refused, lang)} ${legend.refused.toLowerCase()}`}</title>
      <text class="label" x="${labelW - 8}" y="${yy + 16}" text-anchor="end">${truncate(r.label, 27)}</text>
      <rect class="bar-permitted" x="${labelW}" y="${yy + 4}" width="${round(wp)}" height="${rowH - 8}"></rect>
      <rect class="bar-refused" x="${round(labelW + wp)}" y="${yy + 4}" width="${round(wr)}" height="${rowH - 8}"></rect>
      <text class="value" x="${round(labelW + wp + wr + 6)}" y="${yy + 16}">${`${formatNumber(r.permitted + r.refused, lang)}${r.refused > 0 ? ` (${formatNumber(r.refused, lang)})` : ''}`}</text></g>`;
    })}
    <rect class="bar-permitted" x="${labelW}" y="${height - 14}" width="10" height="10"></rect>
    <text class="legend" x="${labelW + 14}" y="${height - 5}">${legend.permitted}</text>
    <rect class="bar-refused" x="${labelW + 100}" y="${height - 14}" width="10" height="10"></rect>
    <text class="legend" x="${labelW + 114}" y="${height - 5}">${`${legend.refused} (${texts(lang).charts.inBrackets})`}</text>
  </svg>
</figure>`;
}

/** Horizontal bars of one count each (e.g. refusal reasons). */
export function countChart(id: string, title: string, rows: readonly { label: string; n: number }[], lang: Lang): Html {
  const width = 520;
  const rowH = 24;
  const labelW = 230;
  const valueW = 50;
  const top = 8;
  const height = top + Math.max(1, rows.length) * rowH + 8;
  const plotW = width - labelW - valueW;
  const max = niceMax(Math.max(0, ...rows.map((r) => r.n)));
  return html`<figure class="chart" id="${id}">
  <svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-t" class="chart-svg">
    <title id="${id}-t">${title}</title>
    ${rows.length === 0 ? html`<text class="axis" x="${labelW}" y="${top + 16}">${texts(lang).charts.noRefusals}</text>` : ''}
    ${rows.map((r, i) => {
      const yy = top + i * rowH;
      const w = (r.n / max) * plotW;
      return html`<g class="bar"><title>${`${r.label}: ${formatNumber(r.n, lang)}`}</title>
      <text class="label" x="${labelW - 8}" y="${yy + 16}" text-anchor="end">${truncate(r.label, 33)}</text>
      <rect class="bar-refused" x="${labelW}" y="${yy + 4}" width="${round(w)}" height="${rowH - 8}"></rect>
      <text class="value" x="${round(labelW + w + 6)}" y="${yy + 16}">${formatNumber(r.n, lang)}</text></g>`;
    })}
  </svg>
</figure>`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
