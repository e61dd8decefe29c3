import type { CitizenReport } from '../../audit/report.js';
import { html, type Html } from '../html.js';
import { entryLines, OUTCOME_TEXT, REPORT_TEXT, reportPeriod, reportTime } from '../report-text.js';
import { csrfField, page, type PageContext } from './layout.js';

/** What the report form asks for; the CPR number travels only in POST bodies. */
export interface ReportRequest {
  readonly cpr: string;
  readonly fromDay?: string;
  readonly toDay?: string;
  readonly reportLang: 'da' | 'en';
}

export function reportFormPage(ctx: PageContext, error?: string, values: { fromDay?: string; toDay?: string; reportLang?: 'da' | 'en' } = {}): string {
  const { t } = ctx;
  const lang = values.reportLang ?? 'da';
  return page(ctx, {
    title: t('Borgerens indsigt', 'Citizen access report'),
    section: 'report',
    body: html`<h1>${t('Borgerens indsigt (art. 15)', 'Citizen access report (Art. 15)')}</h1>
<p class="lead">${t('Fra et CPR-nummer til en oversigt, borgeren kan læse: hvem så hvad, hvornår, hvorfor og med hvilken hjemmel.', 'From a CPR number to an overview a citizen can read: who saw what, when, why and on which basis.')}</p>
<form method="post" action="/dpo/citizen-report" class="panel filters" id="report-form" autocomplete="off">
  ${csrfField(ctx)}
  ${error !== undefined ? html`<p class="notice bad" id="report-error">${error}</p>` : ''}
  <label>${t('Borgerens CPR-nummer', "Citizen's CPR number")}<input name="cpr" id="r-cpr" inputmode="numeric" maxlength="11" required autocomplete="off"></label>
  <label>${t('Fra (valgfri)', 'From (optional)')}<input type="date" name="from" id="r-from" value="${values.fromDay ?? ''}"></label>
  <label>${t('Til og med (valgfri)', 'To, inclusive (optional)')}<input type="date" name="to" id="r-to" value="${values.toDay ?? ''}"></label>
  <label>${t('Sprog', 'Language')}<select name="reportLang" id="r-lang"><option value="da"${lang === 'da' ? html` selected` : ''}>Dansk</option><option value="en"${lang === 'en' ? html` selected` : ''}>English</option></select></label>
  <div><button type="submit" id="report-submit">${t('Lav oversigten', 'Make the overview')}</button></div>
</form>
<p class="small muted">${t('Oversigten registreres i revisionssporet som DPO-adgang til borgerens oplysninger.', "Making the overview is recorded in the audit trail as the DPO's access to the citizen's data.")}</p>`,
  });
}

function hiddenRequest(ctx: PageContext, r: ReportRequest): Html {
  return html`${csrfField(ctx)}<input type="hidden" name="cpr" value="${r.cpr}">${r.fromDay !== undefined ? html`<input type="hidden" name="from" value="${r.fromDay}">` : ''}${r.toDay !== undefined ? html`<input type="hidden" name="to" value="${r.toDay}">` : ''}<input type="hidden" name="reportLang" value="${r.reportLang}">`;
}

/** The report as a page: what the DPO checks, prints, or downloads as CSV or PDF for the citizen. */
export function reportPage(ctx: PageContext, report: CitizenReport, request: ReportRequest): string {
  const { t } = ctx;
  const lang = request.reportLang;
  const rt = (k: keyof typeof REPORT_TEXT): string => REPORT_TEXT[k][lang];
  return page(ctx, {
    title: t('Borgerens indsigt', 'Citizen access report'),
    section: 'report',
    body: html`<div class="actions no-print" id="report-actions">
  <button type="button" data-print class="secondary" id="print">${t('Udskriv', 'Print')}</button>
  <form method="post" action="/dpo/citizen-report/csv" data-download>${hiddenRequest(ctx, request)}<button type="submit" class="secondary" id="download-csv">${t('Hent CSV', 'Download CSV')}</button></form>
  <form method="post" action="/dpo/citizen-report/pdf" data-download>${hiddenRequest(ctx, request)}<button type="submit" class="secondary" id="download-pdf">${t('Hent PDF', 'Download PDF')}</button></form>
  <a class="button secondary" href="/dpo/citizen-report">${t('Ny oversigt', 'New overview')}</a>
</div>
<article class="panel report" id="citizen-report" lang="${lang}">
  <h1>${rt('title')}</h1>
  <p>${rt('intro')}</p>
  <dl class="facts"><dt>${rt('period')}</dt><dd>${reportPeriod(report, lang)}</dd><dt>${rt('prepared')}</dt><dd>${reportTime(report.generatedAt, lang)}</dd></dl>
  <h2>${rt('summary')}</h2>
  <dl class="facts" id="report-summary">
    <dt>${OUTCOME_TEXT.disclosed[lang]}</dt><dd data-outcome="disclosed">${report.summary.disclosed}</dd>
    <dt>${OUTCOME_TEXT.refused[lang]}</dt><dd data-outcome="refused">${report.summary.refused}</dd>
    <dt>${OUTCOME_TEXT['not-disclosed'][lang]}</dt><dd data-outcome="not-disclosed">${report.summary.notDisclosed}</dd>
  </dl>
  <h2>${rt('entries')}</h2>
  ${report.entries.length === 0 ? html`<p id="report-empty">${rt('none')}</p>` : ''}
  ${report.entries.map(
    (e) => html`<section class="entry" data-outcome="${e.outcome}" data-audit-id="${e.auditId}">
    <h3>${reportTime(e.time, lang)} · ${OUTCOME_TEXT[e.outcome][lang]}</h3>
    <dl class="facts">${entryLines(e, lang, report.includesEmployee).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
  </section>`,
  )}
  ${report.truncated ? html`<p class="notice">${rt('truncated')}</p>` : ''}
  <p class="small">${rt('special')}</p>
  ${report.includesEmployee ? '' : html`<p class="small">${rt('noEmployee')}</p>`}
  <p class="small">${rt('questions')}</p>
</article>`,
  });
}
