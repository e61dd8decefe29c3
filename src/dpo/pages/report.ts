import type { Request, Response } from 'express';
import { dpoCitizenReport } from '../../audit/dpo-access.js';
import { citizenReportCsv, type CitizenReport } from '../../audit/report.js';
import { copenhagen, copenhagenDayStart, nextDay } from '../../audit/statistics.js';
import { parseCpr } from '../../lib/cpr.js';
import { html, type Html } from '../html.js';
import { csrfField, page, type PageContext } from '../layout.js';
import { inputError, sendFormAgain } from '../messages.js';
import { citizenReportPdf } from '../report-pdf.js';
import { entryLines, OUTCOME_TEXT, relationHeading, relationLines, REPORT_TEXT, reportPeriod, reportTime } from '../report-text.js';
import {
  bodyOf,
  caller,
  echoable,
  field,
  langField,
  pageContext,
  sendPage,
  validDay,
  type Body,
  type DpoDeps,
  type DpoPages,
} from '../request.js';

/**
 * The citizen's access report (GDPR Art. 15): the form (GET /dpo/citizen-report), and the report
 * as a page, CSV or PDF (POST, the CPR number only in the body). Making it is audited
 * (CITIZEN_REPORT) before anything is shown (src/audit/dpo-access.ts).
 */
export const reportRoutes: DpoPages = (router, deps) => {
  router.get('/citizen-report', (req, res) => {
    sendPage(res, 200, reportFormPage(pageContext(deps, req, res)));
  });

  router.post('/citizen-report', async (req, res) => {
    const made = await makeReport(deps, req, res);
    if (made !== undefined) sendPage(res, 200, reportPage(pageContext(deps, req, res), made.report, made.request));
  });

  router.post('/citizen-report/csv', async (req, res) => {
    const made = await makeReport(deps, req, res);
    if (made === undefined) return;
    res.set({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename('csv')}"` });
    res.send(citizenReportCsv(made.report, made.request.reportLang));
  });

  router.post('/citizen-report/pdf', async (req, res) => {
    const made = await makeReport(deps, req, res);
    if (made === undefined) return;
    const pdf = await citizenReportPdf(made.report, made.request.reportLang);
    res.set({ 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${filename('pdf')}"` });
    res.send(pdf);
  });
};

/** What the report form asks for; the CPR number travels only in POST bodies. */
export interface ReportRequest {
  readonly cpr: string;
  readonly fromDay?: string;
  readonly toDay?: string;
  readonly reportLang: 'da' | 'en';
}

function parseReport(
  ctx: PageContext,
  body: Body,
): ReportRequest | { error: string; fromDay?: string; toDay?: string; reportLang: 'da' | 'en' } {
  const reportLang = langField(body, 'reportLang');
  const fromDay = field(body, 'from');
  const toDay = field(body, 'to');
  const cpr = parseCpr(field(body, 'cpr'));
  if (cpr === undefined) return { error: inputError(ctx, 'cprInvalid'), fromDay, toDay, reportLang };
  for (const d of [fromDay, toDay])
    if (d !== '' && !validDay(d)) return { error: inputError(ctx, 'dateInvalid'), fromDay, toDay, reportLang };
  if (fromDay !== '' && toDay !== '' && fromDay > toDay) return { error: inputError(ctx, 'periodReversed'), fromDay, toDay, reportLang };
  return { cpr, reportLang, ...(fromDay !== '' ? { fromDay } : {}), ...(toDay !== '' ? { toDay } : {}) };
}

/** Audits the access (kind dpo-access, CITIZEN_REPORT), then builds the report; or answers the form again. */
async function makeReport(
  deps: DpoDeps,
  req: Request,
  res: Response,
): Promise<{ request: ReportRequest; report: CitizenReport } | undefined> {
  const ctx = pageContext(deps, req, res);
  const parsed = parseReport(ctx, bodyOf(req));
  if ('error' in parsed) {
    sendFormAgain(res, reportFormPage(ctx, parsed.error, echoable(parsed)));
    return undefined;
  }
  const made = await dpoCitizenReport(deps.audit, caller(res), {
    cpr: parsed.cpr,
    lang: parsed.reportLang,
    ...(parsed.fromDay !== undefined ? { from: copenhagenDayStart(parsed.fromDay) } : {}),
    ...(parsed.toDay !== undefined ? { to: copenhagenDayStart(nextDay(parsed.toDay)) } : {}),
  });
  return { request: parsed, report: made.report };
}

const filename = (ext: string): string => `indsigt-${copenhagen(Date.now()).day}.${ext}`;

export function reportFormPage(
  ctx: PageContext,
  error?: string,
  values: { fromDay?: string; toDay?: string; reportLang?: 'da' | 'en' } = {},
): string {
  const { t } = ctx;
  const lang = values.reportLang ?? 'da';
  return page(ctx, {
    title: t.nav.report,
    section: 'report',
    body: html`<h1>${t.report.heading}</h1>
<p class="lead">${t.report.lead}</p>
<form method="post" action="/dpo/citizen-report" class="panel filters" id="report-form" autocomplete="off">
  ${csrfField(ctx)}
  ${error !== undefined ? html`<p class="notice bad" id="report-error">${error}</p>` : ''}
  <label>${t.common.cprNumber}<input name="cpr" id="r-cpr" inputmode="numeric" maxlength="11" required autocomplete="off"></label>
  <label>${t.report.fromOptional}<input type="date" name="from" id="r-from" value="${values.fromDay ?? ''}"></label>
  <label>${t.report.toOptional}<input type="date" name="to" id="r-to" value="${values.toDay ?? ''}"></label>
  <label>${t.report.language}<select name="reportLang" id="r-lang"><option value="da"${lang === 'da' ? html` selected` : ''}>Dansk</option><option value="en"${lang === 'en' ? html` selected` : ''}>English</option></select></label>
  <div><button type="submit" id="report-submit">${t.report.submit}</button></div>
</form>
<p class="small muted">${t.report.audited}</p>`,
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
    title: t.nav.report,
    section: 'report',
    body: html`<div class="actions no-print" id="report-actions">
  <button type="button" data-print class="secondary" id="print">${t.report.print}</button>
  <form method="post" action="/dpo/citizen-report/csv" data-download>${hiddenRequest(ctx, request)}<button type="submit" class="secondary" id="download-csv">${t.report.downloadCsv}</button></form>
  <form method="post" action="/dpo/citizen-report/pdf" data-download>${hiddenRequest(ctx, request)}<button type="submit" class="secondary" id="download-pdf">${t.report.downloadPdf}</button></form>
  <a class="button secondary" href="/dpo/citizen-report">${t.report.newReport}</a>
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
  <h2>${rt('relations')}</h2>
  <p>${rt('relationsIntro')}</p>
  ${report.relations.length === 0 ? html`<p id="report-no-relations">${rt('relationsNone')}</p>` : ''}
  <div id="report-relations">${report.relations.map(
    (
      r,
    ) => html`<section class="entry relation" data-administration="${r.administration}" data-capacity="${r.capacity.id}" data-state="${r.state}">
    <h3>${relationHeading(r, lang)}</h3>
    <dl class="facts">${relationLines(r, lang, report.includesEmployee).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
  </section>`,
  )}</div>
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
