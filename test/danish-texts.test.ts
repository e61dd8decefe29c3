/**
 * Danish where a Dane reads it: the repository's contracts, policies, purposes and client systems
 * carry Danish texts, and the citizen's access report built from a disclosure under every example
 * policy shows no English rule text and no "(example …)" marker, in the page, the CSV and the
 * lines the PDF is made of. A recorded legal basis is cited the way a Danish lawyer writes it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { buildCitizenReport, citizenReportCsv, citizenReportHtml, type CitizenReport } from '../src/audit/report.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry } from '../src/audit/types.js';
import { loadConfig } from '../src/config/config.js';
import { entryLines } from '../src/dpo/report-text.js';
import { basisForReader, legalBasisText } from '../src/policy/legal-basis.js';
import { loadRules } from '../src/rules/load.js';
import type { Rules } from '../src/rules/types.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import { ROOT, testCerts } from './support/env.js';

const CPR = '0702889907';
const pseudonyms = new Pseudonymizer({ keys: [{ id: 'k', secret: randomBytes(32) }], current: 'k' });
const OLD_BASIS = "Art. 6(1)(e) and Art. 9(2)(a); Retssikkerhedsloven § 11 c (example: to be confirmed by the municipality's lawyers)";
let dir: string;
let store: Store;
let rules: Rules;
let report: CitizenReport;

const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  kind: 'decision',
  auditId: 'x',
  requestId: 'r',
  contract: null,
  caller: null,
  caseworker: 'cw-0001',
  caseRef: 'REF-1',
  purpose: null,
  subject: pseudonyms.pseudonym(CPR),
  policy: null,
  policySet: null,
  legalBasis: null,
  decision: 'permit',
  reasons: [],
  fields: { requested: [], released: [], withheld: [], dropped: [] },
  consent: null,
  tokenDigest: null,
  upstream: null,
  responseDigest: null,
  status: null,
  latencyMs: null,
  ...over,
});

beforeAll(async () => {
  rules = await loadRules(
    loadConfig({ root: ROOT, env: {}, overrides: { paths: { certs: await testCerts() }, policies: { requireApprovals: false } } }),
  );
  dir = mkdtempSync(path.join(tmpdir(), 'snitflade-danish-'));
  store = await openStore({ kind: 'sqlite', file: path.join(dir, 'd.db') });
  const trail = await AuditTrail.open(store, { chain: 'd1' });
  for (const [i, policy] of rules.policies.policies.entries()) {
    const contract = rules.contracts.get(policy.contract)!;
    const receiver = rules.clients.clients.find(
      (c) => policy.requester.administrations.includes(c.administration) && c.roles.some((r) => policy.requester.roles.includes(r)),
    )!;
    const party = { system: receiver.id, administration: receiver.administration };
    const provider = { system: contract.provider.system, administration: contract.provider.administration };
    const fields = { requested: [...policy.fields], released: [...policy.fields], withheld: [], dropped: [] };
    const common = {
      auditId: `a-${i}`,
      requestId: `r-${i}`,
      contract: contract.id,
      purpose: policy.purpose,
      policy: { id: policy.id, version: policy.version },
      legalBasis: legalBasisText(policy),
      fields,
    };
    if (contract.kind === 'notification') {
      await trail.append(entry({ ...common, kind: 'notification', caller: provider, recipient: party, reasons: ['QUEUED'] }));
      await trail.append(entry({ ...common, kind: 'notification', caller: provider, recipient: party, reasons: ['DELIVERED'] }));
    } else {
      await trail.append(entry({ ...common, kind: 'decision', caller: party }));
      await trail.append(entry({ ...common, kind: 'release', caller: party, status: 200 }));
    }
  }
  // A disclosure recorded under an older example policy, whose text carried the English marker.
  await trail.append(
    entry({
      kind: 'release',
      auditId: 'old',
      requestId: 'old',
      contract: 'employment.citizen-status.v1',
      caller: { system: 'sof-case-system', administration: 'SOF' },
      purpose: 'plan-coordination',
      policy: { id: 'sof-reads-employment-status', version: 1 },
      legalBasis: OLD_BASIS,
      fields: { requested: ['targetGroup'], released: ['targetGroup'], withheld: [], dropped: [] },
      status: 200,
    }),
  );
  report = await buildCitizenReport({ store, pseudonyms, rules, includeEmployee: false }, { cpr: CPR });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every English text of the rule set that differs from its Danish: none may reach a Danish reader. */
