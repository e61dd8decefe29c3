/**
 * The citizen's access report as a PDF (src/dpo/report-pdf.ts): a valid PDF whose text is the
 * report's, in the language asked for, Danish letters included.
 */
import { inflateSync } from 'node:zlib';
import type { CitizenReport } from '../src/audit/report.js';
import { citizenReportPdf } from '../src/dpo/report-pdf.js';

/** The text drawn on the pages: every FlateDecode stream inflated, its hex strings decoded (WinAnsi ~ Latin-1). */
function pdfText(pdf: Buffer): string {
  const out: string[] = [];
  const raw = pdf.toString('latin1');
  for (const m of raw.matchAll(/stream\r?\n/g)) {
    const start = (m.index ?? 0) + m[0].length;
    const end = raw.indexOf('endstream', start);
    try {
      const content = inflateSync(pdf.subarray(start, end)).toString('latin1');
      out.push([...content.matchAll(/<([0-9a-fA-F]+)>/g)].map((h) => Buffer.from(h[1]!, 'hex').toString('latin1')).join(''));
    } catch {
      // not a compressed content stream (e.g. font data)
    }
  }
  return out.join('\n');
}

const party = (administration: string, da: string, system: string) => ({
  administration,
  administrationName: { da, en: da },
  system,
  systemName: { da: system, en: system },
});

const report: CitizenReport = {
  relations: [
    {
      administration: 'SOF',
      administrationName: { da: 'Socialforvaltningen', en: 'Social Services Administration' },
      capacity: { id: 'housing-support', title: { da: 'Bostøtte', en: 'Housing support' } },
      from: '2025-06-01',
      to: '2026-01-31',
      state: 'ended',
      endReason: { code: 'transferred', label: { da: 'Sagen blev overført', en: 'The case was transferred' } },
    },
  ],
  generatedAt: '2026-02-02T09:00:00.000Z',
  period: { from: '2025-12-31T23:00:00.000Z', to: null },
  includesEmployee: false,
  truncated: false,
  summary: { disclosed: 1, refused: 1, notDisclosed: 0 },
  entries: [
    {
      time: '2026-01-05T10:00:00.000Z',
      auditId: 'a1',
      kind: 'query',
      outcome: 'disclosed',
      recipient: party('SOF', 'Socialforvaltningen', 'sof-case-system'),
      source: party('BIF', 'Beskæftigelses- og Integrationsforvaltningen', 'bif-jobcentre-system'),
      contract: { id: 'employment.citizen-status.v1', title: { da: 'Status', en: 'Status' } },
      fields: [
        {
          name: 'efforts',
          category: 'health',
          categoryLabel: { da: 'Helbredsoplysninger', en: 'Health' },
          label: { da: 'Indsatser', en: 'Efforts' },
          special: true,
        },
      ],
      requested: [],
      purpose: {
        id: 'plan-coordination',
        title: { da: 'Koordinering af jobplan og handleplan', en: 'Coordination of the job plan and the social action plan' },
      },
      legalBasis: {
        da: 'Databeskyttelsesforordningens art. 6, stk. 1, litra e; retssikkerhedsloven § 11 c',
        en: 'GDPR Art. 6(1)(e); retssikkerhedsloven § 11 c',
      },
      consent: 'receipt-digest-1',
      consentGiven: {
        givenBy: { role: 'guardian', label: { da: 'Din værge', en: 'Your guardian' } },
        level: {
          id: 'recorded-by-caseworker',
          label: { da: 'Registreret af sagsbehandler (papir/mundtligt)', en: 'Recorded by a caseworker (paper/verbal)' },
        },
      },
      reasons: [],
    },
    {
      time: '2026-01-06T10:00:00.000Z',
      auditId: 'a2',
      kind: 'query',
      outcome: 'refused',
      recipient: party('SOF', 'Socialforvaltningen', 'sof-case-system'),
      source: null,
      contract: null,
      fields: [],
      requested: [],
      purpose: null,
      legalBasis: null,
      consent: null,
      consentGiven: null,
      reasons: [
        {
          code: 'NO_POLICY',
          label: { da: 'Ingen regel tillader, at oplysningerne gives videre', en: 'No rule allows the data to be passed on' },
        },
      ],
    },
  ],
};

it('writes the report in Danish: who received what, when, why and on which basis', async () => {
  const pdf = await citizenReportPdf(report, 'da');
  expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(pdf.subarray(-8).toString('latin1')).toContain('%%EOF');
  const text = pdfText(pdf);
  for (const s of [
    'Oversigt over videregivelse af dine oplysninger',
    'Socialforvaltningen',
    'Beskæftigelses- og Integrationsforvaltningen',
    'Indsatser *',
    'Koordinering af jobplan og handleplan',
    '§ 11 c',
    'Ingen regel tillader',
    '5. januar 2026 kl. 11.00',
    'Afvist',
    'Forvaltninger, der har registreret, at de betjener dig',
    'Socialforvaltningen · Bostøtte',
    '1. juni 2025',
    '31. januar 2026',
    'Sagen blev overført',
    // who gave the consent the disclosure relied on, and its evidence
    'Samtykket blev givet af',
    'Din værge',
    'Registreret af sagsbehandler (papir/mundtligt)',
  ]) {
    expect(text).toContain(s);
  }
});

it('writes it in English on request', async () => {
  const text = pdfText(await citizenReportPdf(report, 'en'));
  expect(text).toContain('Overview of disclosures of your data');
  expect(text).toContain('Coordination of the job plan and the social action plan');
  expect(text).toContain('No rule allows the data to be passed on');
  expect(text).not.toContain('Udvekslinger');
  expect(text).toContain('Social Services Administration · Housing support');
  expect(text).toContain('The case was transferred');
  expect(text).toContain('Your guardian');
  expect(text).toContain('Recorded by a caseworker (paper/verbal)');
});

it('says what a pending notice covered, not that anyone asked for it, and names no recipient in English', async () => {
  const field = { name: 'sanctionDate', category: 'employment' as const, special: false };
  const notice = {
    ...report.entries[1]!,
    auditId: 'n1',
    kind: 'notification' as const,
    outcome: 'not-disclosed' as const,
    recipient: { administration: '', administrationName: { da: 'Ingen modtager', en: 'No recipient' }, system: null, systemName: null },
    requested: [
      { ...field, categoryLabel: { da: 'Beskæftigelse', en: 'Employment' }, label: { da: 'Sanktionsdato', en: 'Sanction date' } },
    ],
    reasons: [],
  };
  const text = pdfText(await citizenReportPdf({ ...report, entries: [notice] }, 'da'));
  expect(text).toContain('Modtager: Ingen modtager');
  expect(text).toContain('Underretningen omfattede: Sanktionsdato');
  expect(text).not.toContain('Der blev spurgt om');
  expect(text).not.toMatch(/unknown/i);
});
