/**
 * Consent the recipient cannot forge (issue 18), end to end on SQLite and on PostgreSQL, with the
 * simulated national consent service running and trusted: a caseworker's paper record (receipt,
 * bounds, standing, representatives), a citizen-signed artefact recorded at the gateway (and every
 * kind of artefact that must be refused, with nothing recorded), the summons copy, which only the
 * citizen's own signed consent unlocks (a paper record by its sender or its recipient does not),
 * and health data, which a record by the recipient itself does not unlock. And, on one PostgreSQL
 * shared by two gateway instances, a withdrawal through one stops the very next request on the
 * other, and a registry that cannot answer denies.
 */
import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CompactSign, importPKCS8, importSPKI } from 'jose';
import pg from 'pg';
import request from 'supertest';
import type { AuditRecord } from '../src/audit/types.js';
import { ARTEFACT_TYPE, type ArtefactClaims } from '../src/consent/artefact.js';
import { consentRegistryDeps, recordConsent } from '../src/consent/records.js';
import { receiptDigest, verifyReceipt } from '../src/consent/receipt.js';
import { addDuration, copenhagenDate } from '../src/policy/dates.js';
import { addDays } from '../src/relations/register.js';
import { CONSENT_SERVICE_FILES, startConsentService, type SimulatedConsentService } from '../src/simulators/consent-service.js';
import { emitNotification } from '../src/simulators/emit.js';
import { population } from '../src/simulators/population.js';
import { artefactClaims, testIssuer } from './support/artefacts.js';
import { postAs, waitFor } from './support/calls.js';
import { DATABASES, postgresDatabase, type TestDatabase } from './support/databases.js';
import { startTestEnv, TEST_CERTS, testCerts, tls, type TestEnv } from './support/env.js';
import { withRelations } from './support/relations.js';

jest.setTimeout(90_000);

const SUMMONS_CONTRACT = 'employment.summons-copy.v1';
// The kind of meeting can reveal health (a rehabilitation team meeting): it is not copied.
const SUMMONS_FIELDS = ['meetingDate', 'meetingTime', 'location', 'jobcentreUnit', 'caseworkerContact'];
const SUMMONS_POLICY = 'bif-copies-summons-to-sof-contact';
const withJob = population().filter((c) => c.employment !== null && c.social !== null);

const today = (): string => copenhagenDate(new Date());
/** base64url SHA-256, computed here rather than by the code under test. */
const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

interface PaperBody {
  cpr: string;
  recipients?: string[];
  sources?: string[];
  purposes?: string[];
  contracts?: string[];
  categories?: string[];
  validFrom?: string;
  validTo?: string;
  evidence: Record<string, unknown>;
  givenBy?: { role: string; reference?: string };
}

/** What the citizen agrees to at the consent service: summons copies from the jobcentre to social services, for 180 days. */
const serviceConsent = (cpr: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  cpr,
  recipients: ['SOF'],
  sources: ['BIF'],
  purposes: ['summons-copy'],
  categories: ['employment', 'contact'],
  validFrom: today(),
  validTo: addDays(today(), 180),
  ...over,
});

/** A caseworker's record of a paper form, of the same consent. */
const paperConsent = (cpr: string, over: Partial<PaperBody> = {}): PaperBody =>
  ({
    ...serviceConsent(cpr),
    evidence: { kind: 'recorded-by-caseworker', reference: 'SOF-FORM-0042', form: 'paper' },
    ...over,
  }) as PaperBody;

const CA = (): Buffer => tls('sof-case-system').ca;

/** The citizen gives consent at the consent service (SIMULATION: the body names them; MitID in reality). */
async function giveAtService(service: SimulatedConsentService, body: Record<string, unknown>): Promise<{ id: string; artefact: string }> {
  const res = await request(service.url).post('/citizen/consents').ca(CA()).send(body);
  expect(res.status).toBe(201);
  return res.body as { id: string; artefact: string };
}

/** The citizen withdraws the consent at the consent service. */
async function withdrawAtService(service: SimulatedConsentService, id: string, cpr: string): Promise<void> {
  const res = await request(service.url).post(`/citizen/consents/${id}/withdraw`).ca(CA()).send({ cpr });
  expect(res.status).toBe(200);
  expect(res.body.state).toBe('withdrawn');
}

/**
 * An artefact signed with the consent service's own key, as the service itself would never
 * issue it (a period in the past): to show the gateway refuses it although the signature is good.
 */
async function signAsService(service: SimulatedConsentService, claims: ArtefactClaims): Promise<string> {
  const key = await importPKCS8(readFileSync(path.join(TEST_CERTS, CONSENT_SERVICE_FILES.signingKey), 'utf8'), 'ES256');
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'ES256', typ: ARTEFACT_TYPE, kid: service.kid })
    .sign(key);
}

