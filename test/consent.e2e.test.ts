/**
 * The consent registry end to end, on SQLite and on PostgreSQL: recording (with a signed
 * receipt), search, withdrawal, and the consent-driven summons copy from the papers, which is
 * delivered only while an active consent covers it. And, on one PostgreSQL shared by two gateway
 * instances, a withdrawal on one stops the very next request on the other.
 */
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importSPKI } from 'jose';
import pg from 'pg';
import type { AuditRecord } from '../src/audit/types.js';
import { recordConsent } from '../src/consent/records.js';
import { receiptDigest, verifyReceipt } from '../src/consent/receipt.js';
import { emitNotification } from '../src/simulators/emit.js';
import { population } from '../src/simulators/population.js';
import { postAs, waitFor } from './support/calls.js';
import { DATABASES, postgresDatabase, type TestDatabase } from './support/databases.js';
import { startTestEnv, TEST_CERTS, type TestEnv } from './support/env.js';
import { withRelations } from './support/relations.js';

jest.setTimeout(90_000);

const SUMMONS_FIELDS = ['meetingDate', 'meetingTime', 'meetingKind', 'location', 'jobcentreUnit', 'caseworkerContact'];
const withJob = population().filter((c) => c.employment !== null && c.social !== null);

interface ConsentBody {
  cpr: string;
  recipients: string[];
  purposes: string[];
  contracts?: string[];
  categories?: string[];
  validFrom: string;
  validTo: string;
  evidence: { kind: string; reference: string };
}

const summonsConsent = (cpr: string, over: Partial<ConsentBody> = {}): ConsentBody => ({
  cpr,
  recipients: ['SOF'],
  purposes: ['summons-copy'],
  categories: ['employment', 'contact'],
  validFrom: '2025-01-01',
  validTo: '2099-12-31',
  evidence: { kind: 'signed-form', reference: 'SOF-FORM-2026-0042' },
  ...over,
});

