import { createHash } from 'node:crypto';

/**
 * The pages' stylesheet and script, served from /dpo/assets/ (same origin, as the content
 * security policy requires: script-src 'self', style-src 'self', nothing inline). Kept as
 * strings in the code so that `npm run build` (which compiles only TypeScript) ships them.
 */

const CSS = `
:root { --ink: #1d2430; --muted: #5b6472; --line: #d8dde5; --bg: #f6f7f9; --card: #fff; --ok: #2f6f4f; --ok-bg: #e4f3ea;
  --bad: #a3231b; --bad-bg: #fbe7e5; --warn: #8a5a00; --warn-bg: #fff3d6; --accent: #234e8c; --permitted: #4a78b5; --refused: #d0612b; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); font-size: 15px; line-height: 1.45; }
body { margin: 0; }
a { color: var(--accent); }
header.top { background: #17233a; color: #fff; padding: 0.6rem 1.2rem; display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 1.2rem; }
header.top .brand { font-weight: 700; letter-spacing: 0.02em; margin-right: 0.6rem; }
header.top nav { display: flex; flex-wrap: wrap; gap: 0.2rem 0.9rem; flex: 1; }
header.top nav a { color: #cfd9ea; text-decoration: none; padding: 0.15rem 0; border-bottom: 2px solid transparent; }
header.top nav a[aria-current="page"] { color: #fff; border-bottom-color: #8fb3ea; }
header.top .who { color: #cfd9ea; font-size: 0.9rem; display: flex; gap: 0.6rem; align-items: center; }
header.top form { margin: 0; display: inline; }
header.top button { background: transparent; color: #fff; border: 1px solid #5c6d8c; border-radius: 4px; padding: 0.15rem 0.55rem; cursor: pointer; font: inherit; font-size: 0.85rem; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem; }
h1 { font-size: 1.5rem; margin: 0.2rem 0 0.8rem; }
h2 { font-size: 1.15rem; margin: 1.4rem 0 0.6rem; }
h3 { font-size: 1rem; margin: 0.8rem 0 0.3rem; }
.lead { color: var(--muted); margin-top: -0.4rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 0.8rem; margin: 0.8rem 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.8rem 1rem; }
.card .k { color: var(--muted); font-size: 0.85rem; }
.card .v { font-size: 1.5rem; font-weight: 650; }
.card .v.small { font-size: 0.95rem; font-weight: 600; }
.panel > h2:first-child, .panel > h1:first-child { margin-top: 0; }
.nowrap { white-space: nowrap; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.9rem 1.1rem; margin-bottom: 1rem; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 1rem; }
.badge { display: inline-block; padding: 0.1rem 0.55rem; border-radius: 999px; font-weight: 600; font-size: 0.85rem; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.failed { background: var(--bad-bg); color: var(--bad); }
.badge.pending { background: var(--warn-bg); color: var(--warn); }
.notice { border-left: 4px solid var(--warn); background: var(--warn-bg); padding: 0.6rem 0.9rem; margin: 0.8rem 0; border-radius: 0 4px 4px 0; }
.notice.bad { border-color: var(--bad); background: var(--bad-bg); }
.notice.ok { border-color: var(--ok); background: var(--ok-bg); }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 0.35rem 0.55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 0.85rem; background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.85em; word-break: break-all; }
dl.facts { display: grid; grid-template-columns: minmax(160px, 240px) 1fr; gap: 0.3rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
form.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 0.6rem 1rem; align-items: end; }
form.inline { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: end; }
label { display: flex; flex-direction: column; gap: 0.2rem; font-size: 0.9rem; color: var(--muted); }
label.check { flex-direction: row; align-items: center; gap: 0.4rem; }
input, select { font: inherit; padding: 0.35rem 0.5rem; border: 1px solid #b9c1cd; border-radius: 4px; background: #fff; color: var(--ink); }
button, .button { font: inherit; background: var(--accent); color: #fff; border: 0; border-radius: 4px; padding: 0.45rem 0.9rem; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #e8ecf2; color: var(--ink); }
.actions { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 0.8rem 0; }
.actions form { margin: 0; }
.pager { display: flex; gap: 1rem; margin: 0.8rem 0; align-items: center; }
.anomaly { border-left: 4px solid var(--refused); }
.anomaly h3 { margin-top: 0; }
.anomaly .kind { color: var(--muted); font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.04em; }
figure.chart { margin: 0; }
.chart-svg { width: 100%; height: auto; display: block; }
.chart-svg .grid { stroke: #e6e9ee; stroke-width: 1; }
.chart-svg .axis-line { stroke: #9aa3b0; stroke-width: 1; }
.chart-svg .axis, .chart-svg .legend, .chart-svg .label, .chart-svg .value { font-size: 11px; fill: #4b5563; font-family: inherit; }
#chart-days .axis, #chart-days .legend { font-size: 10px; }
.chart-svg .label { font-size: 11px; fill: #1d2430; }
.chart-svg .bar-permitted { fill: var(--permitted); }
.chart-svg .bar-refused { fill: var(--refused); }
.chart-svg g.bar:hover rect { opacity: 0.8; }
.muted { color: var(--muted); }
.small { font-size: 0.85rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.signin { max-width: 560px; margin: 3rem auto; }
.report h1 { margin-bottom: 0.2rem; }
.report .entry { border-top: 1px solid var(--line); padding: 0.6rem 0; }
@media print {
  header.top, .no-print, .actions { display: none !important; }
  html { background: #fff; font-size: 12px; }
  main { max-width: none; padding: 0; }
  .panel, .card { border: 0; padding: 0; }
  a { color: inherit; text-decoration: none; }
}
`;

const JS = `'use strict';
document.addEventListener('click', function (event) {
  var target = event.target;
  if (target instanceof Element && target.closest('[data-print]')) { event.preventDefault(); window.print(); }
});
document.addEventListener('submit', function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  var question = form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) { event.preventDefault(); return; }
  if (form.hasAttribute('data-download')) return;
  var buttons = form.querySelectorAll('button[type="submit"], button:not([type])');
  setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
});
`;

export interface Asset {
  readonly body: string;
  readonly type: string;
  readonly etag: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#17233a"/><path d="M9 11h14M9 16h14M9 21h9" stroke="#8fb3ea" stroke-width="3" stroke-linecap="round"/></svg>';

export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['favicon.svg', asset(ICON, 'image/svg+xml')],
  ['dpo.css', asset(CSS, 'text/css; charset=utf-8')],
  ['dpo.js', asset(JS, 'text/javascript; charset=utf-8')],
]);
