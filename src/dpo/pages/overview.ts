import type { CheckpointSummary, IntegrityStatus } from '../../audit/integrity-monitor.js';
import { nextDay, type DayRange } from '../../audit/statistics.js';
import { barChart, countChart, dailyChart, type Series } from '../charts.js';
import { formatNumber, formatTime, html, type Html } from '../html.js';
import { contractTitle, problemText, purposeTitle, reasonText } from '../labels.js';
import { page, type PageContext } from '../layout.js';
import { countRollups, integrityStatus, pageContext, periodOf, sendPage, type DpoPages } from '../request.js';

/** The overview (GET /dpo/): requests and refusals per day, purpose, contract and calling system in a period, the refusals' reasons, and the trail's integrity. */
export const overviewRoutes: DpoPages = (router, deps) => {
  router.get('/', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    const rules = ctx.rules;
    const range = periodOf(req);
    const behind = await countRollups(deps);
    const traffic = await deps.statistics.traffic(range);
    const status = await integrityStatus(deps);
    const perDay = new Map(traffic.days.map((d) => [d.day, d]));
    const series = (rows: readonly { key: string; requests: number; refused: number }[], label: (key: string) => string): Series[] =>
      rows.map((r) => ({ label: label(r.key), permitted: r.requests - r.refused, refused: r.refused }));
    const byReason = new Map<string, number>();
    for (const r of traffic.reasons) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + r.n);
    sendPage(
      res,
      200,
      overviewPage(ctx, {
        range,
        days: allDays(range).map((day) => {
          const d = perDay.get(day);
          return { label: day, permitted: (d?.requests ?? 0) - (d?.refused ?? 0), refused: d?.refused ?? 0 };
        }),
        byPurpose: series(traffic.byPurpose, (k) => purposeTitle(rules, k, ctx.lang)),
        byContract: series(traffic.byContract, (k) => contractTitle(rules, k, ctx.lang)),
        byCaller: series(traffic.byCaller, (k) => (k === '' ? ctx.t.overview.unknownCaller : k)),
        reasons: [...byReason.entries()].sort((a, b) => b[1] - a[1]).map(([code, n]) => ({ code, label: reasonText(code, ctx.lang), n })),
        integrity: status,
        checkpoints: await deps.integrity.checkpoints(status.chains.map((c) => c.chain)),
        behind,
      }),
    );
  });
};

function allDays(range: DayRange): string[] {
  const out: string[] = [];
  for (let d = range.fromDay; d <= range.toDay; d = nextDay(d)) out.push(d);
  return out;
}

export interface OverviewData {
  readonly range: DayRange;
  readonly days: readonly Series[];
  readonly byPurpose: readonly Series[];
  readonly byContract: readonly Series[];
  readonly byCaller: readonly Series[];
  readonly reasons: readonly { readonly code: string; readonly label: string; readonly n: number }[];
  readonly integrity: IntegrityStatus;
  /** undefined when the gateway signs no checkpoints; [] when none is signed yet. */
  readonly checkpoints: readonly CheckpointSummary[] | undefined;
  /** Records not yet counted in the statistics (being counted in the background). */
  readonly behind: number;
}

export function periodForm(ctx: PageContext, action: string, range: DayRange): Html {
  const { t } = ctx;
  return html`<form method="get" action="${action}" class="inline no-print" id="period">
  <label>${t.common.from} <input type="date" name="from" value="${range.fromDay}" required></label>
  <label>${t.common.toInclusive} <input type="date" name="to" value="${range.toDay}" required></label>
  <button type="submit" class="secondary">${t.overview.showPeriod}</button>
</form>`;
}

export function integrityBadge(ctx: PageContext, status: IntegrityStatus): Html {
  const { t } = ctx;
  const label = status.state === 'intact' ? t.common.intact : status.state === 'failed' ? t.common.failed : t.common.beingChecked;
  return html`<span class="badge ${status.state === 'intact' ? 'ok' : status.state === 'failed' ? 'failed' : 'pending'}" data-integrity="${status.state}">${label}</span>`;
}

