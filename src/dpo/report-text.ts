import type { CitizenReport, CitizenReportEntry, ReportOutcome, ReportRelation } from '../audit/report.js';
import { RELATION_STATE_TEXT, REPORT_TEXT } from '../audit/report-text.js';
import type { Lang } from './html.js';

export { RELATION_STATE_TEXT, REPORT_TEXT };

export const OUTCOME_TEXT: Record<ReportOutcome, { da: string; en: string }> = {
  disclosed: { da: 'Videregivet', en: 'Disclosed' },
  refused: { da: 'Afvist', en: 'Refused' },
  'not-disclosed': { da: 'Intet videregivet', en: 'Nothing disclosed' },
};

const CLOCK = {
  da: new Intl.DateTimeFormat('da-DK', { timeZone: 'Europe/Copenhagen', dateStyle: 'long', timeStyle: 'short' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Copenhagen', dateStyle: 'long', timeStyle: 'short' }),
};

export function reportTime(iso: string, lang: Lang): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : CLOCK[lang].format(ms);
}

export function reportPeriod(report: CitizenReport, lang: Lang): string {
  const { from, to } = report.period;
  if (from === null && to === null) return REPORT_TEXT.allRecords[lang];
  return `${from !== null ? reportTime(from, lang) : '…'} – ${to !== null ? reportTime(to, lang) : '…'}`;
}

/** The lines of one entry as label/value pairs, in reading order. */
export function entryLines(e: CitizenReportEntry, lang: Lang, includesEmployee: boolean): [string, string][] {
  const t = (k: keyof typeof REPORT_TEXT): string => REPORT_TEXT[k][lang];
  const fields = (list: CitizenReportEntry['fields']): string =>
    list.map((f) => `${f.label[lang]}${f.special ? ' *' : ''} (${f.categoryLabel[lang]})`).join(', ');
  const party = (p: NonNullable<CitizenReportEntry['source']>): string =>
    `${p.administrationName?.[lang] ?? p.administration}${p.systemName !== null ? `, ${p.systemName[lang]}` : ''}`;
  const lines: [string, string][] = [[t('recipient'), party(e.recipient)]];
  if (e.source !== null) lines.push([t('source'), party(e.source)]);
  if (e.outcome === 'disclosed') lines.push([t('data'), fields(e.fields)]);
  else if (e.requested.length > 0) lines.push([e.kind === 'notification' ? t('notice') : t('asked'), fields(e.requested)]);
  if (e.purpose !== null) lines.push([t('purpose'), e.purpose.title[lang]]);
  if (e.legalBasis !== null) lines.push([t('basis'), e.legalBasis[lang]]);
  if (e.consent !== null) lines.push([t('consent'), e.consent]);
  if (e.consentGiven !== null) {
    lines.push([t('consentGivenBy'), e.consentGiven.givenBy.label[lang]]);
    lines.push([t('consentEvidence'), e.consentGiven.level.label[lang]]);
  }
  if (e.reasons.length > 0) lines.push([t('reason'), e.reasons.map((r) => r.label[lang]).join('; ')]);
  if (includesEmployee && e.caseworker !== undefined && e.caseworker !== null) lines.push([t('employee'), e.caseworker]);
  return lines;
}

const DAY = {
  da: new Intl.DateTimeFormat('da-DK', { timeZone: 'UTC', dateStyle: 'long' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', dateStyle: 'long' }),
};

/** A calendar day (YYYY-MM-DD) in words, "1. januar 2026". */
export function reportDay(day: string, lang: Lang): string {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(ms) ? day : DAY[lang].format(ms);
}

/** A relation's heading: the administration and the capacity. */
export function relationHeading(r: ReportRelation, lang: Lang): string {
  return `${r.administrationName?.[lang] ?? r.administration} · ${r.capacity.title[lang]}`;
}

/** The lines of one relation as label/value pairs, in reading order (the heading names administration and capacity). */
export function relationLines(r: ReportRelation, lang: Lang, includesEmployee: boolean): [string, string][] {
  const t = (k: keyof typeof REPORT_TEXT): string => REPORT_TEXT[k][lang];
  const lines: [string, string][] = [
    [t('relationFrom'), reportDay(r.from, lang)],
    [t('relationTo'), r.to !== null ? reportDay(r.to, lang) : t('openEnded')],
    [t('relationState'), RELATION_STATE_TEXT[r.state][lang]],
  ];
  if (r.endReason !== null) lines.push([t('relationEnd'), r.endReason.label[lang]]);
  if (includesEmployee && r.caseworker !== undefined && r.caseworker !== null) lines.push([t('employee'), r.caseworker]);
  return lines;
}
