import type { DayRange } from '../../store/dpo-types.js';
import { barChart, countChart, dailyChart, type Series } from '../charts.js';
import { formatNumber, formatTime, html, type Html } from '../html.js';
import type { IntegrityStatus } from '../integrity.js';
import { problemText } from '../labels.js';
import { page, type PageContext } from './layout.js';

export interface CheckpointSummary {
  readonly chain: string;
  readonly seq: number;
  readonly time: string;
  /** The checkpoint's signature verified with the gateway's public key. */
  readonly signatureValid: boolean;
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
  <label>${t('Fra', 'From')} <input type="date" name="from" value="${range.fromDay}" required></label>
  <label>${t('Til og med', 'To (inclusive)')} <input type="date" name="to" value="${range.toDay}" required></label>
  <button type="submit" class="secondary">${t('Vis periode', 'Show period')}</button>
</form>`;
}

export function integrityBadge(ctx: PageContext, status: IntegrityStatus): Html {
  const { t } = ctx;
  const label = status.state === 'intact' ? t('Intakt', 'Intact') : status.state === 'failed' ? t('Fejlet', 'Failed') : t('Kontrolleres', 'Being checked');
  return html`<span class="badge ${status.state === 'intact' ? 'ok' : status.state === 'failed' ? 'failed' : 'pending'}" data-integrity="${status.state}">${label}</span>`;
}

export function overviewPage(ctx: PageContext, d: OverviewData): string {
  const { t, lang } = ctx;
  const legend = { permitted: t('Tilladt', 'Permitted'), refused: t('Afvist', 'Refused') };
  const requests = d.days.reduce((s, x) => s + x.permitted + x.refused, 0);
  const refused = d.days.reduce((s, x) => s + x.refused, 0);
  const latest = d.checkpoints === undefined || d.checkpoints.length === 0 ? undefined : [...d.checkpoints].sort((a, b) => (a.time < b.time ? 1 : -1))[0];
  const failed = d.integrity.chains.find((c) => c.state === 'failed');
  return page(ctx, {
    title: t('Overblik', 'Overview'),
    section: 'overview',
    body: html`<h1>${t('Overblik', 'Overview')}</h1>
<p class="lead">${t('Forespørgsler og afvisninger i perioden, og revisionssporets integritet.', 'Requests and refusals in the period, and the integrity of the audit trail.')}</p>
${periodForm(ctx, '/dpo/', d.range)}
${d.behind > 0 ? html`<p class="notice" id="statistics-behind">${t(`Statistikken mangler endnu ${formatNumber(d.behind, lang)} poster; de tælles nu i baggrunden.`, `The statistics do not yet include ${formatNumber(d.behind, lang)} records; they are being counted in the background.`)}</p>` : ''}
${failed !== undefined ? html`<p class="notice bad" id="integrity-alert"><strong>${t('Revisionssporet er ændret.', 'The audit trail has been altered.')}</strong> ${t('Kæde', 'Chain')} ${failed.chain}, ${t('post', 'record')} #${failed.problem?.seq ?? ''}: ${problemText(failed.problem?.kind ?? '', lang)}. <a href="/dpo/integrity">${t('Se integritet', 'See integrity')}</a></p>` : ''}
<div class="cards">
  <div class="card"><div class="k">${t('Forespørgsler', 'Requests')}</div><div class="v" id="total-requests">${formatNumber(requests, lang)}</div></div>
  <div class="card"><div class="k">${t('Afvist', 'Refused')}</div><div class="v" id="total-refused">${formatNumber(refused, lang)}</div><div class="small muted">${requests > 0 ? `${Math.round((refused / requests) * 1000) / 10} %` : ''}</div></div>
  <div class="card"><div class="k">${t('Sporets integritet', "The trail's integrity")}</div><div class="v">${integrityBadge(ctx, d.integrity)}</div>
    <div class="small muted">${d.integrity.chains.map((c) => html`<div>${c.chain}: ${t('kontrolleret til', 'verified through')} ${formatNumber(c.verifiedThrough, lang)} / ${formatNumber(c.headSeq, lang)}</div>`)}</div>
    <div class="small"><a href="/dpo/integrity">${t('Detaljer og fuld kontrol', 'Details and full verification')}</a></div></div>
  <div class="card"><div class="k">${t('Seneste signerede kontrolpunkt', 'Last signed checkpoint')}</div>
    <div class="v small" id="last-checkpoint">${
      d.checkpoints === undefined
        ? t('Gatewayen signerer ikke kontrolpunkter', 'The gateway signs no checkpoints')
        : latest === undefined
          ? t('Intet endnu', 'None yet')
          : html`${latest.chain} #${formatNumber(latest.seq, lang)}<br><span class="muted">${formatTime(latest.time, lang)}</span> ${latest.signatureValid ? html`<span class="badge ok">${t('signatur gyldig', 'signature valid')}</span>` : html`<span class="badge failed">${t('signatur ugyldig', 'signature invalid')}</span>`}`
    }</div></div>
</div>
<section class="panel"><h2>${t('Forespørgsler pr. dag', 'Requests per day')}</h2>
${dailyChart('chart-days', t('Forespørgsler pr. dag, tilladt og afvist', 'Requests per day, permitted and refused'), d.days, lang, legend)}
</section>
<div class="grid2">
<section class="panel"><h2>${t('Pr. formål', 'Per purpose')}</h2>${barChart('chart-purpose', t('Forespørgsler pr. formål', 'Requests per purpose'), d.byPurpose, lang, legend)}</section>
<section class="panel"><h2>${t('Pr. kontrakt', 'Per contract')}</h2>${barChart('chart-contract', t('Forespørgsler pr. kontrakt', 'Requests per contract'), d.byContract, lang, legend)}</section>
<section class="panel"><h2>${t('Pr. kaldende system', 'Per calling system')}</h2>${barChart('chart-caller', t('Forespørgsler pr. kaldende system', 'Requests per calling system'), d.byCaller, lang, legend)}</section>
<section class="panel"><h2>${t('Grunde til afvisning', 'Reasons for refusal')}</h2>${countChart('chart-reasons', t('Afvisninger pr. grund', 'Refusals per reason'), d.reasons, lang)}
<table class="small" id="reasons-table"><thead><tr><th>${t('Grund', 'Reason')}</th><th>${t('Kode', 'Code')}</th><th class="num">${t('Antal', 'Count')}</th></tr></thead>
<tbody>${d.reasons.map((r) => html`<tr><td>${r.label}</td><td><code>${r.code}</code></td><td class="num">${formatNumber(r.n, lang)}</td></tr>`)}</tbody></table>
</section>
</div>`,
  });
}