function englishTexts(): string[] {
  const texts = [
    ...rules.contracts.list().flatMap((c) => [c.title, c.description]),
    ...rules.policies.policies.flatMap((p) => [p.title, p.legalBasis.description, p.owner]),
    ...[...rules.policies.purposes.values()].flatMap((p) => [p.title, p.description]),
    ...rules.clients.clients.map((c) => c.title),
  ];
  return texts.filter((t) => t.en !== t.da).map((t) => t.en);
}

describe('the rule set speaks Danish', () => {
  it('gives every contract, policy, purpose and client system a Danish text of its own', () => {
    const untranslated = [
      ...rules.contracts.list().flatMap((c) => (c.title.da === c.title.en || c.description.da === c.description.en ? [c.id] : [])),
      ...rules.policies.policies.flatMap((p) =>
        p.title.da === p.title.en || p.legalBasis.description.da === p.legalBasis.description.en || p.owner.da === p.owner.en ? [p.id] : [],
      ),
      ...[...rules.policies.purposes.values()].flatMap((p) => (p.description.da === p.description.en ? [p.id] : [])),
      ...rules.clients.clients.flatMap((c) => (c.title.da === c.title.en ? [c.id] : [])),
    ];
    expect(untranslated).toEqual([]);
  });

  it('cites no English in a legal basis: statutes and sections in Danish, no example marker', () => {
    for (const p of rules.policies.policies) {
      expect(p.legalBasis.national).not.toMatch(/example|\bthe\b|\bact\b/i);
      // § 11 c governs collecting with consent: cited only by policies that require consent.
      if (/§ 11 c/.test(p.legalBasis.national)) expect(p.consent.required).toBe(true);
      // Forvaltningsloven § 28 has no numbered items outside stk. 2.
      expect(p.legalBasis.national).not.toMatch(/§ 28, stk\. [13], nr\./);
    }
    for (const purpose of rules.policies.purposes.values()) {
      for (const basis of purpose.legalBases) expect(basis).not.toMatch(/example/i);
    }
  });
});

describe("the citizen's access report in Danish", () => {
  it('holds an entry for the disclosure under every example policy, and the older one', () => {
    expect(report.entries).toHaveLength(rules.policies.policies.length + 1);
    expect(report.entries.every((e) => e.outcome === 'disclosed')).toBe(true);
  });

  it('shows no English rule text and no example marker in the page, the CSV or the PDF lines', () => {
    const html = citizenReportHtml(report, 'da');
    const csv = citizenReportCsv(report, 'da');
    const lines = report.entries.flatMap((e) => entryLines(e, 'da', false).map(([label, value]) => `${label}: ${value}`)).join('\n');
    for (const [name, text] of [
      ['page', html],
      ['csv', csv],
      ['pdf lines', lines],
    ] as const) {
      expect({ name, example: /\(example|example:|eksempel/i.test(text) }).toEqual({ name, example: false });
      expect({ name, english: englishTexts().filter((en) => text.includes(en)) }).toEqual({ name, english: [] });
      expect(text).toContain('Databeskyttelsesforordningens art. 6, stk. 1, litra e');
      expect(text).not.toContain('GDPR');
    }
  });

  it('cites the older record in Danish without its marker, and in English as GDPR articles', () => {
    const old = report.entries.find((e) => e.auditId === 'old')!;
    expect(old.legalBasis).toEqual({
      da: 'Databeskyttelsesforordningens art. 6, stk. 1, litra e; databeskyttelsesforordningens art. 9, stk. 2, litra a; Retssikkerhedsloven § 11 c',
      en: 'GDPR Art. 6(1)(e); GDPR Art. 9(2)(a); Retssikkerhedsloven § 11 c',
    });
  });
});

describe('basisForReader', () => {
  it('cites articles with and without a point, and leaves the national provisions as written', () => {
    expect(basisForReader('Art. 6(1)(e); Art. 9(2)(b); Databeskyttelsesloven § 7, stk. 2', 'da')).toBe(
      'Databeskyttelsesforordningens art. 6, stk. 1, litra e; databeskyttelsesforordningens art. 9, stk. 2, litra b; Databeskyttelsesloven § 7, stk. 2',
    );
    expect(basisForReader('GDPR Art. 6(4)', 'da')).toBe('Databeskyttelsesforordningens art. 6, stk. 4');
    expect(basisForReader('GDPR Art. 6(4)', 'en')).toBe('GDPR Art. 6(4)');
  });
});