/** The artefact with its payload replaced and its signature kept. */
function tampered(artefact: string, change: (claims: Record<string, unknown>) => Record<string, unknown>): string {
  const [header, payload, signature] = artefact.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${header}.${Buffer.from(JSON.stringify(change(claims))).toString('base64url')}.${signature}`;
}

const envOptions = (name: string, store: TestDatabase['storeConfig'], instanceId: string) => ({
  name,
  overrides: {
    store,
    instanceId,
    upstream: { timeoutMs: 1000, maxResponseBytes: 1048576 },
    consent: { timeoutMs: 3000 },
    notifications: { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 80, pollMs: 50, leaseMs: 3000 },
  },
});

/** Need to know for the summons copy: social services have a support contact person for the citizen. */
const SUPPORT_CONTACT = [{ administration: 'SOF', capacity: 'support-contact-person' }] as const;
/** The reasons of a summons copy's QUEUED record: it cites the support contact person relation, with its digest. */
const queuedWith = (relation: string) => ['QUEUED', `relation=${relation}`, expect.stringMatching(/^relations-sha256=/)];

/** The audit records of one exchange, oldest first. */
async function records(env: TestEnv, auditId: string): Promise<AuditRecord[]> {
  return (await env.gateway.store.audit.search({ auditId, limit: 50 })).records.reverse();
}

interface Answer {
  status: number;
  body: { auditId: string; code?: string; reasons?: string[]; deliveries?: { status: string; deliveryId: string }[] };
}

describe.each(DATABASES)('consents on %s', (name, makeDatabase) => {
  let db: TestDatabase;
  let env: TestEnv;
  let service: SimulatedConsentService;
  let next = 0;
  const citizen = () => withJob[(name === 'SQLite' ? 10 : 700) + next++]!;
  const record = (body: unknown, client = 'sof-case-system') => postAs(env.url, client, '/v1/consents', body, { purpose: 'summons-copy' });
  const recordSigned = (cpr: string, artefact: string, more: Record<string, unknown> = {}, client = 'sof-case-system') =>
    record({ cpr, evidence: { kind: 'citizen-signed', artefact }, ...more }, client);
  const search = (client: string, cpr: string) => postAs(env.url, client, '/v1/consents/search', { cpr });
  const withdraw = (client: string, id: string, body: Record<string, unknown>) =>
    postAs(env.url, client, `/v1/consents/${id}/withdraw`, body);
  /** The ids of the citizen's consents, as the DPO (who sees every one) finds them. */
  const recordedIds = async (cpr: string): Promise<string[]> => {
    const res = await search('dpo-console', cpr);
    expect(res.status).toBe(200);
    return (res.body.consents as { id: string }[]).map((c) => c.id).sort();
  };
  const sof = () => env.simulators['sof-case-system']!;

  beforeAll(async () => {
    db = await makeDatabase(`consent_e2e_${name.toLowerCase()}`);
    env = await startTestEnv({ ...envOptions(`consent-e2e-${name.toLowerCase()}`, db.storeConfig, 'gw1'), consentService: true });
    service = env.consentService!;
  });
  afterEach(() => service?.setFault(null));
  afterAll(async () => {
    await env?.close();
    await db?.cleanup();
  });

  /**
   * A refusal: the status and code, audited (kind refusal, the code and the refusal's own reason
   * codes, such as why an artefact was refused, as its reasons), naming no citizen.
   */
  async function expectRefusal(res: request.Response, status: number, code: string, cpr: string): Promise<void> {
    expect([res.status, res.body.code]).toEqual([status, code]);
    expect(JSON.stringify(res.body)).not.toContain(cpr);
    expect(res.body.auditId).toEqual(expect.any(String));
    expect((await records(env, res.body.auditId as string)).map((r) => [r.kind, r.reasons, r.status])).toEqual([
      ['refusal', [code, ...((res.body.reasons as string[] | undefined) ?? [])], status],
    ]);
  }
  const errorPaths = (res: request.Response): string[] => (res.body.errors as { path: string }[]).map((e) => e.path).sort();

  describe("the registry: a caseworker's record", () => {
    it("records a paper consent under the citizen's pseudonym, with a receipt the gateway signed, cited by the audit record", async () => {
      const c = citizen();
      const res = await record(paperConsent(c.cpr));
      expect(res.status).toBe(201);
      const { consent, auditId } = res.body as {
        consent: Record<string, unknown> & { id: string; receipt: string; receiptDigest: string };
        auditId: string;
      };
      const actor = { system: 'sof-case-system', administration: 'SOF', caseworker: 'sof-case-system-cw-0042' };
      expect(consent).toMatchObject({
        state: 'active',
        level: 'recorded-by-caseworker',
        recipients: ['SOF'],
        sources: ['BIF'],
        purposes: ['summons-copy'],
        contracts: [],
        categories: ['employment', 'contact'],
        validFrom: today(),
        validTo: addDays(today(), 180),
        evidence: { kind: 'recorded-by-caseworker', reference: 'SOF-FORM-0042', form: 'paper' },
        givenBy: { role: 'citizen' },
        backdated: false,
        recordedBy: actor,
        events: [{ type: 'given', actor, auditId }],
      });
      expect(JSON.stringify(res.body)).not.toContain(c.cpr);

      // The receipt verifies with the gateway's public key and names the pseudonym, never the CPR number.
      const key = await importSPKI(readFileSync(path.join(TEST_CERTS, 'gateway', 'signing.pub.pem'), 'utf8'), 'ES256');
      const content = await verifyReceipt(consent.receipt, key);
      expect(content).toMatchObject({
        v: 2,
        consentId: consent.id,
        subject: env.gateway.pseudonyms.pseudonym(c.cpr),
        scope: { recipients: ['SOF'], sources: ['BIF'], purposes: ['summons-copy'] },
        evidence: { kind: 'recorded-by-caseworker', reference: 'SOF-FORM-0042', form: 'paper' },
        givenBy: { role: 'citizen' },
        recordedBy: actor,
      });
      expect(JSON.stringify(content)).not.toContain(c.cpr);
      expect(consent.receiptDigest).toBe(sha256(consent.receipt));
      expect(consent.receiptDigest).toBe(receiptDigest(consent.receipt));
      const forged = tampered(consent.receipt, (k) => ({ ...k, scope: { ...(k.scope as object), recipients: ['SOF', 'BIF'] } }));
      await expect(verifyReceipt(forged, key)).rejects.toThrow();

      expect((await records(env, auditId)).map((r) => [r.kind, r.reasons, r.consent, r.subject])).toEqual([
        ['consent', ['CONSENT_RECORDED'], consent.receiptDigest, env.gateway.pseudonyms.pseudonym(c.cpr)],
      ]);
      // The stored rows hold no CPR number.
      const rows = [
        ...(await db.query<Record<string, unknown>>('SELECT * FROM consent WHERE id = ?', [consent.id])),
        ...(await db.query<Record<string, unknown>>('SELECT * FROM consent_event WHERE consent_id = ?', [consent.id])),
      ];
      expect(rows).toHaveLength(2);
      expect(JSON.stringify(rows)).not.toContain(c.cpr);
      expect(JSON.stringify(await env.gateway.store.consents.get(consent.id))).not.toContain(c.cpr);
    });

    it('refuses unknown recipients, sources or purposes, no data named, a past period or a CPR number in the reference, audited and unrecorded', async () => {
      const c = citizen();
      const res = await record(
        paperConsent(c.cpr, {
          recipients: ['XYZ'],
          sources: ['QQQ'],
          purposes: ['gossip'],
          categories: [],
          validFrom: addDays(today(), -3),
          validTo: addDays(today(), -1),
          evidence: { kind: 'recorded-by-caseworker', reference: `form of ${c.cpr}`, form: 'paper' },
        }),
      );
      await expectRefusal(res, 400, 'REQUEST_INVALID', c.cpr);
      expect(errorPaths(res)).toEqual(['/', '/evidence/reference', '/purposes/0', '/recipients/0', '/sources/0', '/validTo']);
      expect(await recordedIds(c.cpr)).toEqual([]);
    });

    it('refuses evidence of the wrong shape, and the kinds of before evidence levels', async () => {
      const c = citizen();
      const artefact = (await giveAtService(service, serviceConsent(c.cpr))).artefact;
      const cases: [Partial<PaperBody>, string[]][] = [
        // A caseworker's record carrying an artefact: the artefact would not be verified.
        [{ evidence: { kind: 'recorded-by-caseworker', reference: 'SOF-FORM-0042', form: 'paper', artefact } }, ['/evidence/artefact']],
        [{ evidence: { kind: 'recorded-by-caseworker', reference: 'SOF-FORM-0042' } }, ['/evidence/form']],
        // A citizen-signed consent is recorded as its artefact says: the body names no scope or period.
        [
          { evidence: { kind: 'citizen-signed', reference: 'SOF-FORM-0042' } },
          ['/categories', '/evidence/artefact', '/evidence/reference', '/purposes', '/recipients', '/sources', '/validFrom', '/validTo'],
        ],
        // A caseworker's record must say whom the data may come from.
        [{ sources: undefined }, ['/sources']],
        // A representative names the evidence of their authority.
        [{ givenBy: { role: 'guardian' } }, ['/givenBy']],
      ];
      for (const [over, paths] of cases) {
        const body = paperConsent(c.cpr, over);
        const res = await record(body);
        await expectRefusal(res, 400, 'REQUEST_INVALID', c.cpr);
        expect([...new Set(errorPaths(res))]).toEqual(paths);
      }
      for (const kind of ['signed-form', 'digital']) {
        const res = await record(paperConsent(c.cpr, { evidence: { kind, reference: 'SOF-FORM-0042', form: 'paper' } }));
        await expectRefusal(res, 400, 'REQUEST_INVALID', c.cpr);
        expect([...new Set(errorPaths(res))]).toEqual(['/evidence/kind']);
      }
      expect(await recordedIds(c.cpr)).toEqual([]);
    });

    it("lets only caseworkers' systems record a consent", async () => {
      const c = citizen();
      await expectRefusal(await record(paperConsent(c.cpr), 'dpo-console'), 403, 'FORBIDDEN_ROLE', c.cpr);
      expect(await recordedIds(c.cpr)).toEqual([]);
    });

    it('holds the period to its bounds: no earlier than a week back (flagged), no longer than the purpose allows', async () => {
      const c = citizen();
      const farBack = await record(paperConsent(c.cpr, { validFrom: addDays(today(), -30) }));
      await expectRefusal(farBack, 422, 'CONSENT_PERIOD_NOT_ALLOWED', c.cpr);
      expect(errorPaths(farBack)).toEqual(['/validFrom']);
      const justBeyondGrace = await record(paperConsent(c.cpr, { validFrom: addDays(today(), -8) }));
      await expectRefusal(justBeyondGrace, 422, 'CONSENT_PERIOD_NOT_ALLOWED', c.cpr);
      expect(errorPaths(justBeyondGrace)).toEqual(['/validFrom']);

      // summons-copy: consentMaxDuration P1Y, so a consent from today ends at the latest the day before a year from today.
      const latest = addDays(addDuration(today(), 'P1Y'), -1);
      const tooLong = await record(paperConsent(c.cpr, { validTo: addDays(latest, 1) }));
      await expectRefusal(tooLong, 422, 'CONSENT_PERIOD_NOT_ALLOWED', c.cpr);
      expect(errorPaths(tooLong)).toEqual(['/validTo']);
      // The forged period: from long ago to far in the future.
      const forever = await record(paperConsent(c.cpr, { validFrom: addDays(today(), -5000), validTo: addDuration(today(), 'P50Y') }));
      await expectRefusal(forever, 422, 'CONSENT_PERIOD_NOT_ALLOWED', c.cpr);
      expect(errorPaths(forever)).toEqual(['/validFrom', '/validTo']);
      expect(await recordedIds(c.cpr)).toEqual([]);

      const fullYear = await record(paperConsent(c.cpr, { validTo: latest }));
      expect(fullYear.status).toBe(201);
      expect(fullYear.body.consent).toMatchObject({ validTo: latest, backdated: false });
      expect((await records(env, fullYear.body.auditId)).map((r) => r.reasons)).toEqual([['CONSENT_RECORDED']]);

      const lateForm = await record(paperConsent(c.cpr, { validFrom: addDays(today(), -3) }));
      expect(lateForm.status).toBe(201);
      expect(lateForm.body.consent).toMatchObject({ validFrom: addDays(today(), -3), backdated: true });
      expect((await records(env, lateForm.body.auditId)).map((r) => [r.kind, r.reasons, r.consent])).toEqual([
        ['consent', ['CONSENT_RECORDED', 'CONSENT_BACKDATED'], lateForm.body.consent.receiptDigest],
      ]);
      expect(await recordedIds(c.cpr)).toEqual([fullYear.body.consent.id, lateForm.body.consent.id].sort());
    });

    it('records who gave it: a guardian, by the reference of the guardianship decision, shown in the search', async () => {
      const c = citizen();
      const res = await record(paperConsent(c.cpr, { givenBy: { role: 'guardian', reference: 'VAERGE-0042' } }));
      expect(res.status).toBe(201);
      expect(res.body.consent.givenBy).toEqual({ role: 'guardian', reference: 'VAERGE-0042' });
      expect((await records(env, res.body.auditId)).map((r) => r.reasons)).toEqual([['CONSENT_RECORDED', 'CONSENT_BY_REPRESENTATIVE']]);
      const found = await search('sof-case-system', c.cpr);
      expect(found.body.consents).toHaveLength(1);
      expect(found.body.consents[0]).toMatchObject({ id: res.body.consent.id, givenBy: { role: 'guardian', reference: 'VAERGE-0042' } });
    });
  });

  describe('the registry: standing', () => {
    it('another administration neither sees nor withdraws a consent; the recorder withdraws it once, and the DPO sees it', async () => {
      const c = citizen();
      const given = await record(paperConsent(c.cpr));
      expect(given.status).toBe(201);
      const id = given.body.consent.id as string;

      // The jobcentre neither recorded it nor receives under it: for it the consent does not exist.
      const bifSearch = await search('bif-jobcentre-system', c.cpr);
      expect(bifSearch.status).toBe(200);
      expect(bifSearch.body.consents).toEqual([]);
      expect((await records(env, bifSearch.body.auditId)).map((r) => [r.kind, r.reasons, r.caller?.system])).toEqual([
        ['consent', ['CONSENT_SEARCH'], 'bif-jobcentre-system'],
      ]);
      await expectRefusal(await withdraw('bif-jobcentre-system', id, { cpr: c.cpr }), 404, 'CONSENT_NOT_FOUND', c.cpr);
      expect((await search('sof-case-system', c.cpr)).body.consents).toEqual([expect.objectContaining({ id, state: 'active' })]);

      // A wrong citizen does not find it either.
      const other = citizen();
      await expectRefusal(await withdraw('sof-case-system', id, { cpr: other.cpr }), 404, 'CONSENT_NOT_FOUND', other.cpr);

      const withdrawn = await withdraw('sof-case-system', id, { cpr: c.cpr, reason: 'citizen-request' });
      expect(withdrawn.status).toBe(200);
      expect(withdrawn.body.consent).toMatchObject({ id, state: 'withdrawn' });
      expect((withdrawn.body.consent.events as { type: string }[]).map((e) => e.type)).toEqual(['given', 'withdrawn']);
      expect((await records(env, withdrawn.body.auditId)).map((r) => [r.kind, r.reasons, r.consent])).toEqual([
        ['consent', ['CONSENT_WITHDRAWAL'], given.body.consent.receiptDigest],
      ]);
      await expectRefusal(await withdraw('sof-case-system', id, { cpr: c.cpr }), 409, 'CONSENT_ALREADY_WITHDRAWN', c.cpr);

      const found = await search('dpo-console', c.cpr);
      expect(found.status).toBe(200);
      expect(found.body.consents).toHaveLength(1);
      expect(found.body.consents[0]).toMatchObject({
        id,
        state: 'withdrawn',
        events: [{ type: 'given' }, { type: 'withdrawn', reason: 'citizen-request', actor: { system: 'sof-case-system' } }],
      });
      expect((await records(env, found.body.auditId)).map((r) => [r.kind, r.reasons, r.caller?.system])).toEqual([
        ['consent', ['CONSENT_SEARCH'], 'dpo-console'],
      ]);
      expect((await search('dpo-console', citizen().cpr)).body.consents).toEqual([]);
    });

    it('the receiving administration sees and may withdraw a consent another recorded; so may the DPO', async () => {
      const c = citizen();
      // The jobcentre records the citizen's form for social services to receive summons copies.
      const byBif = await record(
        paperConsent(c.cpr, { evidence: { kind: 'recorded-by-caseworker', reference: 'BIF-FORM-7', form: 'paper' } }),
        'bif-jobcentre-system',
      );
      expect(byBif.status).toBe(201);
      expect((await search('sof-case-system', c.cpr)).body.consents.map((v: { id: string }) => v.id)).toEqual([byBif.body.consent.id]);
      const bySof = await withdraw('sof-case-system', byBif.body.consent.id, { cpr: c.cpr });
      expect([bySof.status, bySof.body.consent.state]).toEqual([200, 'withdrawn']);

      const another = await record(paperConsent(c.cpr));
      expect(another.status).toBe(201);
      const byDpo = await withdraw('dpo-console', another.body.consent.id, { cpr: c.cpr, reason: 'recorded-in-error' });
      expect(byDpo.status).toBe(200);
      expect(byDpo.body.consent).toMatchObject({
        state: 'withdrawn',
        events: [{ type: 'given' }, { type: 'withdrawn', reason: 'recorded-in-error', actor: { system: 'dpo-console' } }],
      });
      expect((await records(env, byDpo.body.auditId)).map((r) => [r.reasons, r.consent, r.caller?.system])).toEqual([
        [['CONSENT_WITHDRAWAL'], another.body.consent.receiptDigest, 'dpo-console'],
      ]);
    });
  });

  describe('the registry: a citizen-signed consent', () => {
    it('records an artefact the citizen got at the consent service, citing its digest, and only once', async () => {
      const c = citizen();
      const { id: artefactId, artefact } = await giveAtService(service, serviceConsent(c.cpr));
      const res = await recordSigned(c.cpr, artefact);
      expect(res.status).toBe(201);
      const consent = res.body.consent as { id: string; receipt: string; receiptDigest: string };
      expect(consent).toMatchObject({
        state: 'active',
        level: 'citizen-signed',
        recipients: ['SOF'],
        sources: ['BIF'],
        purposes: ['summons-copy'],
        categories: ['employment', 'contact'],
        validFrom: today(),
        validTo: addDays(today(), 180),
        evidence: {
          kind: 'citizen-signed',
          reference: `${service.issuer}/${artefactId}`,
          artefact: { issuer: service.issuer, id: artefactId, kid: service.kid, digest: sha256(artefact) },
        },
        givenBy: { role: 'citizen' },
      });
      expect(JSON.stringify(res.body)).not.toContain(c.cpr);
      expect(JSON.stringify(await db.query('SELECT * FROM consent WHERE id = ?', [consent.id]))).not.toContain(c.cpr);
      expect((await records(env, res.body.auditId)).map((r) => [r.kind, r.reasons, r.consent])).toEqual([
        ['consent', ['CONSENT_RECORDED', `artefact-sha256=${sha256(artefact)}`], consent.receiptDigest],
      ]);

      // Replayed, by the same system or another: refused, nothing more recorded.
      await expectRefusal(await recordSigned(c.cpr, artefact), 409, 'CONSENT_ARTEFACT_ALREADY_RECORDED', c.cpr);
      await expectRefusal(await recordSigned(c.cpr, artefact, {}, 'bif-jobcentre-system'), 409, 'CONSENT_ARTEFACT_ALREADY_RECORDED', c.cpr);
      expect(await recordedIds(c.cpr)).toEqual([consent.id]);
    });

    it('refuses a tampered, forged, misdirected, ended, re-scoped or malformed artefact with a coded 400, and records nothing', async () => {
      const c = citizen();
      const other = citizen();
      const refused = async (artefact: string, reason: string, more: Record<string, unknown> = {}): Promise<void> => {
        const res = await recordSigned(c.cpr, artefact, more);
        await expectRefusal(res, 400, 'CONSENT_ARTEFACT_INVALID', c.cpr);
        expect(res.body.reasons).toEqual([reason]);
      };

      const genuine = (await giveAtService(service, serviceConsent(c.cpr))).artefact;
      // The payload changed (social services and the jobcentre both recipients), the signature kept.
      await refused(
        tampered(genuine, (k) => ({ ...k, recipients: ['SOF', 'BIF'] })),
        'ARTEFACT_SIGNATURE_INVALID',
      );
      // Signed by a key nobody trusts, claiming to be the trusted service and its key.
      const impostor = await testIssuer(service.issuer);
      await refused(await impostor.sign(c.cpr, {}, { kid: service.kid }), 'ARTEFACT_SIGNATURE_INVALID');
      // Signed by a consent service nobody trusts, under its own name.
      const stranger = await testIssuer();
      await refused(await stranger.sign(c.cpr), 'ARTEFACT_ISSUER_UNKNOWN');
      // Another citizen's genuine consent.
      await refused((await giveAtService(service, serviceConsent(other.cpr))).artefact, 'ARTEFACT_SUBJECT_MISMATCH');
      // Correctly signed by the service's key, for a period that has ended.
      const ended = await signAsService(
        service,
        artefactClaims(service.issuer, c.cpr, { validFrom: addDays(today(), -30), validTo: addDays(today(), -1) }),
      );
      await refused(ended, 'ARTEFACT_PERIOD_ENDED');
      await refused('eyJhbGciOiJub25lIn0.e30.c2ln', 'ARTEFACT_MALFORMED');
      // Recorded only as the citizen gave it: neither more (another recipient, a longer period) nor less.
      for (const more of [{ recipients: ['SOF', 'BIF'] }, { validTo: addDays(today(), 181) }, { categories: ['employment'] }]) {
        const res = await recordSigned(c.cpr, genuine, more);
        await expectRefusal(res, 400, 'REQUEST_INVALID', c.cpr);
        expect(errorPaths(res)).toEqual([`/${Object.keys(more)[0]}`]);
      }
      // Only by a party to it: for health data from SUF to SOF, the jobcentre is neither recipient nor source.
      const healthToSof = await signAsService(service, artefactClaims(service.issuer, c.cpr, { sources: ['SUF'] }));
      await expectRefusal(await recordSigned(c.cpr, healthToSof, {}, 'bif-jobcentre-system'), 403, 'CONSENT_NOT_A_PARTY', c.cpr);

      expect(await recordedIds(c.cpr)).toEqual([]);
      expect(await recordedIds(other.cpr)).toEqual([]);

      // The same genuine artefact, as given, by its recipient: recorded.
      const asGiven = await recordSigned(c.cpr, genuine);
      expect(asGiven.status).toBe(201);
      expect(asGiven.body.consent).toMatchObject({ level: 'citizen-signed', recipients: ['SOF'], sources: ['BIF'] });
      // And one signed with the service's key for a period in force is accepted: the refusal above was for the period alone.
      const fine = await signAsService(service, artefactClaims(service.issuer, c.cpr));
      expect((await recordSigned(c.cpr, fine)).status).toBe(201);
    });
  });

  describe('the summons copy (only the citizen-signed consent counts)', () => {
    /** A citizen social services have a support contact person for (need to know); resolves the citizen and the relation's id. */
    async function contactCitizen() {
      const c = citizen();
      const [relation] = await withRelations(env, c.cpr, SUPPORT_CONTACT);
      return { ...c, relation: relation!.id };
    }

    /** Sends a summons copy as the jobcentre; resolves the answer and the exchange's audit records. */
    async function copy(cpr: string): Promise<Answer & { trail: AuditRecord[] }> {
      const res = (await emitNotification('summons-copy', cpr, { gatewayUrl: env.url, certsDir: TEST_CERTS })) as Answer;
      return { ...res, trail: await records(env, res.body.auditId) };
    }

    /** A copy refused: what the jobcentre hears reveals no consent; the audit record keeps the precise reason. */
    async function refusedCopy(cpr: string, audited: string, heard = 'CONSENT_NOT_IN_FORCE'): Promise<void> {
      const { status, body, trail } = await copy(cpr);
      expect([status, body.code, body.reasons]).toEqual([403, 'CONSENT_REQUIRED', [heard]]);
      expect(trail.map((r) => [r.kind, r.decision, r.reasons, r.recipient?.system, r.policy?.id, r.consent ?? null])).toEqual([
        ['notification', 'deny', [audited], 'sof-case-system', SUMMONS_POLICY, null],
      ]);
      expect(sof().inbox.received.filter((n) => n.auditId === body.auditId)).toEqual([]);
    }

    /** A copy accepted, citing `consent`, and delivered to social services with the summons fields only. */
    async function deliveredCopy(c: { cpr: string; relation: string }, consent: string): Promise<void> {
      const ok = await copy(c.cpr);
      expect(ok.status).toBe(202);
      expect(ok.trail.map((r) => [r.decision, r.reasons, r.consent])).toEqual([['permit', queuedWith(c.relation), consent]]);
      const [got] = await waitFor('social services receive the copy', () => {
        const r = sof().inbox.received.filter((n) => n.auditId === ok.body.auditId);
        return r.length > 0 ? r : undefined;
      });
      expect(got).toMatchObject({ contract: SUMMONS_CONTRACT, cpr: c.cpr, policy: `${SUMMONS_POLICY}@5` });
      expect(Object.keys(got!.event).sort()).toEqual([...SUMMONS_FIELDS].sort());
    }

    it('is refused when the citizen has given no consent', async () => {
      const c = await contactCitizen();
      await refusedCopy(c.cpr, 'CONSENT_MISSING');
      expect(sof().inbox.received.filter((n) => n.cpr === c.cpr)).toEqual([]);
    });

    it('is not unlocked by a paper consent its recipient records for itself, nor one its sender records', async () => {
      const c = await contactCitizen();
      expect((await record(paperConsent(c.cpr))).status).toBe(201);
      await refusedCopy(c.cpr, 'CONSENT_EVIDENCE_NOT_ACCEPTED');
      const bif = await record(
        paperConsent(c.cpr, { evidence: { kind: 'recorded-by-caseworker', reference: 'BIF-FORM-7', form: 'paper' } }),
        'bif-jobcentre-system',
      );
      expect(bif.status).toBe(201);
      await refusedCopy(c.cpr, 'CONSENT_EVIDENCE_NOT_ACCEPTED');
      expect(sof().inbox.received.filter((n) => n.cpr === c.cpr)).toEqual([]);
    });

    it("flows once the citizen consents at the consent service, citing the artefact's digest, and stops when they withdraw there", async () => {
      const c = await contactCitizen();
      await refusedCopy(c.cpr, 'CONSENT_MISSING');
      const given = await giveAtService(service, serviceConsent(c.cpr));
      await deliveredCopy(c, sha256(given.artefact));
      // Nothing was recorded at the gateway: the decision found it at the service.
      expect(await recordedIds(c.cpr)).toEqual([]);

      await withdrawAtService(service, given.id, c.cpr);
      await refusedCopy(c.cpr, 'CONSENT_MISSING');
    });

    it('flows on a recorded citizen-signed consent, citing its receipt, and stops when the citizen withdraws it at the service', async () => {
      const c = await contactCitizen();
      const given = await giveAtService(service, serviceConsent(c.cpr));
      const recorded = await recordSigned(c.cpr, given.artefact);
      expect(recorded.status).toBe(201);
      await deliveredCopy(c, recorded.body.consent.receiptDigest);

      await withdrawAtService(service, given.id, c.cpr);
      await refusedCopy(c.cpr, 'CONSENT_WITHDRAWN');
    });

    it('is refused when the consent covers another purpose or not every kind of data; a consent naming the contract covers it all', async () => {
      const c = await contactCitizen();
      await giveAtService(service, serviceConsent(c.cpr, { purposes: ['plan-coordination'] }));
      await refusedCopy(c.cpr, 'CONSENT_SCOPE');
      await giveAtService(service, serviceConsent(c.cpr, { categories: ['employment'] }));
      await refusedCopy(c.cpr, 'CONSENT_SCOPE');
      await giveAtService(service, serviceConsent(c.cpr, { sources: ['SOF'] }));
      await refusedCopy(c.cpr, 'CONSENT_SCOPE');
      const whole = await giveAtService(service, serviceConsent(c.cpr, { categories: undefined, contracts: [SUMMONS_CONTRACT] }));
      await deliveredCopy(c, sha256(whole.artefact));
    });

    it('is refused once the consent has expired, and the search shows its expiry', async () => {
      const c = await contactCitizen();
      // A consent the citizen signed two months ago for a month, recorded then: expired now.
      const then = new Date(Date.now() - 60 * 86_400_000);
      const day = copenhagenDate(then);
      const artefact = await signAsService(
        service,
        artefactClaims(service.issuer, c.cpr, { validFrom: day, validTo: addDays(day, 30) }, then),
      );
      const gw = env.gateway;
      const { consent } = await recordConsent(
        consentRegistryDeps(gw),
        {
          requestId: 'consent-e2e-expired',
          client: gw.rules().clients.byId('sof-case-system')!,
          token: {
            issuer: 'sof-case-system',
            caseworker: 'sof-cw-0042',
            purpose: 'summons-copy',
            caseRef: 'SOF-CASE-0001',
            jti: 'consent-e2e-expired',
            expiresAt: then,
            digest: 'x',
          },
        },
        { cpr: c.cpr, evidence: { kind: 'citizen-signed', artefact } },
        then,
      );
      expect(consent).toMatchObject({ level: 'citizen-signed', state: 'active', validTo: addDays(day, 30) });

      await refusedCopy(c.cpr, 'CONSENT_EXPIRED');
      const found = await search('sof-case-system', c.cpr);
      expect(found.body.consents).toHaveLength(1);
      expect(found.body.consents[0]).toMatchObject({ id: consent.id, state: 'expired' });
      expect((found.body.consents[0].events as { type: string; actor: unknown }[]).map((e) => [e.type, e.actor === null])).toEqual([
        ['given', false],
        ['expired', true],
      ]);
    });

    it('is cancelled, not delivered, when the citizen withdraws at the service while the copy waits in the outbox', async () => {
      const c = await contactCitizen();
      const given = await giveAtService(service, serviceConsent(c.cpr));
      await env.gateway.outbox.stop(); // hold deliveries back
      try {
        const queued = await copy(c.cpr);
        expect(queued.status).toBe(202);
        const id = queued.body.deliveries![0]!.deliveryId;
        await withdrawAtService(service, given.id, c.cpr);
        await env.gateway.outbox.runOnce();
        // Unrecorded, the withdrawn artefact is simply no longer there: no consent.
        expect(await env.gateway.store.outbox.get(id)).toMatchObject({ state: 'cancelled', payload: null, lastError: 'CONSENT_MISSING' });
        expect((await records(env, queued.body.auditId)).map((r) => [r.decision, r.reasons])).toEqual([
          ['permit', queuedWith(c.relation)],
          ['deny', ['CONSENT_MISSING', 'DELIVERY_CANCELLED']],
        ]);
        expect(sof().inbox.received.filter((n) => n.auditId === queued.body.auditId)).toEqual([]);
      } finally {
        await env.gateway.outbox.start();
      }
    });

    it('is refused, audited, while the consent service fails, even on a recorded citizen-signed consent; flows again once it answers', async () => {
      const c = await contactCitizen();
      const given = await giveAtService(service, serviceConsent(c.cpr));
      const recorded = await recordSigned(c.cpr, given.artefact);
      expect(recorded.status).toBe(201);
      service.setFault({ kind: 'status', status: 500 });
      await refusedCopy(c.cpr, 'CONSENT_SOURCE_UNAVAILABLE', 'CONSENT_SOURCE_UNAVAILABLE');
      service.setFault(null);
      await deliveredCopy(c, recorded.body.consent.receiptDigest);
    });
  });

  describe('health data for the rehabilitation team (a record by another administration counts, not its own)', () => {
    const SUMMARY = 'social.coordination-summary.v1';
    const healthConsent = (cpr: string, reference: string) =>
      paperConsent(cpr, {
        recipients: ['BIF'],
        sources: ['SOF'],
        purposes: ['rehabilitation-team-assessment'],
        categories: undefined,
        contracts: [SUMMARY],
        evidence: { kind: 'recorded-by-caseworker', reference, form: 'paper' },
      });

    it("is released on social services' paper record, not on the jobcentre's own", async () => {
      const c = citizen();
      const ask = () =>
        postAs(
          env.url,
          'bif-jobcentre-system',
          `/v1/queries/${SUMMARY}`,
          { cpr: c.cpr, fields: ['healthEfforts'] },
          { purpose: 'rehabilitation-team-assessment' },
        );
      const denied = async (audited: string): Promise<void> => {
        const res = await ask();
        expect([res.status, res.body.code, res.body.reasons]).toEqual([403, 'CONSENT_REQUIRED', ['CONSENT_NOT_IN_FORCE']]);
        expect(res.body.disclosure).toBeUndefined();
        expect((await records(env, res.body.auditId)).map((r) => [r.kind, r.decision, r.reasons])).toEqual([
          ['decision', 'deny', [audited]],
        ]);
      };
      await denied('CONSENT_MISSING');

      const own = await record(healthConsent(c.cpr, 'BIF-FORM-9'), 'bif-jobcentre-system');
      expect(own.status).toBe(201);
      await denied('CONSENT_EVIDENCE_NOT_ACCEPTED');

      const bySof = await record(healthConsent(c.cpr, 'SOF-FORM-9'), 'sof-case-system');
      expect(bySof.status).toBe(201);
      const after = await ask();
      expect(after.status).toBe(200);
      expect(after.body.disclosure.released).toEqual(['healthEfforts']);
      const decision = (await records(env, after.body.disclosure.auditId)).find((r) => r.kind === 'decision')!;
      expect([decision.decision, decision.consent]).toEqual(['permit', bySof.body.consent.receiptDigest]);
    });
  });
});

describe('two gateway instances sharing one PostgreSQL and one consent service', () => {
  let db: TestDatabase;
  let service: SimulatedConsentService;
  let a: TestEnv;
  let b: TestEnv;
  beforeAll(async () => {
    db = await postgresDatabase('consent_two_instances');
    service = await startConsentService({ certsDir: await testCerts(), gatewayId: 'snitflade-gateway' });
    a = await startTestEnv({ ...envOptions('consent-instance-a', db.storeConfig, 'gw-a'), consentService: service });
    b = await startTestEnv({ ...envOptions('consent-instance-b', db.storeConfig, 'gw-b'), consentService: service });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await service?.close();
    await db?.cleanup();
  });

  const copyOn = async (env: TestEnv, cpr: string) =>
    (await emitNotification('summons-copy', cpr, { gatewayUrl: env.url, certsDir: TEST_CERTS })) as Answer;
  /** A citizen with a support contact person at social services and a citizen-signed consent recorded through instance a. */
  async function consenting(index: number): Promise<{ cpr: string; consentId: string }> {
    const c = withJob[index]!;
    await withRelations(a, c.cpr, SUPPORT_CONTACT);
    const res = await request(service.url).post('/citizen/consents').ca(CA()).send(serviceConsent(c.cpr));
    expect(res.status).toBe(201);
    const given = await postAs(a.url, 'sof-case-system', '/v1/consents', {
      cpr: c.cpr,
      evidence: { kind: 'citizen-signed', artefact: res.body.artefact },
    });
    expect(given.status).toBe(201);
    return { cpr: c.cpr, consentId: given.body.consent.id as string };
  }

  it('a withdrawal through one instance stops the very next request on the other', async () => {
    const c = await consenting(1200);
    expect((await copyOn(b, c.cpr)).status).toBe(202);

    const withdrawn = await postAs(a.url, 'sof-case-system', `/v1/consents/${c.consentId}/withdraw`, { cpr: c.cpr });
    expect(withdrawn.status).toBe(200);
    // The artefact is still in force at the consent service: the registry's withdrawal wins.
    const next = await copyOn(b, c.cpr);
    expect([next.status, next.body.reasons]).toEqual([403, ['CONSENT_NOT_IN_FORCE']]);
    expect((await records(b, next.body.auditId)).map((r) => r.reasons)).toEqual([['CONSENT_WITHDRAWN']]);
  });

  it('denies with CONSENT_SOURCE_UNAVAILABLE when the consent registry cannot answer in time (fail closed)', async () => {
    const c = await consenting(1201);
    const locker = new pg.Client({ connectionString: (db.storeConfig as { url: string }).url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE consent IN ACCESS EXCLUSIVE MODE'); // readers wait
      const res = await copyOn(b, c.cpr);
      expect([res.status, res.body.code, res.body.reasons]).toEqual([403, 'CONSENT_REQUIRED', ['CONSENT_SOURCE_UNAVAILABLE']]);
      expect((await records(b, res.body.auditId)).map((r) => r.reasons)).toEqual([['CONSENT_SOURCE_UNAVAILABLE']]);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    // Once the registry answers again, so does the gateway.
    expect((await copyOn(b, c.cpr)).status).toBe(202);
  });
});
