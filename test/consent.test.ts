/**
 * The consent check itself: which consent covers which release, the reason given when none
 * does, the history shown, the receipt, and the consent source failing closed.
 */
import { generateKeyPair, type CryptoKey } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { ConsentLookupTimeoutError, ledgerConsentSource } from '../src/consent/registry.js';
import { receiptDigest, signReceipt, verifyReceipt, type ReceiptContent } from '../src/consent/receipt.js';
import { consentHistory, consentStatus, covers } from '../src/consent/status.js';
import type { ConsentRecord } from '../src/consent/types.js';
import { loadContracts } from '../src/contracts/registry.js';
import { checkConsent } from '../src/exchange/consent-check.js';
import type { ExchangeDeps } from '../src/exchange/deps.js';
import { assumedRelations, decide } from '../src/policy/evaluate.js';
import { loadPolicySet } from '../src/policy/loader.js';
import type { ConsentStore, StoredConsent } from '../src/store/consents.js';

const ROOT = process.cwd();
const pseudonyms = new Pseudonymizer({ keys: [{ id: 'k1', secret: randomBytes(32) }], current: 'k1' });
const CPR = '0101909901';
const NOON = (day: string) => new Date(`${day}T12:00:00Z`);
const actor = { system: 'sof-case-system', administration: 'SOF', caseworker: 'cw' };
/** A citizen-signed consent's evidence: the artefact it was recorded from. */
const SIGNED: ConsentRecord['evidence'] = {
  kind: 'citizen-signed',
  reference: 'demo-samtykke/a-1',
  artefact: {
    issuer: 'demo-samtykke',
    id: 'a-1',
    kid: 'k',
    digest: 'd',
    text: { template: 't', version: '1' },
    givenAt: '2025-01-01T08:00:00.000Z',
  },
};

function stored(
  scope: Partial<ConsentRecord['scope']> = {},
  state: 'active' | 'withdrawn' = 'active',
  recordedAt = '2025-01-01T09:00:00.000Z',
  evidence: ConsentRecord['evidence'] = SIGNED,
): StoredConsent {
  const consent: ConsentRecord = {
    id: randomUUID(),
    subject: pseudonyms.pseudonym(CPR),
    scope: {
      recipients: ['SOF'],
      sources: ['BIF'],
      purposes: ['summons-copy'],
      contracts: [],
      categories: ['employment', 'contact'],
      validFrom: '2025-01-01',
      validTo: '2025-12-31',
      ...scope,
    },
    evidence,
    recordedBy: actor,
    recordedAt,
    receipt: 'r',
    receiptDigest: `digest-${randomUUID()}`,
  };
  const events = [{ type: 'given' as const, at: recordedAt, actor, auditId: randomUUID(), reason: null }];
  if (state === 'withdrawn')
    events.push({
      type: 'withdrawn' as never,
      at: '2025-06-01T10:00:00.000Z',
      actor,
      auditId: randomUUID(),
      reason: 'citizen-request' as never,
    });
  return { consent, state, events };
}

/** Signed today: a consent given long ago runs at most its purpose's maximum (P1Y) from then. */
const GIVEN_TODAY: ConsentRecord['evidence'] = { ...SIGNED, artefact: { ...SIGNED.artefact!, givenAt: new Date().toISOString() } };

const ask = {
  recipient: 'SOF',
  source: 'BIF',
  caller: 'BIF',
  evidence: ['citizen-signed'] as const,
  purpose: 'summons-copy',
  contract: 'employment.summons-copy.v1',
  categories: ['employment', 'contact'] as ('employment' | 'contact')[],
  at: NOON('2025-06-15'),
};

