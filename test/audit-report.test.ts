/**
 * The citizen's access report built from audit records as the pipelines write them, including
 * notifications (one entry per recipient: delivered, refused, pending), and its CSV and HTML
 * forms: safe to open in a spreadsheet, nothing executable in the page.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { buildCitizenReport, CITIZEN_REPORT_CSP, citizenReportCsv, citizenReportHtml } from '../src/audit/report.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry } from '../src/audit/types.js';
import type { ConsentRecord } from '../src/consent/types.js';
import type { Relation } from '../src/relations/types.js';
import { loadConfig } from '../src/config/config.js';
import type { Rules } from '../src/rules/types.js';
import { loadRules } from '../src/rules/load.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import { ROOT, testCerts } from './support/env.js';

const CPR = '0302919904';
const OTHER = '0402919905';
/** A citizen served by both administrations, refused once for a missing relation. */
const SERVED = '0502919906';
const pseudonyms = new Pseudonymizer({ keys: [{ id: 'k', secret: randomBytes(32) }], current: 'k' });
let dir: string;
let store: Store;
let rules: Rules;

const base = (over: Partial<AuditEntry>): AuditEntry => ({
  kind: 'notification',
  auditId: 'n-1',
  requestId: 'r-1',
  contract: 'employment.sanction-notice.v1',
  caller: { system: 'bif-jobcentre-system', administration: 'BIF' },
  caseworker: 'bif-cw-0007',
  caseRef: 'BIF-1',
  purpose: 'sanction-notice',
  subject: pseudonyms.pseudonym(CPR),
  policy: { id: 'bif-notifies-sof-of-sanctions', version: 1 },
  policySet: null,
  legalBasis: 'Art. 6(1)(e); Lov om aktiv socialpolitik',
  decision: 'permit',
  reasons: ['QUEUED'],
  fields: { requested: ['sanctionDate', 'amountDkk'], released: ['sanctionDate', 'amountDkk'], withheld: [], dropped: [] },
  consent: null,
  tokenDigest: null,
  upstream: null,
  responseDigest: null,
  status: null,
  latencyMs: null,
  ...over,
});

