import PDFDocument from 'pdfkit';
import type { CitizenReport } from '../audit/report.js';
import type { Lang } from './html.js';
import { entryLines, OUTCOME_TEXT, relationHeading, relationLines, REPORT_TEXT, reportPeriod, reportTime } from './report-text.js';

/**
 * The citizen's access report as a PDF (pdfkit, its built-in Helvetica, which covers the Danish
 * letters): the same words and order as the printable page, for sending to the citizen.
 *
 * @example
 * const pdf = await citizenReportPdf(report, 'da'); // Buffer starting with %PDF-
 */
export function citizenReportPdf(report: CitizenReport, lang: Lang): Promise<Buffer> {
  const t = (k: keyof typeof REPORT_TEXT): string => REPORT_TEXT[k][lang];
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: 56, bottom: 56, left: 56, right: 56 },
    info: { Title: t('title'), Creator: 'Snitflade', Producer: 'Snitflade' },
    lang: lang === 'da' ? 'da-DK' : 'en-GB',
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;

  doc.font('Helvetica-Bold').fontSize(18).text(t('title'));
  doc.moveDown(0.5);
  doc.font('Helvetica').fontSize(10).text(t('intro'), { width });
  doc.moveDown(0.8);
  const pair = (label: string, value: string): void => {
    doc.font('Helvetica-Bold').fontSize(10).text(`${label}: `, { continued: true }).font('Helvetica').text(value, { width });
  };
  pair(t('period'), reportPeriod(report, lang));
  pair(t('prepared'), reportTime(report.generatedAt, lang));
  doc.moveDown(0.8);

  doc.font('Helvetica-Bold').fontSize(13).text(t('summary'));
  doc.moveDown(0.3);
  pair(OUTCOME_TEXT.disclosed[lang], String(report.summary.disclosed));
  pair(OUTCOME_TEXT.refused[lang], String(report.summary.refused));
  pair(OUTCOME_TEXT['not-disclosed'][lang], String(report.summary.notDisclosed));
  doc.moveDown(0.8);

  doc.font('Helvetica-Bold').fontSize(13).text(t('relations'));
  doc.moveDown(0.3);
  doc.font('Helvetica').fontSize(10).text(t('relationsIntro'), { width });
  doc.moveDown(0.3);
  if (report.relations.length === 0) doc.font('Helvetica').fontSize(10).text(t('relationsNone'));
  for (const r of report.relations) {
    if (doc.y > doc.page.height - doc.page.margins.bottom - 70) doc.addPage();
    doc.font('Helvetica-Bold').fontSize(11).fillColor('#000000').text(relationHeading(r, lang));
    for (const [label, value] of relationLines(r, lang, report.includesEmployee)) pair(label, value);
    doc.moveDown(0.4);
  }
  doc.moveDown(0.5);

  doc.font('Helvetica-Bold').fontSize(13).text(t('entries'));
  doc.moveDown(0.3);
  if (report.entries.length === 0) doc.font('Helvetica').fontSize(10).text(t('none'));
  for (const e of report.entries) {
    if (doc.y > doc.page.height - doc.page.margins.bottom - 90) doc.addPage();
    const top = doc.y;
    doc
      .moveTo(doc.page.margins.left, top)
      .lineTo(doc.page.margins.left + width, top)
      .lineWidth(0.5)
      .strokeColor('#999999')
      .stroke();
    doc.moveDown(0.3);
    doc
      .font('Helvetica-Bold')
      .fontSize(11)
      .fillColor('#000000')
      .text(`${reportTime(e.time, lang)} · ${OUTCOME_TEXT[e.outcome][lang]}`);
    for (const [label, value] of entryLines(e, lang, report.includesEmployee)) pair(label, value);
    doc.moveDown(0.5);
  }
  doc.moveDown(0.5);
  doc.font('Helvetica').fontSize(9).fillColor('#333333');
  if (report.truncated) doc.text(t('truncated'), { width });
  doc.text(t('special'), { width });
  if (!report.includesEmployee) doc.text(t('noEmployee'), { width });
  doc.text(t('questions'), { width });
  doc.end();
  return done;
}
