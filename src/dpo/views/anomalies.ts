import type { DayRange } from '../../store/dpo-types.js';
import type { Anomaly, AnomalyKind, AnomalyThresholds } from '../anomalies.js';
import { formatWeekdayTime, html } from '../html.js';
import { csrfField, page, type PageContext } from './layout.js';
import { periodForm } from './overview.js';

const TITLES: Record<AnomalyKind, [string, string]> = {
  'many-citizens': ['Mange forskellige borgere', 'Many distinct citizens'],
  'off-hours': ['Opslag uden for kontortid', 'Look-ups outside office hours'],
  'repeated-refusals': ['Gentagne afvisninger', 'Repeated refusals'],
  'withheld-fields': ['Beder om felter, der ikke udleveres', 'Asks for fields that are not released'],
  'withdrawn-consent': ['Udlevering på tilbagetrukket samtykke', 'Disclosure on a withdrawn consent'],
};

/** At most this many anomalies of one kind on the page; the rest are counted. */
const MAX_PER_KIND = 25;

export function anomaliesPage(ctx: PageContext, o: { range: DayRange; anomalies: readonly Anomaly[]; thresholds: AnomalyThresholds; consentsChecked: boolean; behind: number }): string {
  const { t, lang } = ctx;
  const perKind = new Map<string, number>();
  const shown = o.anomalies.filter((a) => {
    const n = (perKind.get(a.kind) ?? 0) + 1;
    perKind.set(a.kind, n);
    return n <= MAX_PER_KIND;
  });
  const hidden = [...perKind.entries()].filter(([, n]) => n > MAX_PER_KIND).map(([kind, n]) => [kind as AnomalyKind, n - MAX_PER_KIND] as const);
  return page(ctx, {
    title: t('Anomalier', 'Anomalies'),
    section: 'anomalies',
    body: html`<h1>${t('Anomalier', 'Anomalies')}</h1>
<p class="lead">${t('Usædvanlige mønstre i revisionssporet. De er spor for en menneskelig vurdering, ikke afgørelser.', 'Unusual patterns in the audit trail. They are leads for a human to look into, not verdicts.')}</p>
${periodForm(ctx, '/dpo/anomalies', o.range)}
${o.behind > 0 ? html`<p class="notice">${t('Statistikken tælles stadig op; listen kan mangle noget.', 'The statistics are still being counted; the list may be incomplete.')}</p>` : ''}
${!o.consentsChecked ? html`<p class="notice small">${t('Samtykkeregistret er ikke tilgængeligt; udleveringer på tilbagetrukne samtykker er ikke kontrolleret.', 'The consent registry is not available; disclosures on withdrawn consents were not checked.')}</p>` : ''}
${o.anomalies.length === 0 ? html`<p class="notice ok" id="no-anomalies">${t('Ingen anomalier i perioden.', 'No anomalies in the period.')}</p>` : ''}
${hidden.map(([kind, n]) => html`<p class="notice small" data-hidden-kind="${kind}">${t(`${n} flere af slagsen "${TITLES[kind][0]}" vises ikke; vælg en kortere periode eller søg på det kaldende system.`, `${n} more of the kind "${TITLES[kind][1]}" are not shown; choose a shorter period or search by calling system.`)}</p>`)}
<div id="anomalies">${shown.map(
      (a) => html`<article class="panel anomaly" data-kind="${a.kind}" data-caller="${a.callerSystem}" data-caseworker="${a.caseworker}">
  <div class="kind">${t(...TITLES[a.kind])}</div>
  <h3>${a.caseworker !== '' ? `${a.caseworker} · ${a.callerSystem}` : a.callerSystem}</h3>
  <p>${a.explanation[lang]}</p>
  ${a.evidence.length > 0 ? html`<ul class="small">${a.evidence.map((e) => html`<li><a href="/dpo/records/${e.recordId}">${formatWeekdayTime(e.time, lang)}</a></li>`)}</ul>` : ''}
  ${a.kind !== 'withdrawn-consent' ? html`<form method="post" action="/dpo/search" class="no-print">${csrfField(ctx)}<input type="hidden" name="callerSystem" value="${a.callerSystem}">${a.caseworker !== '' ? html`<input type="hidden" name="caseworker" value="${a.caseworker}">` : ''}<input type="hidden" name="from" value="${o.range.fromDay}"><input type="hidden" name="to" value="${o.range.toDay}"><button type="submit" class="secondary">${t('Vis posterne', 'Show the records')}</button></form>` : ''}
</article>`,
    )}</div>
<details class="panel small"><summary>${t('Reglerne', 'The rules')}</summary><ul>
  <li>${t(`Mange borgere: mindst ${o.thresholds.manyCitizensMin} forskellige borgere og mere end ${o.thresholds.manyCitizensFactor} gange medianen for de andre sagsbehandlere i samme kaldende system (mindst ${o.thresholds.manyCitizensPeers} andre).`, `Many citizens: at least ${o.thresholds.manyCitizensMin} distinct citizens and more than ${o.thresholds.manyCitizensFactor} times the median of the other caseworkers of the same calling system (at least ${o.thresholds.manyCitizensPeers} others).`)}</li>
  <li>${t('Uden for kontortid: opslag lørdag, søndag eller uden for 7-18 på hverdage, dansk tid. Helligdage er ikke med.', 'Off hours: look-ups on Saturday, Sunday or outside 07:00-18:00 on weekdays, Copenhagen time. Public holidays are not modelled.')}</li>
  <li>${t(`Gentagne afvisninger: mindst ${o.thresholds.refusalsMin} afviste forespørgsler fra samme sagsbehandler i perioden.`, `Repeated refusals: at least ${o.thresholds.refusalsMin} refused requests from one caseworker in the period.`)}</li>
  <li>${t(`Tilbageholdte felter: mindst ${o.thresholds.withheldMin} tilladte forespørgsler og ${Math.round(o.thresholds.withheldShare * 100)} % af systemets tilladte forespørgsler bad om felter, politikken ikke udleverer.`, `Withheld fields: at least ${o.thresholds.withheldMin} permitted requests and ${Math.round(o.thresholds.withheldShare * 100)} % of the system's permitted requests asked for fields the policy does not release.`)}</li>
  <li>${t('Tilbagetrukket samtykke: udleveringer, der byggede på et samtykke, som siden er trukket tilbage.', 'Withdrawn consent: disclosures that relied on a consent that has since been withdrawn.')}</li>
</ul></details>`,
  });
}
