/**
 * What the DPO sees of consents (issue 18, items 5 and 6), end to end on SQLite and PostgreSQL:
 * consents recorded through the real API, queries relying on them, and the DPO's pages over mutual
 * TLS with the DPO's certificate.
 *
 * - A consent a caseworker records for the caseworker's own administration, relied on by that
 *   administration within the hour, is an anomaly; one recorded by another administration is not.
 * - A back-dated consent is an anomaly for the caseworker who recorded it.
 * - A disclosure on a consent withdrawn later still is one (the rule from before evidence levels).
 * - The consents page shows each consent's evidence level, who gave it (a representative with the
 *   evidence of their authority), whether it was back-dated, its sources and relation; the
 *   citizen's access report shows who gave the consent a disclosure relied on and its evidence.
 *
 * The example policies accept no caseworker's record made by the recipient for the rehabilitation
 * team's look-up (it releases health data); the rule is for a municipality's policy that does
 * accept one. So the gateway here runs on a copy of the policies in which the rehabilitation
 * team's policy releases no health data and accepts a caseworker's record.
 */
import { jest } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { statisticsOf } from '../src/audit/statistics.js';
import { DEFAULT_THRESHOLDS, findAnomalies, type Anomaly } from '../src/dpo/anomalies.js';
import { copenhagenDate } from '../src/policy/dates.js';
import { addDays } from '../src/relations/register.js';
import { population } from '../src/simulators/population.js';
import { clientCreds, send, type Answer } from './hardening/support.js';
import { postAs } from './support/calls.js';
import { DATABASES, type TestDatabase } from './support/databases.js';
import { ROOT, startTestEnv, testCerts, type TestEnv } from './support/env.js';

jest.setTimeout(120_000);

const SUMMARY = '/v1/queries/social.coordination-summary.v1';
const REHAB = 'rehabilitation-team-assessment';
const BIF = 'bif-jobcentre-system';
const SOF = 'sof-case-system';
const shared = population().filter((c) => c.employment !== null && c.social !== null && !c.extras.social);

/** The policies with the rehabilitation team's look-up accepting a caseworker's record, health data left out. */
function policiesAcceptingCaseworkerRecords(dir: string): string {
  const policies = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
  const file = path.join(policies, 'bif-rehab-team-reads-social-efforts.policy.yaml');
  const text = readFileSync(file, 'utf8');
  const edited = text
    .replace('evidence: [citizen-signed, recorded-by-other-administration]', 'evidence: [citizen-signed, recorded-by-caseworker]')
    .replace(
      'fields: [openSocialCase, supportContact, actionPlan, socialEfforts, healthEfforts]',
      'fields: [openSocialCase, actionPlan, socialEfforts]',
    );
  if (edited === text || !edited.includes('recorded-by-caseworker]') || /healthEfforts|supportContact/.test(edited))
    throw new Error('the rehabilitation team policy no longer reads as this test expects');
  writeFileSync(file, edited);
  // The gateway runs every policy's test cases when it loads the rules: the edited policy's say what it now does.
  writeFileSync(
    path.join(policies, 'bif-rehab-team-reads-social-efforts.test.yaml'),
    [
      'policy: bif-rehab-team-reads-social-efforts',
      'cases:',
      "  - name: (test copy) the recipient's own record of a paper consent unlocks the summary, health data left out",
      '    request:',
      '      contract: social.coordination-summary.v1',
      '      administration: BIF',
      '      roles: [rehabilitation-team]',
      '      purpose: rehabilitation-team-assessment',
      '      fields: [openSocialCase, healthEfforts]',
      '      at: 2025-06-01',
      '      consent: active',
      '      consentEvidence: { level: recorded-by-caseworker, recordedBy: BIF }',
      '    expect: { decision: permit, policy: bif-rehab-team-reads-social-efforts, fields: [openSocialCase] }',
      '',
    ].join('\n'),
  );
  return policies;
}

