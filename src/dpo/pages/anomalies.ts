import type { DayRange } from '../../audit/statistics.js';
import { DEFAULT_THRESHOLDS, findAnomalies, type Anomaly, type AnomalyKind, type AnomalyThresholds } from '../anomalies.js';
import { formatWeekdayTime, html } from '../html.js';
import { reasonText } from '../labels.js';
import { csrfField, page, type PageContext } from '../layout.js';
import { countRollups, pageContext, periodOf, sendPage, type DpoPages } from '../request.js';
import { periodForm } from './overview.js';

/**
 * The anomalies of a period (GET /dpo/anomalies): the rules in anomalies.ts over the rollups (and,
 * for the two relation rules, bounded reads of the trail and the register; for the two consent
 * rules, bounded reads of the consent registry), each with a way to the records.
 */
export const anomaliesRoutes: DpoPages = (router, deps) => {
  router.get('/anomalies', async (req, res) => {
    const ctx = pageContext(deps, req, res);
    const range = periodOf(req);
    const behind = await countRollups(deps);
    const anomalies = await findAnomalies(deps.statistics, {
      range,
      describeReason: reasonText,
      withdrawnConsents: () => deps.statistics.withdrawnConsentUses(range),
      relations: deps.statistics,
      consents: deps.statistics,
    });
    sendPage(res, 200, anomaliesPage(ctx, { range, anomalies, thresholds: DEFAULT_THRESHOLDS, consentsChecked: true, behind }));
  });
};

/** At most this many anomalies of one kind on the page; the rest are counted. */
const MAX_PER_KIND = 25;

export function anomaliesPage(
  ctx: PageContext,
  o: { range: DayRange; anomalies: readonly Anomaly[]; thresholds: AnomalyThresholds; consentsChecked: boolean; behind: number },
): string {
  const { t, lang } = ctx;
  const perKind = new Map<string, number>();
  const shown = o.anomalies.filter((a) => {
    const n = (perKind.get(a.kind) ?? 0) + 1;
    perKind.set(a.kind, n);
    return n <= MAX_PER_KIND;
  });
  const hidden = [...perKind.entries()]
    .filter(([, n]) => n > MAX_PER_KIND)
    .map(([kind, n]) => [kind as AnomalyKind, n - MAX_PER_KIND] as const);
  return page(ctx, {
    title: t.nav.anomalies,
    section: 'anomalies',
    body: html`<h1>${t.nav.anomalies}</h1>
<p class="lead">${t.anomalies.lead}</p>
${periodForm(ctx, '/dpo/anomalies', o.range)}
${o.behind > 0 ? html`<p class="notice">${t.anomalies.behind}</p>` : ''}
${!o.consentsChecked ? html`<p class="notice small">${t.anomalies.consentsNotChecked}</p>` : ''}
${o.anomalies.length === 0 ? html`<p class="notice ok" id="no-anomalies">${t.anomalies.none}</p>` : ''}
${hidden.map(([kind, n]) => html`<p class="notice small" data-hidden-kind="${kind}">${t.anomalies.moreHidden(n, t.anomalies.kinds[kind])}</p>`)}
<div id="anomalies">${shown.map(
      (a) => html`<article class="panel anomaly" data-kind="${a.kind}" data-caller="${a.callerSystem}" data-caseworker="${a.caseworker}">
  <div class="kind">${t.anomalies.kinds[a.kind]}</div>
  <h3>${a.caseworker !== '' ? `${a.caseworker} · ${a.callerSystem}` : a.callerSystem}</h3>
  <p>${a.explanation[lang]}</p>
  ${a.evidence.length > 0 ? html`<ul class="small">${a.evidence.map((e) => html`<li><a href="/dpo/records/${e.recordId}">${formatWeekdayTime(e.time, lang)}</a></li>`)}</ul>` : ''}
  ${a.kind !== 'withdrawn-consent' && a.kind !== 'short-lived-relation' ? html`<form method="post" action="/dpo/search" class="no-print">${csrfField(ctx)}<input type="hidden" name="callerSystem" value="${a.callerSystem}">${a.caseworker !== '' ? html`<input type="hidden" name="caseworker" value="${a.caseworker}">` : ''}<input type="hidden" name="from" value="${o.range.fromDay}"><input type="hidden" name="to" value="${o.range.toDay}"><button type="submit" class="secondary">${t.anomalies.showRecords}</button></form>` : ''}
</article>`,
    )}</div>
<details class="panel small"><summary>${t.anomalies.rules}</summary><ul>
  <li>${t.anomalies.ruleManyCitizens({ min: o.thresholds.manyCitizensMin, factor: o.thresholds.manyCitizensFactor, peers: o.thresholds.manyCitizensPeers })}</li>
  <li>${t.anomalies.ruleSystemManyCitizens({ min: o.thresholds.systemCitizensMin, factor: o.thresholds.systemCitizensFactor, days: o.thresholds.systemCitizensDays, normDays: o.thresholds.systemCitizensNormDays, max: o.thresholds.systemCitizensMax })}</li>
  <li>${t.anomalies.ruleOffHours}</li>
  <li>${t.anomalies.ruleRefusals(o.thresholds.refusalsMin)}</li>
  <li>${t.anomalies.ruleWithheld(o.thresholds.withheldMin, Math.round(o.thresholds.withheldShare * 100))}</li>
  <li>${t.anomalies.ruleWithdrawnConsent}</li>
  <li>${t.anomalies.ruleRelationMissing(o.thresholds.relationMissingMin)}</li>
  <li>${t.anomalies.ruleShortLivedRelation(o.thresholds.shortRelationWindowHours)}</li>
  <li>${t.anomalies.ruleSelfRecordedConsent(o.thresholds.selfRecordedConsentMinutes)}</li>
  <li>${t.anomalies.ruleBackdatedConsents(o.thresholds.backdatedConsentsMin)}</li>
</ul></details>`,
  });
}