describe('which consent covers a release', () => {
  it('an active consent for this recipient, purpose and every category covers it, and is cited', () => {
    const s = stored();
    expect(consentStatus([s], ask)).toEqual({
      status: 'active',
      consentId: s.consent.id,
      receiptDigest: s.consent.receiptDigest,
      level: 'citizen-signed',
    });
  });

  it('a consent naming the contract covers all its fields, whatever their category', () => {
    expect(covers(stored({ categories: [], contracts: ['employment.summons-copy.v1'] }).consent, ask)).toBe(true);
    expect(covers(stored({ categories: [], contracts: ['employment.sanction-notice.v1'] }).consent, ask)).toBe(false);
  });

  it('names the reason when nothing covers it: missing, withdrawn, expired, scope', () => {
    expect(consentStatus([], ask)).toEqual({ status: 'missing' });
    expect(consentStatus([stored({}, 'withdrawn')], ask).status).toBe('withdrawn');
    expect(consentStatus([stored({ validTo: '2025-06-14' })], ask).status).toBe('expired');
    expect(consentStatus([stored({ purposes: ['plan-coordination'] })], ask).status).toBe('scope');
    expect(consentStatus([stored({ recipients: ['BIF'] })], ask).status).toBe('scope');
    expect(consentStatus([stored({ categories: ['employment'] })], ask).status).toBe('scope');
    expect(consentStatus([stored({ validFrom: '2025-07-01' })], ask).status).toBe('scope'); // not yet in force
    // Only a withdrawn or expired consent for something else: nothing to point at.
    expect(consentStatus([stored({ purposes: ['plan-coordination'] }, 'withdrawn')], ask).status).toBe('missing');
  });

  it('an active consent wins over a withdrawn one; a withdrawal wins over an expiry', () => {
    const active = stored();
    expect(consentStatus([stored({}, 'withdrawn'), active], ask)).toMatchObject({ status: 'active', consentId: active.consent.id });
    expect(consentStatus([stored({ validTo: '2025-06-01' }), stored({}, 'withdrawn')], ask).status).toBe('withdrawn');
  });

  it('reads validity as Copenhagen dates, both ends inclusive', () => {
    const s = stored({ validFrom: '2025-03-01', validTo: '2025-03-31' });
    expect(consentStatus([s], { ...ask, at: new Date('2025-02-28T23:30:00Z') }).status).toBe('active'); // 00:30 on 1 March in Copenhagen
    expect(consentStatus([s], { ...ask, at: new Date('2025-02-28T22:30:00Z') }).status).toBe('scope');
    expect(consentStatus([s], { ...ask, at: new Date('2025-03-31T21:30:00Z') }).status).toBe('active'); // 23:30 on 31 March (summer time)
    expect(consentStatus([s], { ...ask, at: new Date('2025-03-31T22:30:00Z') }).status).toBe('expired');
  });

  it('shows the expiry in the history once the period has ended, without an actor', () => {
    const s = stored({ validTo: '2025-03-31' });
    expect(consentHistory(s, NOON('2025-03-31'))).toMatchObject({ state: 'active', events: [{ type: 'given' }] });
    const after = consentHistory(s, NOON('2025-04-01'));
    expect(after.state).toBe('expired');
    expect(after.events.map((e) => [e.type, e.actor === null])).toEqual([
      ['given', false],
      ['expired', true],
    ]);
    expect(after.events[1]!.at).toBe('2025-03-31T22:00:00.000Z'); // midnight in Copenhagen
    expect(consentHistory(stored({}, 'withdrawn'), NOON('2026-06-01')).events.map((e) => e.type)).toEqual(['given', 'withdrawn']);
  });
});

describe('consent receipts', () => {
  it('are a JWS over the consent that verifies with the gateway key, whose digest audit records cite', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const content: ReceiptContent = {
      v: 1,
      iss: 'snitflade-gateway',
      consentId: randomUUID(),
      subject: pseudonyms.pseudonym(CPR),
      scope: stored().consent.scope,
      evidence: { kind: 'digital', reference: 'MIT-1' },
      recordedBy: actor,
      recordedAt: new Date().toISOString(),
    };
    const { receipt, digest } = await signReceipt(privateKey, content);
    expect(digest).toBe(receiptDigest(receipt));
    expect(await verifyReceipt(receipt, publicKey)).toEqual(content);
    expect(receipt).not.toContain(CPR);
    const other = await generateKeyPair('ES256');
    await expect(verifyReceipt(receipt, other.publicKey)).rejects.toThrow();
  });
});