describe.each(DATABASES)('the DPO and consents on %s', (name, makeDatabase) => {
  const today = copenhagenDate(new Date());
  const range = { fromDay: addDays(today, -1), toDay: today };
  const offset = name === 'SQLite' ? 30 : 60;
  /** Recorded by the jobcentre for itself, and relied on at once: the anomaly. */
  const selfRecorded = shared[offset]!;
  /** Recorded by social services for the jobcentre, given by the citizen's guardian, relied on at once: no anomaly. */
  const byOther = shared[offset + 1]!;
  /** Recorded by social services, back-dated three days, given by a holder of a power of attorney. */
  const backdated = shared[offset + 2]!;
  let db: TestDatabase;
  let dir: string;
  let env: TestEnv;
  let anomalies: Anomaly[];
  const consentIds: Record<string, string> = {};
  const records: Record<string, string> = {};

  const record = async (client: string, caseworker: string, body: Record<string, unknown>): Promise<{ id: string; auditId: string }> => {
    const res = await postAs(env.url, client, '/v1/consents', body, { purpose: REHAB, caseworker });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 201, code: undefined });
    return { id: res.body.consent.id, auditId: res.body.auditId };
  };
  const consentBody = (cpr: string, over: Record<string, unknown> = {}) => ({
    cpr,
    recipients: ['BIF'],
    sources: ['SOF'],
    purposes: [REHAB],
    contracts: ['social.coordination-summary.v1'],
    validFrom: today,
    validTo: addDays(today, 30),
    evidence: { kind: 'recorded-by-caseworker', reference: 'BIF-FORM-2026-0101', form: 'paper' },
    ...over,
  });
  const rehabQuery = async (cpr: string): Promise<string> => {
    const res = await postAs(env.url, BIF, SUMMARY, { cpr, fields: ['openSocialCase'] }, { purpose: REHAB, caseworker: 'bif-cw-0301' });
    expect(res.status).toBe(200);
    return res.body.disclosure.auditId as string;
  };
  /** The id of the record of `kind` an exchange or recording left. */
  const recordOf = async (auditId: string, kind: 'decision' | 'consent'): Promise<string> =>
    (await env.gateway.store.audit.search({ auditId, kind, limit: 5 })).records[0]!.id;

  beforeAll(async () => {
    db = await makeDatabase(`dpo_consents_${name.toLowerCase()}`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-dpo-consents-'));
    env = await startTestEnv({
      name: `dpo-consents-${name.toLowerCase()}`,
      overrides: {
        store: db.storeConfig,
        paths: { certs: await testCerts(), data: dir, policies: policiesAcceptingCaseworkerRecords(dir) },
        upstream: { timeoutMs: 1000, maxResponseBytes: 1048576 },
      },
    });

    // The jobcentre's caseworker records a paper consent naming the jobcentre, and the jobcentre relies on it at once.
    const own = await record(BIF, 'bif-cw-0101', consentBody(selfRecorded.cpr));
    consentIds.selfRecorded = own.id;
    records.selfRecorded = await recordOf(own.auditId, 'consent');
    records.selfRecordedUse = await recordOf(await rehabQuery(selfRecorded.cpr), 'decision');
    // Social services record one for the jobcentre, given by the citizen's guardian; the jobcentre relies on it.
    const other = await record(
      SOF,
      'sof-cw-0201',
      consentBody(byOther.cpr, {
        evidence: { kind: 'recorded-by-caseworker', reference: 'SOF-FORM-2026-0201', form: 'paper' },
        givenBy: { role: 'guardian', reference: 'VAERGE-2026-17' },
      }),
    );
    consentIds.byOther = other.id;
    await rehabQuery(byOther.cpr);
    // Social services record a paper form dated three days ago, given under a power of attorney.
    const late = await record(
      SOF,
      'sof-cw-0007',
      consentBody(backdated.cpr, {
        validFrom: addDays(today, -3),
        evidence: { kind: 'recorded-by-caseworker', reference: 'SOF-FORM-2026-0007', form: 'verbal' },
        givenBy: { role: 'power-of-attorney', reference: 'FULDMAGT-2026-3' },
      }),
    );
    consentIds.backdated = late.id;
    records.backdated = await recordOf(late.auditId, 'consent');
    // The citizen then withdraws the self-recorded one.
    const withdrawn = await postAs(env.url, BIF, `/v1/consents/${own.id}/withdraw`, { cpr: selfRecorded.cpr }, { purpose: REHAB });
    expect(withdrawn.status).toBe(200);

    while ((await env.gateway.rollups.run(10_000)) > 0);
    const statistics = statisticsOf(env.gateway.store);
    anomalies = await findAnomalies(statistics, {
      range,
      consents: statistics,
      withdrawnConsents: () => statistics.withdrawnConsentUses(range),
    });
  });
  afterAll(async () => {
    await env?.close();
    await db?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const of = (kind: Anomaly['kind']) => anomalies.filter((a) => a.kind === kind);

  it('flags a consent the recipient recorded itself and relied on within the hour, and not one another administration recorded', () => {
    const flagged = of('self-recorded-consent');
    expect(flagged.map((a) => [a.callerSystem, a.caseworker])).toEqual([[BIF, 'bif-cw-0101']]);
    const [a] = flagged;
    expect(a!.explanation.en).toContain(`recorded consent ${consentIds.selfRecorded} (paper, form BIF-FORM-2026-0101)`);
    expect(a!.explanation.en).toContain(`own administration BIF received data on it 1 time (${BIF})`);
    expect(a!.explanation.en).toContain('within 60 minutes');
    expect(a!.explanation.da).toContain(`registrerede samtykke ${consentIds.selfRecorded} (papir, blanket BIF-FORM-2026-0101)`);
    expect(a!.explanation.da).toContain('modtog oplysninger på grundlag af det 1 gang');
    // The look-up that relied on it, then the recording: newest first.
    expect(a!.evidence.map((e) => e.recordId)).toEqual([records.selfRecordedUse, records.selfRecorded]);
    for (const text of [a!.explanation.da, a!.explanation.en]) expect(text).not.toContain(consentIds.byOther);
  });

  it('flags back-dated consents for the caseworker who recorded them, with how far back and who gave them', () => {
    const flagged = of('backdated-consent');
    expect(flagged.map((a) => [a.callerSystem, a.caseworker])).toEqual([[SOF, 'sof-cw-0007']]);
    const [a] = flagged;
    expect(a!.explanation.en).toContain(
      `recorded 1 back-dated consent in the period: ${consentIds.backdated} from ${addDays(today, -3)}, recorded ${today} (3 days back), form SOF-FORM-2026-0007, given by a representative`,
    );
    expect(a!.explanation.da).toContain('registrerede 1 tilbagedateret samtykke i perioden');
    expect(a!.evidence).toEqual([{ recordId: records.backdated, time: expect.any(String) }]);
  });

  it('still flags a disclosure that relied on a consent withdrawn later', () => {
    const flagged = of('withdrawn-consent');
    expect(flagged).toHaveLength(1);
    expect(flagged[0]!.callerSystem).toBe(BIF);
    expect(flagged[0]!.explanation.en).toContain(`relied on consent ${consentIds.selfRecorded}`);
  });

  it('finds none of the consent anomalies with thresholds nobody reaches', async () => {
    const statistics = statisticsOf(env.gateway.store);
    const none = await findAnomalies(statistics, {
      range,
      consents: statistics,
      thresholds: { ...DEFAULT_THRESHOLDS, selfRecordedConsentMinutes: 0, backdatedConsentsMin: 2 },
    });
    expect(none.filter((a) => a.kind === 'backdated-consent')).toEqual([]);
    expect(none.filter((a) => a.kind === 'self-recorded-consent')).toEqual([]);
  });

  describe("the DPO's pages", () => {
    const dpo = () => clientCreds('dpo-console');
    let cookie = '';
    let csrf = '';
    const get = (urlPath: string): Promise<Answer> => send(env.url, { method: 'GET', path: urlPath, headers: { cookie }, creds: dpo() });
    const post = (urlPath: string, fields: Record<string, string>): Promise<Answer> =>
      send(env.url, {
        method: 'POST',
        path: urlPath,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
        creds: dpo(),
      });

    beforeAll(async () => {
      const form = await send(env.url, { method: 'GET', path: '/dpo/sign-in', creds: dpo() });
      const token = /name="_signin" value="([^"]+)"/.exec(form.text)![1]!;
      const signinCookie = String(form.headers['set-cookie']).split(';')[0]!;
      const res = await send(env.url, {
        method: 'POST',
        path: '/dpo/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: signinCookie },
        body: new URLSearchParams({ _signin: token, lang: 'da' }).toString(),
        creds: dpo(),
      });
      expect(res.status).toBe(303);
      cookie = (res.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]).join('; ');
      csrf = /name="_csrf" value="([^"]+)"/.exec((await get('/dpo/')).text)![1]!;
    });

    it('lists both consent anomalies with their rules', async () => {
      const res = await get('/dpo/anomalies');
      expect(res.status).toBe(200);
      expect(res.text).toContain(`data-kind="self-recorded-consent" data-caller="${BIF}" data-caseworker="bif-cw-0101"`);
      expect(res.text).toContain(`data-kind="backdated-consent" data-caller="${SOF}" data-caseworker="sof-cw-0007"`);
      expect(res.text).toContain('Samtykke registreret af modtageren selv og brugt med det samme');
      expect(res.text).toContain('inden for 60 minutter efter registreringen');
      expect(res.text).toContain(`/dpo/records/${records.selfRecorded}`);
    });

    it('shows a consent given under a power of attorney: evidence level, who gave it, back-dated, sources, relation', async () => {
      const res = await post('/dpo/consents', { cpr: backdated.cpr });
      expect(res.status).toBe(200);
      const section = res.text.slice(res.text.indexOf(`data-consent="${consentIds.backdated}"`));
      expect(section).toContain('<dd data-level="recorded-by-caseworker">Registreret af sagsbehandler (papir/mundtligt)</dd>');
      expect(section).toContain('<dd data-evidence>Blanket SOF-FORM-2026-0007 (mundtligt)</dd>');
      expect(section).toContain('<dd data-given-by="power-of-attorney">Fuldmagtshaver (dokumentation FULDMAGT-2026-3)</dd>');
      expect(section).toContain('data-backdated="yes"');
      expect(section).toContain('Ja: perioden begynder før den dag, samtykket blev registreret');
      expect(section).toMatch(/<dd data-sources>[^<]*\(SOF\)<\/dd>/);
      expect(section).toContain('<dd data-relation>Ingen</dd>');
      expect(res.text).not.toContain(backdated.cpr);
    });

    it('shows a consent the citizen gave as not back-dated, given by the citizen', async () => {
      const res = await post('/dpo/consents', { cpr: selfRecorded.cpr });
      expect(res.text).toContain('<dd data-given-by="citizen">Borgeren selv</dd>');
      expect(res.text).toContain('data-backdated="no"');
      expect(res.text).not.toContain(selfRecorded.cpr);
    });

    it("says in the citizen's access report who gave the consent a disclosure relied on, and how it is evidenced", async () => {
      const res = await post('/dpo/citizen-report', { cpr: byOther.cpr, reportLang: 'da' });
      expect(res.status).toBe(200);
      expect(res.text).toContain('<dt>Samtykket blev givet af</dt><dd>Din værge</dd>');
      expect(res.text).toContain('<dt>Samtykket er dokumenteret ved</dt><dd>Registreret af sagsbehandler (papir/mundtligt)</dd>');
      // The report itself (the download forms carry the CPR number in their POST bodies, as the report form does).
      const report = res.text.slice(res.text.indexOf('id="citizen-report"'));
      expect(report).not.toContain('VAERGE-2026-17');
      expect(report).not.toContain(byOther.cpr);
      const csv = await post('/dpo/citizen-report/csv', { cpr: byOther.cpr, reportLang: 'en' });
      expect(csv.text).toContain(',Your guardian,Recorded by a caseworker (paper/verbal),');
    });
  });
});