beforeAll(async () => {
  const certs = await testCerts();
  rules = await loadRules(loadConfig({ root: ROOT, env: {}, overrides: { paths: { certs }, policies: { requireApprovals: false } } }));
  dir = mkdtempSync(path.join(tmpdir(), 'snitflade-report-'));
  store = await openStore({ kind: 'sqlite', file: path.join(dir, 'r.db') });
  const trail = await AuditTrail.open(store, { chain: 'r1' });
  const sof = { system: 'sof-case-system', administration: 'SOF' };
  const suf = { system: 'suf-health-system', administration: 'SUF' };
  // One sanction notice: queued for SOF and delivered; refused for SUF.
  await trail.append(base({ recipient: sof }));
  await trail.append(
    base({
      recipient: suf,
      decision: 'deny',
      reasons: ['NO_POLICY'],
      fields: { requested: ['sanctionDate', 'amountDkk'], released: [], withheld: ['sanctionDate', 'amountDkk'], dropped: [] },
    }),
  );
  await trail.append(base({ recipient: sof, reasons: ['DELIVERED'], consent: 'receipt-digest-1' }));
  // A second notice, still waiting for delivery.
  await trail.append(base({ auditId: 'n-2', requestId: 'r-2', recipient: sof }));
  // Someone else's notice, a DPO access and a consent event about the citizen: not in the report.
  await trail.append(base({ auditId: 'n-3', subject: pseudonyms.pseudonym(OTHER), recipient: sof, reasons: ['DELIVERED'] }));
  await trail.append(base({ kind: 'dpo-access', auditId: 'd-1', reasons: ['AUDIT_SEARCH'], contract: null, policy: null }));
  await trail.append(base({ kind: 'consent', auditId: 'c-1', reasons: ['CONSENT_GIVEN'] }));
  // A query whose release carries something a spreadsheet would run as a formula.
  await trail.append(
    base({
      kind: 'decision',
      auditId: 'q-1',
      contract: 'employment.citizen-status.v1',
      caller: sof,
      purpose: 'plan-coordination',
      reasons: [],
      fields: { requested: ['benefit'], released: ['benefit'], withheld: [], dropped: [] },
    }),
  );
  await trail.append(
    base({
      kind: 'release',
      auditId: 'q-1',
      contract: 'employment.citizen-status.v1',
      caller: sof,
      purpose: 'plan-coordination',
      reasons: ['=HYPERLINK("http://x")<script>'],
      status: 502,
      fields: { requested: ['benefit'], released: [], withheld: ['benefit'], dropped: [] },
    }),
  );
  // The relations register: SOF serves SERVED now; BIF did, and once registered one in error.
  const now = new Date().toISOString();
  const actor = { system: 'sof-case-system', administration: 'SOF', caseworker: 'sof-cw-0042' };
  const save = async (id: string, subject: string, over: Partial<Relation>, end?: Relation['endReason']) => {
    const r: Relation = {
      id,
      subject,
      administration: 'SOF',
      capacity: 'social-case',
      caseRef: `SECRET-REF-${id}`,
      caseworker: 'sof-cw-0042',
      from: '2025-06-01',
      to: null,
      endReason: null,
      version: 1,
      registeredAt: now,
      updatedAt: now,
      ...over,
    };
    await store.relations.save(r, { type: 'registered', at: now, actor, auditId: `a-${id}`, changed: [], reason: null }, 0);
    if (end !== undefined)
      await store.relations.save(
        { ...r, endReason: end, version: 2 },
        { type: 'ended', at: now, actor, auditId: `e-${id}`, changed: [], reason: end },
        1,
      );
  };
  await save('r-sof', pseudonyms.pseudonym(SERVED), {});
  await save(
    'r-bif',
    pseudonyms.pseudonym(SERVED),
    { administration: 'BIF', capacity: 'cash-benefit', from: '2025-01-01', to: '2025-05-31' },
    'case-closed',
  );
  await save(
    'r-void',
    pseudonyms.pseudonym(SERVED),
    { administration: 'BIF', capacity: 'rehabilitation-case', from: '2025-03-01' },
    'recorded-in-error',
  );
  await save('r-other', pseudonyms.pseudonym(OTHER), {});
  const served = await AuditTrail.open(store, { chain: 'r2' });
  await served.append(
    base({
      kind: 'decision',
      auditId: 'q-2',
      subject: pseudonyms.pseudonym(SERVED),
      contract: 'employment.citizen-status.v1',
      caller: sof,
      purpose: 'plan-coordination',
      decision: 'deny',
      reasons: ['RELATION_MISSING', 'relations-sha256=abc'],
      fields: { requested: ['benefit'], released: [], withheld: [], dropped: [] },
    }),
  );
  await served.close();
  await trail.close();
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('reports each notice per recipient: delivered with its fields and consent, refused with the reason, pending as not disclosed', async () => {
  const report = await buildCitizenReport({ store, pseudonyms, rules, includeEmployee: false }, { cpr: CPR });
  const entries = report.entries.map((e) => [e.auditId, e.recipient.administration, e.outcome]);
  expect([...entries].sort()).toEqual([
    ['n-1', 'SOF', 'disclosed'],
    ['n-1', 'SUF', 'refused'],
    ['n-2', 'SOF', 'not-disclosed'],
    ['q-1', 'SOF', 'not-disclosed'],
  ]);
  const entry = (auditId: string, admin: string) =>
    report.entries.find((e) => e.auditId === auditId && e.recipient.administration === admin)!;
  const delivered = entry('n-1', 'SOF');
  expect(delivered).toMatchObject({
    kind: 'notification',
    recipient: {
      system: 'sof-case-system',
      systemName: { da: 'Socialforvaltningens sagssystem (simuleret)', en: 'Social services case system (simulated)' },
    },
    source: { administration: 'BIF', system: 'bif-jobcentre-system' },
    purpose: { id: 'sanction-notice', title: { da: 'Advisering om sanktion' } },
    consent: 'receipt-digest-1',
    reasons: [],
  });
  expect(delivered.fields.map((f) => [f.name, f.category, f.label.da])).toEqual([
    ['sanctionDate', 'employment', 'Sanktionsdato'],
    ['amountDkk', 'employment', 'Beløb (kr.)'],
  ]);
  expect(entry('n-1', 'SUF').reasons).toEqual([
    {
      code: 'NO_POLICY',
      label: { da: 'Ingen regel tillader, at oplysningerne gives videre', en: 'No rule allows the data to be passed on' },
    },
  ]);
  expect(entry('n-2', 'SOF').reasons.map((r) => r.code)).toEqual(['QUEUED']);
  // The query went to SOF, from BIF (the contract's provider).
  expect(entry('q-1', 'SOF')).toMatchObject({ kind: 'query', source: { administration: 'BIF' }, fields: [] });
  expect(report.summary).toEqual({ disclosed: 1, refused: 1, notDisclosed: 2 });
  // A period that ends before everything: empty.
  expect(
    (await buildCitizenReport({ store, pseudonyms, rules, includeEmployee: false }, { cpr: CPR, to: '2000-01-01T00:00:00Z' })).entries,
  ).toEqual([]);
});

it('CSV cells never start a formula; the HTML page escapes everything and carries no script', async () => {
  const report = await buildCitizenReport({ store, pseudonyms, rules, includeEmployee: true }, { cpr: CPR });
  const csv = citizenReportCsv(report, 'en');
  expect(csv.startsWith('\uFEFFTime,Outcome,')).toBe(true);
  expect(csv).toContain(',Employee\r\n');
  expect(csv).toContain(`"'=HYPERLINK(""http://x"")<script>"`);
  expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
  const html = citizenReportHtml(report, 'da');
  expect(html).toContain('=HYPERLINK(&#34;http://x&#34;)&#60;script&#62;');
  expect(html).not.toMatch(/<script/i);
  expect(html).toContain('<th scope="col">Medarbejder</th>');
  expect(CITIZEN_REPORT_CSP).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'/);
});

it("lists every administration's registration that it serves the citizen, in words, with no case reference", async () => {
  const report = await buildCitizenReport({ store, pseudonyms, rules, includeEmployee: false }, { cpr: SERVED });
  expect(report.relations).toEqual([
    {
      administration: 'BIF',
      administrationName: expect.objectContaining({ da: expect.any(String) }),
      capacity: { id: 'cash-benefit', title: { da: 'Kontanthjælpssag', en: 'Cash benefit case' } },
      from: '2025-01-01',
      to: '2025-05-31',
      state: 'ended',
      endReason: { code: 'case-closed', label: { da: 'Sagen blev afsluttet', en: 'The case was closed' } },
    },
    expect.objectContaining({ administration: 'BIF', capacity: expect.objectContaining({ id: 'rehabilitation-case' }), state: 'voided' }),
    expect.objectContaining({ administration: 'SOF', from: '2025-06-01', to: null, state: 'active', endReason: null }),
  ]);
  // The refusal for a missing relation, in words; a reason that names something is left out.
  const [refused] = report.entries;
  expect(refused?.outcome).toBe('refused');
  expect(refused?.reasons.map((r) => [r.code, r.label.en])).toEqual([
    ['RELATION_MISSING', 'The administration had not registered that it serves you'],
  ]);
  const csv = citizenReportCsv(report, 'da');
  const html = citizenReportHtml(report, 'en');
  for (const text of [JSON.stringify(report), csv, html]) {
    expect(text).not.toContain('SECRET-REF');
    expect(text).not.toContain('sof-cw-0042');
    expect(text).not.toContain('relations-sha256');
  }
  expect(csv).toContain(
    '\r\n\r\n"Forvaltninger, der har registreret, at de betjener dig"\r\nForvaltning,Som,Fra,Til og med,Status,Afsluttet fordi\r\n',
  );
  expect(csv).toContain(',Kontanthjælpssag,2025-01-01,2025-05-31,Afsluttet,Sagen blev afsluttet\r\n');
  expect(csv).toContain(',Åben socialsag,2025-06-01,indtil videre,Gældende,\r\n');
  expect(html).toContain('<td>Void: registered in error, never in force</td>');
  // Naming employees names the responsible caseworker too.
  const named = await buildCitizenReport({ store, pseudonyms, rules, includeEmployee: true }, { cpr: SERVED });
  expect(named.relations.map((r) => r.caseworker)).toEqual(['sof-cw-0042', 'sof-cw-0042', 'sof-cw-0042']);
  // A citizen nobody serves: none.
  expect((await buildCitizenReport({ store, pseudonyms, rules, includeEmployee: false }, { cpr: CPR })).relations).toEqual([]);
});

it('leaves out a re-send that disclosed nothing new, names no recipient in English, and never lists a withheld field', async () => {
  const RESENT = '0602919907';
  const trail = await AuditTrail.open(store, { chain: 'r3' });
  const sof = { system: 'sof-case-system', administration: 'SOF' };
  const event = { requested: ['sanctionDate', 'amountDkk', 'caseworkerNote'], released: [], withheld: [], dropped: [] };
  const sent = { requested: event.requested, released: ['sanctionDate', 'amountDkk'], withheld: ['caseworkerNote'], dropped: [] };
  const mine = { subject: pseudonyms.pseudonym(RESENT), auditId: 'n-9', requestId: 'r-9' };
  // Queued for SOF without the caseworker's note, delivered; then sent again under the same
  // Idempotency-Key (answered as the first time: no recipient, nothing queued).
  await trail.append(base({ ...mine, recipient: sof, fields: sent }));
  await trail.append(base({ ...mine, recipient: sof, fields: sent, reasons: ['DELIVERED'] }));
  await trail.append(base({ ...mine, requestId: 'r-10', decision: null, reasons: ['ALREADY_ACCEPTED'], fields: event, status: 202 }));
  // Another notice, still waiting for SOF; and one nobody could receive.
  await trail.append(base({ ...mine, auditId: 'n-10', requestId: 'r-11', recipient: sof, fields: sent }));
  await trail.append(base({ ...mine, auditId: 'n-11', requestId: 'r-12', decision: 'deny', reasons: ['NO_RECIPIENT'], fields: event }));
  await trail.close();

  const report = await buildCitizenReport({ store, pseudonyms, rules, includeEmployee: false }, { cpr: RESENT });
  expect(report.entries.map((e) => [e.auditId, e.outcome])).toEqual([
    ['n-9', 'disclosed'],
    ['n-10', 'not-disclosed'],
    ['n-11', 'refused'],
  ]);
  const pending = report.entries.find((e) => e.auditId === 'n-10')!;
  expect(pending.requested.map((f) => f.name)).toEqual(['sanctionDate', 'amountDkk']);
  const nobody = report.entries.find((e) => e.auditId === 'n-11')!;
  expect(nobody.recipient.administrationName).toEqual({ da: 'Ingen modtager', en: 'No recipient' });
  const csv = citizenReportCsv(report, 'da');
  const html = citizenReportHtml(report, 'da');
  for (const text of [csv, html]) {
    expect(text).not.toMatch(/unknown/i);
    expect(text).toContain('Ingen modtager');
  }
  // The caseworker's note was withheld from every recipient: never shown as disclosed or as going to one.
  const disclosed = report.entries.filter((e) => e.outcome !== 'refused');
  expect(disclosed.flatMap((e) => [...e.fields, ...e.requested]).map((f) => f.name)).not.toContain('caseworkerNote');
});

it('says who gave the consent a disclosure relied on and how it is evidenced, reading the consent registry once', async () => {
  const CONSENTING = '0702919908';
  const subject = pseudonyms.pseudonym(CONSENTING);
  const bif = { system: 'bif-jobcentre-system', administration: 'BIF' };
  const consent = (id: string, receiptDigest: string, over: Partial<ConsentRecord>): ConsentRecord => ({
    id,
    subject,
    scope: {
      recipients: ['BIF'],
      sources: ['SOF'],
      purposes: ['rehabilitation-team-assessment'],
      contracts: ['social.coordination-summary.v1'],
      categories: [],
      validFrom: '2026-01-01',
      validTo: '2026-06-30',
    },
    evidence: { kind: 'recorded-by-caseworker', reference: 'SOF-FORM-2026-0017', form: 'paper' },
    recordedBy: { system: 'sof-case-system', administration: 'SOF', caseworker: 'sof-cw-0017' },
    recordedAt: '2026-01-01T09:00:00.000Z',
    receipt: `receipt-${id}`,
    receiptDigest,
    ...over,
  });
  const recorder = { system: 'sof-case-system', administration: 'SOF', caseworker: 'sof-cw-0017' };
  const given = (at: string) => ({ type: 'given' as const, at, actor: recorder, auditId: `a-${at}`, reason: null });
  // Given by the citizen's guardian, on paper, recorded by social services' caseworker ...
  await store.consents.add(
    consent('c0000000-0000-4000-8000-000000000001', 'rd-guardian', { givenBy: { role: 'guardian', reference: 'VAERGE-2026-17' } }),
    given('2026-01-01T09:00:00.000Z'),
  );
  // ... and signed by the citizen at the consent service (a decision may cite the artefact's digest).
  await store.consents.add(
    consent('c0000000-0000-4000-8000-000000000002', 'rd-signed', {
      evidence: {
        kind: 'citizen-signed',
        reference: 'digitalt-samtykke/art-1',
        artefact: {
          issuer: 'digitalt-samtykke',
          id: 'art-1',
          kid: 'k1',
          digest: 'artefact-digest-1',
          text: { template: 'rehab', version: '3' },
          givenAt: '2026-01-02T08:00:00.000Z',
        },
      },
    }),
    given('2026-01-02T09:00:00.000Z'),
  );
  const trail = await AuditTrail.open(store, { chain: 'r4' });
  const query = (auditId: string, digest: string): AuditEntry[] =>
    (['decision', 'release'] as const).map((kind) =>
      base({
        kind,
        auditId,
        subject,
        contract: 'social.coordination-summary.v1',
        caller: bif,
        purpose: 'rehabilitation-team-assessment',
        reasons: [],
        status: kind === 'release' ? 200 : null,
        fields: { requested: ['openSocialCase'], released: ['openSocialCase'], withheld: [], dropped: [] },
        consent: digest,
      }),
    );
  for (const e of [...query('q-guardian', 'rd-guardian'), ...query('q-signed', 'artefact-digest-1'), ...query('q-unknown', 'rd-gone')])
    await trail.append(e);
  await trail.close();

  let reads = 0;
  const counted: Store = {
    ...store,
    audit: store.audit,
    relations: store.relations,
    consents: { ...store.consents, bySubject: (s) => ((reads += 1), store.consents.bySubject(s)) },
  } as Store;
  const report = await buildCitizenReport({ store: counted, pseudonyms, rules, includeEmployee: false }, { cpr: CONSENTING });
  expect(reads).toBe(1);
  const given_ = (auditId: string) => report.entries.find((e) => e.auditId === auditId)?.consentGiven;
  expect(given_('q-guardian')).toEqual({
    givenBy: { role: 'guardian', label: { da: 'Din værge', en: 'Your guardian' } },
    level: {
      id: 'recorded-by-caseworker',
      label: { da: 'Registreret af sagsbehandler (papir/mundtligt)', en: 'Recorded by a caseworker (paper/verbal)' },
    },
  });
  expect(given_('q-signed')).toEqual({
    givenBy: { role: 'citizen', label: { da: 'Dig selv', en: 'You' } },
    level: {
      id: 'citizen-signed',
      label: { da: 'Underskrevet af borgeren i samtykkeløsningen', en: 'Signed by the citizen at the consent service' },
    },
  });
  // A consent the registry does not hold: the receipt only.
  expect(report.entries.find((e) => e.auditId === 'q-unknown')).toMatchObject({ consent: 'rd-gone', consentGiven: null });

  const csv = citizenReportCsv(report, 'da');
  expect(csv).toContain(',Samtykke (kvittering),Samtykket blev givet af,Samtykket er dokumenteret ved,');
  expect(csv).toContain(',rd-guardian,Din værge,Registreret af sagsbehandler (papir/mundtligt),');
  const html = citizenReportHtml(report, 'en');
  expect(html).toContain('<td>Your guardian</td><td>Recorded by a caseworker (paper/verbal)</td>');
  expect(html).toContain('<td>You</td><td>Signed by the citizen at the consent service</td>');
  // The representative's evidence, the form's reference and the recording caseworker are not the citizen's report's business.
  for (const text of [JSON.stringify(report), csv, html]) {
    expect(text).not.toContain('VAERGE-2026-17');
    expect(text).not.toContain('SOF-FORM-2026-0017');
    expect(text).not.toContain('sof-cw-0017');
    expect(text).not.toContain(CONSENTING);
  }
  // A report whose exchanges relied on no consent does not read the registry.
  reads = 0;
  await buildCitizenReport({ store: counted, pseudonyms, rules, includeEmployee: false }, { cpr: SERVED });
  expect(reads).toBe(0);
});