export function overviewPage(ctx: PageContext, d: OverviewData): string {
  const { t, lang } = ctx;
  const legend = { permitted: t.common.permitted, refused: t.common.refused };
  const requests = d.days.reduce((s, x) => s + x.permitted + x.refused, 0);
  const refused = d.days.reduce((s, x) => s + x.refused, 0);
  const latest =
    d.checkpoints === undefined || d.checkpoints.length === 0
      ? undefined
      : [...d.checkpoints].sort((a, b) => (a.time < b.time ? 1 : -1))[0];
  const failed = d.integrity.chains.find((c) => c.state === 'failed');
  return page(ctx, {
    title: t.nav.overview,
    section: 'overview',
    body: html`<h1>${t.nav.overview}</h1>
<p class="lead">${t.overview.lead}</p>
${periodForm(ctx, '/dpo/', d.range)}
${d.behind > 0 ? html`<p class="notice" id="statistics-behind">${t.overview.behind(formatNumber(d.behind, lang))}</p>` : ''}
${failed !== undefined ? html`<p class="notice bad" id="integrity-alert"><strong>${t.overview.trailAltered}</strong> ${t.common.chain} ${failed.chain}, ${t.common.recordLower} #${failed.problem?.seq ?? ''}: ${problemText(failed.problem?.kind ?? '', lang)}. <a href="/dpo/integrity">${t.overview.seeIntegrity}</a></p>` : ''}
<div class="cards">
  <div class="card"><div class="k">${t.overview.requests}</div><div class="v" id="total-requests">${formatNumber(requests, lang)}</div></div>
  <div class="card"><div class="k">${t.common.refused}</div><div class="v" id="total-refused">${formatNumber(refused, lang)}</div><div class="small muted">${requests > 0 ? `${formatNumber(Math.round((refused / requests) * 1000) / 10, lang)} %` : ''}</div></div>
  <div class="card"><div class="k">${t.overview.integrity}</div><div class="v">${integrityBadge(ctx, d.integrity)}</div>
    <div class="small muted">${d.integrity.chains.map((c) => html`<div>${c.chain}: ${t.overview.verifiedThrough} ${formatNumber(c.verifiedThrough, lang)} / ${formatNumber(c.headSeq, lang)}</div>`)}</div>
    <div class="small"><a href="/dpo/integrity">${t.overview.integrityDetails}</a></div></div>
  <div class="card"><div class="k">${t.overview.lastCheckpoint}</div>
    <div class="v small" id="last-checkpoint">${
      d.checkpoints === undefined
        ? t.overview.noCheckpoints
        : latest === undefined
          ? t.overview.noCheckpointYet
          : html`${latest.chain} #${formatNumber(latest.seq, lang)}<br><span class="muted">${formatTime(latest.time, lang)}</span> ${latest.signatureValid ? html`<span class="badge ok">${t.overview.signatureValid}</span>` : html`<span class="badge failed">${t.overview.signatureInvalid}</span>`}`
    }</div></div>
</div>
<section class="panel"><h2>${t.overview.perDay}</h2>
${dailyChart('chart-days', t.overview.perDayChart, d.days, lang, legend)}
</section>
<div class="grid2">
<section class="panel"><h2>${t.overview.perPurpose}</h2>${barChart('chart-purpose', t.overview.perPurposeChart, d.byPurpose, lang, legend)}</section>
<section class="panel"><h2>${t.overview.perContract}</h2>${barChart('chart-contract', t.overview.perContractChart, d.byContract, lang, legend)}</section>
<section class="panel"><h2>${t.overview.perCaller}</h2>${barChart('chart-caller', t.overview.perCallerChart, d.byCaller, lang, legend)}</section>
<section class="panel"><h2>${t.overview.reasons}</h2>${countChart('chart-reasons', t.overview.reasonsChart, d.reasons, lang)}
<table class="small" id="reasons-table"><thead><tr><th>${t.common.reason}</th><th>${t.common.code}</th><th class="num">${t.overview.count}</th></tr></thead>
<tbody>${d.reasons.map((r) => html`<tr><td>${r.label}</td><td><code>${r.code}</code></td><td class="num">${formatNumber(r.n, lang)}</td></tr>`)}</tbody></table>
</section>
</div>`,
  });
}