describe('the registry as a consent source', () => {
  const contracts = loadContracts(path.join(ROOT, 'schemas'));
  const policies = loadPolicySet({ dir: path.join(ROOT, 'policies'), contracts });
  const summons = {
    contract: 'employment.summons-copy.v1',
    administration: 'SOF',
    roles: ['caseworker-system'],
    purpose: 'summons-copy',
    requestedFields: ['meetingDate', 'caseworkerContact'],
    at: new Date(),
    provider: 'BIF',
    subjectAge: 40,
  };
  /** Need to know: social services have a support contact person for the citizen, as the summons copy policy requires. */
  const supportContact = assumedRelations([{ administration: 'SOF', capacity: 'support-contact-person' }]);

  function storeWith(bySubject: ConsentStore['bySubject']): ConsentStore {
    return { bySubject, add: async () => undefined, get: async () => undefined, withdraw: async () => 'not-found' };
  }
  const deps = (consent: ExchangeDeps['consent']) => ({ consent }) as unknown as ExchangeDeps;
  /** The consent service the stored citizen-signed consents came from, still trusted with the key they name. */
  const issuers = new Map([['demo-samtykke', { id: 'demo-samtykke', keys: new Map([['k', {} as CryptoKey]]) }]]);
  const viaPolicy = (source: ExchangeDeps['consent']) =>
    decide(
      policies,
      contracts,
      summons,
      (policy, fields) =>
        checkConsent(
          deps(source),
          CPR,
          { recipient: 'SOF', source: 'BIF', caller: 'BIF' },
          policy,
          summons.contract,
          fields.map((f) => contracts.get(summons.contract)!.fields[f]!.category),
          fields,
          summons.at,
        ),
      supportContact,
    );

  it('looks the citizen up by pseudonym under every key, never by CPR number', async () => {
    const seen: string[][] = [];
    const s = stored({ validTo: '2099-12-31' }, 'active', new Date().toISOString(), GIVEN_TODAY);
    const source = ledgerConsentSource(
      storeWith(async (subjects) => (seen.push([...subjects]), [s])),
      pseudonyms,
      { issuers },
    );
    const decision = await viaPolicy(source);
    expect(decision).toMatchObject({ decision: 'permit', consent: { status: 'active', consentId: s.consent.id } });
    expect(seen).toEqual([pseudonyms.all(CPR)]);
    expect(JSON.stringify(seen)).not.toContain(CPR);
  });

  it('fails closed: a look-up that times out or fails denies with CONSENT_SOURCE_UNAVAILABLE', async () => {
    const slow = ledgerConsentSource(
      storeWith(() => new Promise(() => undefined)),
      pseudonyms,
      { timeoutMs: 30, issuers },
    );
    await expect(
      slow.check({
        cpr: CPR,
        recipient: 'SOF',
        source: 'BIF',
        caller: 'BIF',
        evidence: ['citizen-signed'],
        purpose: 'summons-copy',
        contract: summons.contract,
        categories: ['employment'],
        fields: ['meetingDate'],
        at: new Date(),
      }),
    ).rejects.toBeInstanceOf(ConsentLookupTimeoutError);
    expect(await viaPolicy(slow)).toMatchObject({ decision: 'deny', reasons: ['CONSENT_SOURCE_UNAVAILABLE'] });
    const broken = ledgerConsentSource(
      storeWith(async () => Promise.reject(new Error('connection refused'))),
      pseudonyms,
      { issuers },
    );
    expect(await viaPolicy(broken)).toMatchObject({ decision: 'deny', reasons: ['CONSENT_SOURCE_UNAVAILABLE'] });
  });

  it('reads the store on every check: no answer outlives a withdrawal', async () => {
    let current = stored({ validTo: '2099-12-31' }, 'active', new Date().toISOString(), GIVEN_TODAY);
    const source = ledgerConsentSource(
      storeWith(async () => [current]),
      pseudonyms,
      { issuers },
    );
    expect((await viaPolicy(source)).decision).toBe('permit');
    current = { ...current, state: 'withdrawn' };
    expect(await viaPolicy(source)).toMatchObject({ decision: 'deny', reasons: ['CONSENT_WITHDRAWN'] });
  });
});