const notificationEnv = (name: string, store: TestDatabase['storeConfig'], instanceId = 'gw1') =>
  startTestEnv({
    name,
    overrides: {
      store,
      instanceId,
      upstream: { timeoutMs: 1000, maxResponseBytes: 1048576 },
      consent: { timeoutMs: 500 },
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

describe.each(DATABASES)('consents on %s', (name, makeDatabase) => {
  let db: TestDatabase;
  let env: TestEnv;
  let next = 0;
  const citizen = () => withJob[(name === 'SQLite' ? 10 : 700) + next++]!;
  const record = (body: ConsentBody, client = 'sof-case-system') =>
    postAs(env.url, client, '/v1/consents', body, { purpose: 'summons-copy' });
  const summons = (cpr: string) => emitNotification('summons-copy', cpr, { gatewayUrl: env.url, certsDir: TEST_CERTS });
  const sof = () => env.simulators['sof-case-system']!;

  beforeAll(async () => {
    db = await makeDatabase(`consent_e2e_${name.toLowerCase()}`);
    env = await notificationEnv(`consent-e2e-${name.toLowerCase()}`, db.storeConfig);
  });
  afterAll(async () => {
    await env?.close();
    await db?.cleanup();
  });

  describe('the registry', () => {
    it("records a consent under the citizen's pseudonym and returns a receipt signed by the gateway, cited by the audit record", async () => {
      const c = citizen();
      const res = await record(summonsConsent(c.cpr));
      expect(res.status).toBe(201);
      const { consent, auditId } = res.body as {
        consent: Record<string, unknown> & { id: string; receipt: string; receiptDigest: string };
        auditId: string;
      };
      expect(consent).toMatchObject({
        state: 'active',
        recipients: ['SOF'],
        purposes: ['summons-copy'],
        contracts: [],
        categories: ['employment', 'contact'],
        validFrom: '2025-01-01',
        validTo: '2099-12-31',
        evidence: { kind: 'signed-form', reference: 'SOF-FORM-2026-0042' },
        recordedBy: { system: 'sof-case-system', administration: 'SOF', caseworker: 'sof-case-system-cw-0042' },
        events: [
          { type: 'given', actor: { system: 'sof-case-system', administration: 'SOF', caseworker: 'sof-case-system-cw-0042' }, auditId },
        ],
      });
      expect(JSON.stringify(res.body)).not.toContain(c.cpr);

      // The receipt verifies with the gateway's public key and names the pseudonym, never the CPR number.
      const key = await importSPKI(readFileSync(path.join(TEST_CERTS, 'gateway', 'signing.pub.pem'), 'utf8'), 'ES256');
      const content = await verifyReceipt(consent.receipt, key);
      expect(content).toMatchObject({
        consentId: consent.id,
        subject: env.gateway.pseudonyms.pseudonym(c.cpr),
        scope: { recipients: ['SOF'], purposes: ['summons-copy'] },
        evidence: { reference: 'SOF-FORM-2026-0042' },
      });
      expect(consent.receiptDigest).toBe(receiptDigest(consent.receipt));
      const tampered = `${consent.receipt.split('.')[0]}.${Buffer.from(JSON.stringify({ ...content, scope: { ...content.scope, purposes: ['plan-coordination'] } })).toString('base64url')}.${consent.receipt.split('.')[2]}`;
      await expect(verifyReceipt(tampered, key)).rejects.toThrow();

      const trail = await records(env, auditId);
      expect(trail.map((r) => [r.kind, r.reasons, r.consent, r.subject])).toEqual([
        ['consent', ['CONSENT_RECORDED'], consent.receiptDigest, env.gateway.pseudonyms.pseudonym(c.cpr)],
      ]);
      // The registry keeps no CPR number.
      expect(JSON.stringify(await env.gateway.store.consents.get(consent.id))).not.toContain(c.cpr);
    });

    it('refuses a consent with unknown recipients or purposes, no data named, a past period or a CPR number in the evidence', async () => {
      const c = citizen();
      const res = await record(
        summonsConsent(c.cpr, {
          recipients: ['XYZ'],
          purposes: ['gossip'],
          categories: [],
          validTo: '2020-01-01',
          evidence: { kind: 'signed-form', reference: `form of ${c.cpr}` },
        }),
      );
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('REQUEST_INVALID');
      expect((res.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
        '/',
        '/evidence/reference',
        '/purposes/0',
        '/recipients/0',
        '/validTo',
      ]);
      expect(JSON.stringify(res.body)).not.toContain(c.cpr);
      expect(res.body.auditId).toEqual(expect.any(String)); // the refusal is audited
      const schema = await record({ ...summonsConsent(c.cpr), evidence: { kind: 'verbal', reference: 'x' } });
      expect(schema.status).toBe(400);
    });

    it("lets only caseworkers' systems record a consent", async () => {
      const res = await record(summonsConsent(citizen().cpr), 'dpo-console');
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN_ROLE');
    });

    it("shows the citizen's consents with their history, and records a withdrawal once", async () => {
      const c = citizen();
      const given = await record(summonsConsent(c.cpr));
      const id = given.body.consent.id as string;

      const wrongCitizen = await postAs(env.url, 'sof-case-system', `/v1/consents/${id}/withdraw`, { cpr: citizen().cpr });
      expect(wrongCitizen.status).toBe(404);
      expect(wrongCitizen.body.code).toBe('CONSENT_NOT_FOUND');

      const withdrawn = await postAs(env.url, 'sof-case-system', `/v1/consents/${id}/withdraw`, { cpr: c.cpr, reason: 'citizen-request' });
      expect(withdrawn.status).toBe(200);
      expect(withdrawn.body.consent).toMatchObject({ id, state: 'withdrawn' });
      expect((withdrawn.body.consent.events as { type: string }[]).map((e) => e.type)).toEqual(['given', 'withdrawn']);
      expect((await records(env, withdrawn.body.auditId)).map((r) => [r.kind, r.reasons, r.consent])).toEqual([
        ['consent', ['CONSENT_WITHDRAWAL'], given.body.consent.receiptDigest],
      ]);

      const twice = await postAs(env.url, 'sof-case-system', `/v1/consents/${id}/withdraw`, { cpr: c.cpr });
      expect(twice.status).toBe(409);
      expect(twice.body.code).toBe('CONSENT_ALREADY_WITHDRAWN');

      const found = await postAs(env.url, 'dpo-console', '/v1/consents/search', { cpr: c.cpr });
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
      expect((await postAs(env.url, 'dpo-console', '/v1/consents/search', { cpr: citizen().cpr })).body.consents).toEqual([]);
    });
  });

  describe('the summons copy (consent required)', () => {
    /** A citizen social services have a support contact person for (need to know); resolves the citizen and the relation's id. */
    async function contactCitizen() {
      const c = citizen();
      const [relation] = await withRelations(env, c.cpr, SUPPORT_CONTACT);
      return { ...c, relation: relation!.id };
    }

    /** Sends a summons copy and returns the answer; for a 202, waits until social services have it. */
    async function copy(cpr: string) {
      const res = await summons(cpr);
      const body = res.body as {
        auditId: string;
        code?: string;
        reasons?: string[];
        deliveries?: { status: string; deliveryId: string }[];
      };
      return { status: res.status, body, trail: await records(env, body.auditId) };
    }

    it('is refused, audited with the reason, when the citizen has given no consent', async () => {
      const c = await contactCitizen();
      const { status, body, trail } = await copy(c.cpr);
      expect(status).toBe(403);
      expect(body).toMatchObject({ code: 'CONSENT_REQUIRED', reasons: ['CONSENT_MISSING'] });
      expect(JSON.stringify(body)).not.toMatch(/no policy/i);
      expect(trail.map((r) => [r.kind, r.decision, r.reasons, r.recipient?.system, r.policy?.id])).toEqual([
        ['notification', 'deny', ['CONSENT_MISSING'], 'sof-case-system', 'bif-copies-summons-to-sof-contact'],
      ]);
      expect(sof().inbox.received.filter((n) => n.cpr === c.cpr)).toEqual([]);
    });

    it("is delivered while an active consent covers it, citing the consent's receipt; refused after the withdrawal", async () => {
      const c = await contactCitizen();
      const given = await record(summonsConsent(c.cpr));
      expect(given.status).toBe(201);
      const ok = await copy(c.cpr);
      expect(ok.status).toBe(202);
      expect(ok.trail.map((r) => [r.decision, r.reasons, r.consent])).toEqual([
        ['permit', queuedWith(c.relation), given.body.consent.receiptDigest],
      ]);
      const [got] = await waitFor('social services receive the copy', () => {
        const r = sof().inbox.received.filter((n) => n.auditId === ok.body.auditId);
        return r.length > 0 ? r : undefined;
      });
      expect(got).toMatchObject({ contract: 'employment.summons-copy.v1', cpr: c.cpr, policy: 'bif-copies-summons-to-sof-contact@2' });
      expect(Object.keys(got!.event).sort()).toEqual([...SUMMONS_FIELDS].sort());

      await postAs(env.url, 'sof-case-system', `/v1/consents/${given.body.consent.id}/withdraw`, { cpr: c.cpr });
      const refused = await copy(c.cpr);
      expect(refused.status).toBe(403);
      expect(refused.body.reasons).toEqual(['CONSENT_WITHDRAWN']);
      expect(refused.trail.map((r) => [r.decision, r.reasons])).toEqual([['deny', ['CONSENT_WITHDRAWN']]]);
    });

    it('is refused when the only consent covers another purpose', async () => {
      const c = await contactCitizen();
      expect((await record(summonsConsent(c.cpr, { purposes: ['plan-coordination'] }))).status).toBe(201);
      const { status, body } = await copy(c.cpr);
      expect(status).toBe(403);
      expect(body.reasons).toEqual(['CONSENT_SCOPE']);
    });

    it('is refused when the consent does not cover every kind of data released', async () => {
      const c = await contactCitizen();
      expect((await record(summonsConsent(c.cpr, { categories: ['employment'] }))).status).toBe(201);
      expect((await copy(c.cpr)).body.reasons).toEqual(['CONSENT_SCOPE']);
      // A consent naming the whole contract covers all its fields.
      expect((await record(summonsConsent(c.cpr, { categories: [], contracts: ['employment.summons-copy.v1'] }))).status).toBe(201);
      expect((await copy(c.cpr)).status).toBe(202);
    });

    it('is refused once the consent has expired', async () => {
      const c = await contactCitizen();
      // A consent given in 2024, for 2024: recorded then, expired now.
      const gw = env.gateway;
      const { consent } = await recordConsent(
        {
          consents: gw.store.consents,
          trail: gw.trail,
          pseudonyms: gw.pseudonyms,
          signingKey: gw.signingKey,
          gatewayId: gw.config.gatewayId,
          rules: () => gw.rules(),
        },
        {
          requestId: 'consent-e2e-expired',
          client: gw.rules().clients.byId('sof-case-system')!,
          token: {
            issuer: 'sof-case-system',
            caseworker: 'sof-cw-0042',
            purpose: 'summons-copy',
            caseRef: 'SOF-2024-0001',
            jti: 'x',
            expiresAt: new Date(),
            digest: 'x',
          },
        },
        summonsConsent(c.cpr, { validFrom: '2024-01-01', validTo: '2024-12-31' }),
        new Date('2024-03-01T10:00:00Z'),
      );
      const { status, body } = await copy(c.cpr);
      expect(status).toBe(403);
      expect(body.reasons).toEqual(['CONSENT_EXPIRED']);
      const found = await postAs(env.url, 'sof-case-system', '/v1/consents/search', { cpr: c.cpr });
      expect(found.body.consents[0]).toMatchObject({ id: consent.id, state: 'expired' });
      expect(
        (found.body.consents[0].events as { type: string; at: string; actor: unknown }[]).map((e) => [e.type, e.actor === null]),
      ).toEqual([
        ['given', false],
        ['expired', true],
      ]);
    });

    it('is cancelled, not delivered, when the consent is withdrawn while the copy waits in the outbox', async () => {
      const c = await contactCitizen();
      const given = await record(summonsConsent(c.cpr));
      await env.gateway.outbox.stop(); // hold deliveries back
      try {
        const queued = await copy(c.cpr);
        expect(queued.status).toBe(202);
        const id = queued.body.deliveries![0]!.deliveryId;
        await postAs(env.url, 'sof-case-system', `/v1/consents/${given.body.consent.id}/withdraw`, { cpr: c.cpr });
        await env.gateway.outbox.runOnce();
        expect(await env.gateway.store.outbox.get(id)).toMatchObject({ state: 'cancelled', payload: null, lastError: 'CONSENT_WITHDRAWN' });
        expect((await records(env, queued.body.auditId)).map((r) => [r.decision, r.reasons])).toEqual([
          ['permit', queuedWith(c.relation)],
          ['deny', ['CONSENT_WITHDRAWN', 'DELIVERY_CANCELLED']],
        ]);
        expect(sof().inbox.received.filter((n) => n.auditId === queued.body.auditId)).toEqual([]);
      } finally {
        await env.gateway.outbox.start();
      }
    });
  });

  it('lets the rehabilitation team read health data (efforts) only under an explicit consent for the contract', async () => {
    const c = citizen();
    const ask = () =>
      postAs(
        env.url,
        'bif-jobcentre-system',
        '/v1/queries/social.coordination-summary.v1',
        { cpr: c.cpr, fields: ['efforts'] },
        { purpose: 'rehabilitation-team-assessment' },
      );
    const before = await ask();
    expect(before.status).toBe(403);
    expect(before.body.reasons).toEqual(['CONSENT_MISSING']);
    const given = await record(
      summonsConsent(c.cpr, {
        recipients: ['BIF'],
        purposes: ['rehabilitation-team-assessment'],
        categories: [],
        contracts: ['social.coordination-summary.v1'],
      }),
      'bif-jobcentre-system',
    );
    expect(given.status).toBe(201);
    const after = await ask();
    expect(after.status).toBe(200);
    expect(after.body.disclosure.released).toEqual(['efforts']);
    const decision = (await records(env, after.body.disclosure.auditId)).find((r) => r.kind === 'decision')!;
    expect(decision.consent).toBe(given.body.consent.receiptDigest);
  });
});

describe('two gateway instances sharing one PostgreSQL', () => {
  let db: TestDatabase;
  let a: TestEnv;
  let b: TestEnv;
  beforeAll(async () => {
    db = await postgresDatabase('consent_two_instances');
    a = await notificationEnv('consent-instance-a', db.storeConfig, 'gw-a');
    b = await notificationEnv('consent-instance-b', db.storeConfig, 'gw-b');
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.cleanup();
  });

  it('a withdrawal on one instance stops the very next request on the other', async () => {
    const c = withJob[1200]!;
    await withRelations(a, c.cpr, SUPPORT_CONTACT);
    const given = await postAs(a.url, 'sof-case-system', '/v1/consents', summonsConsent(c.cpr));
    expect(given.status).toBe(201);
    const first = await emitNotification('summons-copy', c.cpr, { gatewayUrl: b.url, certsDir: TEST_CERTS });
    expect(first.status).toBe(202);

    const withdrawn = await postAs(a.url, 'sof-case-system', `/v1/consents/${given.body.consent.id}/withdraw`, { cpr: c.cpr });
    expect(withdrawn.status).toBe(200);
    const next = await emitNotification('summons-copy', c.cpr, { gatewayUrl: b.url, certsDir: TEST_CERTS });
    expect(next.status).toBe(403);
    expect((next.body as { reasons: string[] }).reasons).toEqual(['CONSENT_WITHDRAWN']);
  });

  it('denies with CONSENT_SOURCE_UNAVAILABLE when the consent look-up cannot answer in time (fail closed)', async () => {
    const c = withJob[1201]!;
    await withRelations(a, c.cpr, SUPPORT_CONTACT);
    expect((await postAs(a.url, 'sof-case-system', '/v1/consents', summonsConsent(c.cpr))).status).toBe(201);
    const locker = new pg.Client({ connectionString: (db.storeConfig as { url: string }).url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE consent IN ACCESS EXCLUSIVE MODE'); // readers wait
      const res = await emitNotification('summons-copy', c.cpr, { gatewayUrl: b.url, certsDir: TEST_CERTS });
      expect(res.status).toBe(403);
      expect((res.body as { reasons: string[] }).reasons).toEqual(['CONSENT_SOURCE_UNAVAILABLE']);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    // Once the registry answers again, so does the gateway.
    expect((await emitNotification('summons-copy', c.cpr, { gatewayUrl: b.url, certsDir: TEST_CERTS })).status).toBe(202);
  });
});
