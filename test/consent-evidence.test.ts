/**
 * Consent the recipient cannot forge: a consent service's signed artefact is verified (and a
 * forged, tampered, wrongly signed, expired or misdirected one refused), the evidence a policy
 * accepts decides whether a consent counts, and the consent source asks the consent services at
 * decision time, failing closed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { generateKeyPair, CompactSign } from 'jose';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { callerDenyReasons, denialCode } from '../src/audit/reasons.js';
import { ARTEFACT_TYPE, verifyArtefact, type ConsentIssuer } from '../src/consent/artefact.js';
import { ledgerConsentSource } from '../src/consent/registry.js';
import { consentStatus } from '../src/consent/status.js';
import type { ConsentQuery, ConsentRecord, ConsentService } from '../src/consent/types.js';
import { GatewayError } from '../src/errors.js';
import { addDuration, copenhagenDate } from '../src/policy/dates.js';
import { evidenceAccepted } from '../src/policy/evidence.js';
import type { Purpose } from '../src/policy/types.js';
import { addDays } from '../src/relations/register.js';
import type { StoredRelation } from '../src/relations/types.js';
import type { ConsentStore, StoredConsent } from '../src/store/consents.js';
import { artefactClaims, testIssuer, type TestIssuer } from './support/artefacts.js';

const CPR = '0101909901';
const OTHER_CPR = '0202909902';
const pseudonyms = new Pseudonymizer({ keys: [{ id: 'k1', secret: randomBytes(32) }], current: 'k1' });
const now = new Date();
const today = copenhagenDate(now);

let service: TestIssuer;
let issuers: Map<string, ConsentIssuer>;
beforeAll(async () => {
  service = await testIssuer('test-samtykke');
  issuers = new Map([[service.issuer.id, service.issuer]]);
});

/** The reason code a refusal carries. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('CONSENT_ARTEFACT_INVALID');
    expect(JSON.stringify((err as GatewayError).extras)).not.toContain(CPR);
    return (err as GatewayError).extras.reasons![0]!;
  }
  throw new Error('expected a refusal');
}

describe('a consent artefact', () => {
  it('verifies when the trusted service signed it for this citizen, and hands back its claims and digest', async () => {
    const jws = await service.sign(CPR);
    const v = await verifyArtefact(jws, issuers, CPR, now);
    expect(v.claims).toMatchObject({ iss: 'test-samtykke', sub: CPR, recipients: ['SOF'], sources: ['BIF'] });
    expect(v.digest).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(v.kid).toBe(service.kid);
  });

  it('is refused when forged under the same kid, tampered with, or signed by a service nobody trusts', async () => {
    const impostor = await generateKeyPair('ES256');
    const forged = await new CompactSign(new TextEncoder().encode(JSON.stringify(artefactClaims('test-samtykke', CPR))))
      .setProtectedHeader({ alg: 'ES256', typ: ARTEFACT_TYPE, kid: service.kid })
      .sign(impostor.privateKey);
    expect(await refusal(verifyArtefact(forged, issuers, CPR, now))).toBe('ARTEFACT_SIGNATURE_INVALID');

    const [h, , sig] = (await service.sign(CPR)).split('.');
    const wider = Buffer.from(JSON.stringify(artefactClaims('test-samtykke', CPR, { recipients: ['SOF', 'BIF'] }))).toString('base64url');
    expect(await refusal(verifyArtefact(`${h}.${wider}.${sig}`, issuers, CPR, now))).toBe('ARTEFACT_SIGNATURE_INVALID');

    const stranger = await testIssuer('elsewhere');
    expect(await refusal(verifyArtefact(await stranger.sign(CPR), issuers, CPR, now))).toBe('ARTEFACT_ISSUER_UNKNOWN');
    expect(await refusal(verifyArtefact(await service.sign(CPR, {}, { kid: 'other-kid' }), issuers, CPR, now))).toBe(
      'ARTEFACT_ISSUER_UNKNOWN',
    );
  });

  it('is refused with another type, algorithm or header, an unknown claim, or no data named', async () => {
    expect(await refusal(verifyArtefact(await service.sign(CPR, {}, { typ: 'JWT' }), issuers, CPR, now))).toBe('ARTEFACT_MALFORMED');
    expect(await refusal(verifyArtefact(await service.sign(CPR, {}, { jku: 'https://example.test/keys' }), issuers, CPR, now))).toBe(
      'ARTEFACT_MALFORMED',
    );
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: ARTEFACT_TYPE, kid: service.kid })).toString('base64url')}.${Buffer.from(
      JSON.stringify(artefactClaims('test-samtykke', CPR)),
    ).toString('base64url')}.`;
    expect(await refusal(verifyArtefact(none, issuers, CPR, now))).toBe('ARTEFACT_MALFORMED');
    expect(await refusal(verifyArtefact(await service.sign(CPR, { extra: 1 } as never), issuers, CPR, now))).toBe('ARTEFACT_MALFORMED');
    expect(await refusal(verifyArtefact(await service.sign(CPR, { categories: [], contracts: [] }), issuers, CPR, now))).toBe(
      'ARTEFACT_MALFORMED',
    );
    expect(await refusal(verifyArtefact('not.a.jws!', issuers, CPR, now))).toBe('ARTEFACT_MALFORMED');
  });

  it('is refused when its period has ended, it was signed in the future, or it names another citizen', async () => {
    const ended = await service.sign(CPR, { validFrom: addDays(today, -30), validTo: addDays(today, -1) });
    expect(await refusal(verifyArtefact(ended, issuers, CPR, now))).toBe('ARTEFACT_PERIOD_ENDED');
    const future = await service.sign(CPR, { iat: Math.floor(now.getTime() / 1000) + 3600 });
    expect(await refusal(verifyArtefact(future, issuers, CPR, now))).toBe('ARTEFACT_FROM_THE_FUTURE');
    expect(await refusal(verifyArtefact(await service.sign(OTHER_CPR), issuers, CPR, now))).toBe('ARTEFACT_SUBJECT_MISMATCH');
  });
});

describe('the evidence a policy accepts', () => {
  it('counts a caseworker record made by the recipient itself only when the policy accepts any caseworker record', () => {
    expect(evidenceAccepted(['citizen-signed'], 'citizen-signed', 'test-samtykke', { recipient: 'SOF', caller: 'SOF' })).toBe(true);
    expect(evidenceAccepted(['citizen-signed'], 'recorded-by-caseworker', 'BIF', { recipient: 'SOF', caller: 'SOF' })).toBe(false);
    expect(
      evidenceAccepted(['recorded-by-other-administration'], 'recorded-by-caseworker', 'SOF', { recipient: 'SOF', caller: 'SOF' }),
    ).toBe(false);
    expect(
      evidenceAccepted(['recorded-by-other-administration'], 'recorded-by-caseworker', 'BIF', { recipient: 'SOF', caller: 'SOF' }),
    ).toBe(true);
    expect(evidenceAccepted(['recorded-by-other-administration'], 'citizen-signed', 'x', { recipient: 'SOF', caller: 'SOF' })).toBe(false);
    expect(evidenceAccepted(['recorded-by-caseworker'], 'recorded-by-caseworker', 'SOF', { recipient: 'SOF', caller: 'SOF' })).toBe(true);
  });
});

const actor = (administration: string) => ({ system: `${administration.toLowerCase()}-system`, administration, caseworker: 'cw-1' });

function caseworkerRecord(over: Partial<ConsentRecord> = {}, scope: Partial<ConsentRecord['scope']> = {}): StoredConsent {
  const consent: ConsentRecord = {
    id: randomUUID(),
    subject: pseudonyms.pseudonym(CPR),
    scope: {
      recipients: ['BIF'],
      sources: ['SOF'],
      purposes: ['whole-person-plan'],
      contracts: [],
      categories: ['plan', 'health'],
      validFrom: today,
      validTo: addDays(today, 30),
      ...scope,
    },
    evidence: { kind: 'recorded-by-caseworker', reference: 'FORM-1', form: 'paper' },
    recordedBy: actor('BIF'),
    recordedAt: now.toISOString(),
    receipt: 'r',
    receiptDigest: `d-${randomUUID()}`,
    ...over,
  };
  return { consent, state: 'active', events: [] };
}

const healthAsk: Omit<ConsentQuery, 'cpr'> = {
  recipient: 'BIF',
  source: 'SOF',
  caller: 'BIF',
  evidence: ['citizen-signed', 'recorded-by-other-administration'],
  purpose: 'whole-person-plan',
  contract: 'social.whole-person-plan.v1',
  categories: ['plan', 'health'],
  fields: ['plan', 'goalAreas'],
  at: now,
};

describe('which consent counts', () => {
  it("answers `evidence` for the recipient's own paper record where the policy wants more, and permits another administration's", () => {
    expect(consentStatus([caseworkerRecord()], healthAsk)).toEqual({ status: 'evidence' });
    const bySof = caseworkerRecord({ recordedBy: actor('SOF') });
    expect(consentStatus([caseworkerRecord(), bySof], healthAsk)).toMatchObject({
      status: 'active',
      consentId: bySof.consent.id,
      level: 'recorded-by-caseworker',
    });
  });

  it('covers only the sources it names; a record from before sources were named covers any', () => {
    const bySof = { recordedBy: actor('SOF') };
    expect(consentStatus([caseworkerRecord(bySof, { sources: ['SUF'] })], healthAsk).status).toBe('scope');
    const legacy = caseworkerRecord(bySof);
    const { sources: _dropped, ...withoutSources } = legacy.consent.scope;
    expect(consentStatus([{ ...legacy, consent: { ...legacy.consent, scope: withoutSources } }], healthAsk).status).toBe('active');
  });

  it("reads a record made before evidence levels ('signed-form', 'digital') as a caseworker's record", () => {
    const old = caseworkerRecord({ evidence: { kind: 'digital', reference: 'MIT-1' } });
    expect(consentStatus([old], healthAsk).status).toBe('evidence');
  });

  it('ends with the case relation it is tied to', () => {
    const tied = caseworkerRecord({ recordedBy: actor('SOF'), relation: randomUUID() });
    expect(consentStatus([{ ...tied, relationEnded: true }], healthAsk).status).toBe('expired');
  });
});

describe('the consent source with a consent service', () => {
  const summonsAsk: ConsentQuery = {
    cpr: CPR,
    recipient: 'SOF',
    source: 'BIF',
    caller: 'BIF',
    evidence: ['citizen-signed'],
    purpose: 'summons-copy',
    contract: 'employment.summons-copy.v1',
    categories: ['employment', 'contact'],
    fields: ['meetingDate', 'caseworkerContact'],
    at: now,
  };
  const purposes = new Map<string, Purpose>([
    [
      'summons-copy',
      {
        id: 'summons-copy',
        title: { da: 's', en: 's' },
        description: { da: '', en: '' },
        legalBases: [],
        retention: 'P5Y',
        consentMaxDuration: 'P1Y',
      },
    ],
  ]);
  const storeOf = (list: StoredConsent[]): ConsentStore => ({
    bySubject: async () => list,
    add: async () => undefined,
    get: async () => undefined,
    withdraw: async () => 'not-found',
  });
  const serviceOf = (answer: () => Promise<readonly string[]>, asked: string[] = []): ConsentService => ({
    issuer: 'test-samtykke',
    inForce: async (cpr) => {
      asked.push(cpr);
      return answer();
    },
  });
  const source = (list: StoredConsent[], svc: ConsentService, extra: Parameters<typeof ledgerConsentSource>[2] = {}) =>
    ledgerConsentSource(storeOf(list), pseudonyms, { issuers, services: [svc], purposes: () => purposes, timeoutMs: 2000, ...extra });

  it('permits on an artefact the service holds in force, citing its digest, without it being recorded', async () => {
    const jws = await service.sign(CPR);
    const answer = await source(
      [],
      serviceOf(async () => [jws]),
    ).check(summonsAsk);
    const digest = (await verifyArtefact(jws, issuers, CPR, now)).digest;
    expect(answer).toEqual({
      status: 'active',
      consentId: expect.stringMatching(/^test-samtykke\//),
      receiptDigest: digest,
      level: 'citizen-signed',
    });
  });

  it('honours a withdrawal at the service: a recorded artefact the service no longer holds counts as withdrawn', async () => {
    const jws = await service.sign(CPR);
    const v = await verifyArtefact(jws, issuers, CPR, now);
    const recorded: StoredConsent = {
      consent: {
        ...caseworkerRecord().consent,
        scope: {
          recipients: ['SOF'],
          sources: ['BIF'],
          purposes: ['summons-copy'],
          contracts: [],
          categories: ['employment', 'contact'],
          validFrom: today,
          validTo: addDays(today, 30),
        },
        evidence: {
          kind: 'citizen-signed',
          reference: `test-samtykke/${v.claims.jti}`,
          artefact: {
            issuer: 'test-samtykke',
            id: v.claims.jti,
            kid: v.kid,
            digest: v.digest,
            text: v.claims.text,
            givenAt: v.claims.givenAt,
          },
        },
      },
      state: 'active',
      events: [],
    };
    expect(
      (
        await source(
          [recorded],
          serviceOf(async () => [jws]),
        ).check(summonsAsk)
      ).status,
    ).toBe('active');
    expect(
      (
        await source(
          [recorded],
          serviceOf(async () => []),
        ).check(summonsAsk)
      ).status,
    ).toBe('withdrawn');
  });

  it('ignores what does not verify: a forged artefact, or one for another citizen', async () => {
    const stranger = await testIssuer('test-samtykke');
    const answers = [await stranger.sign(CPR), await service.sign(OTHER_CPR)];
    expect(
      (
        await source(
          [],
          serviceOf(async () => answers),
        ).check(summonsAsk)
      ).status,
    ).toBe('missing');
  });

  it('fails closed when the service fails, unless another consent permits on its own', async () => {
    const down = serviceOf(() => Promise.reject(new Error('connect ECONNREFUSED')));
    expect(await source([], down).check(summonsAsk)).toEqual({ status: 'unavailable' });
    const paper = caseworkerRecord(
      { recordedBy: actor('BIF') },
      { recipients: ['SOF'], sources: ['BIF'], purposes: ['summons-copy'], categories: ['employment', 'contact'] },
    );
    const lenient = { ...summonsAsk, evidence: ['citizen-signed', 'recorded-by-caseworker'] as const };
    expect((await source([paper], down).check(lenient)).status).toBe('active');
    const hanging = serviceOf(() => new Promise(() => undefined));
    await expect(source([], hanging, { timeoutMs: 50 }).check(summonsAsk)).rejects.toThrow(/did not answer within 50 ms/);
  });

  it('does not ask the service when the policy does not accept citizen-signed consent', async () => {
    const asked: string[] = [];
    await source(
      [],
      serviceOf(async () => [], asked),
    ).check({ ...summonsAsk, evidence: ['recorded-by-caseworker'] });
    expect(asked).toEqual([]);
  });

  it("counts an artefact's period only up to its purpose's maximum consent duration", async () => {
    const old = await service.sign(CPR, {
      validFrom: addDays(today, -400),
      validTo: addDays(today, 400),
      givenAt: new Date(now.getTime() - 400 * 86_400_000).toISOString(),
    });
    expect(
      (
        await source(
          [],
          serviceOf(async () => [old]),
        ).check(summonsAsk)
      ).status,
    ).toBe('expired');
  });

  it('ends a consent tied to a case relation when the relation has ended', async () => {
    const relationId = randomUUID();
    const tied = caseworkerRecord(
      { recordedBy: actor('BIF'), relation: relationId },
      { recipients: ['SOF'], sources: ['BIF'], purposes: ['summons-copy'], categories: ['employment', 'contact'] },
    );
    const relation = (to: string | null): StoredRelation =>
      ({
        relation: { id: relationId, subject: tied.consent.subject, from: addDays(today, -100), to, endReason: to ? 'case-closed' : null },
        events: [],
      }) as unknown as StoredRelation;
    const lenient = { ...summonsAsk, evidence: ['recorded-by-caseworker'] as const };
    const withRelation = (to: string | null) =>
      source(
        [tied],
        serviceOf(async () => []),
        { relations: { get: async () => relation(to) } },
      ).check(lenient);
    expect((await withRelation(null)).status).toBe('active');
    expect((await withRelation(addDays(today, -1))).status).toBe('expired');
  });
});

describe('what a caller hears', () => {
  it('never whether a consent exists or existed: every such reason becomes CONSENT_NOT_IN_FORCE', () => {
    expect(callerDenyReasons(['CONSENT_WITHDRAWN'])).toEqual(['CONSENT_NOT_IN_FORCE']);
    expect(callerDenyReasons(['CONSENT_SCOPE', 'CONSENT_EXPIRED', 'CONSENT_EVIDENCE_NOT_ACCEPTED', 'CONSENT_MISSING'])).toEqual([
      'CONSENT_NOT_IN_FORCE',
    ]);
    expect(callerDenyReasons(['CONSENT_SOURCE_UNAVAILABLE'])).toEqual(['CONSENT_SOURCE_UNAVAILABLE']);
    expect(callerDenyReasons(['RELATION_MISSING', 'CONSENT_SCOPE'])).toEqual(['RELATION_MISSING', 'CONSENT_NOT_IN_FORCE']);
    expect(denialCode(callerDenyReasons(['CONSENT_WITHDRAWN']))).toBe('CONSENT_REQUIRED');
  });
});

describe('calendar arithmetic for consent periods', () => {
  it('adds years, months, weeks and days as a calendar does', () => {
    expect(addDuration('2026-03-01', 'P1Y')).toBe('2027-03-01');
    expect(addDuration('2024-02-29', 'P1Y')).toBe('2025-02-28');
    expect(addDuration('2025-01-31', 'P1M')).toBe('2025-02-28');
    expect(addDuration('2025-12-20', 'P2W')).toBe('2026-01-03');
    expect(addDuration('2025-12-31', 'P1D')).toBe('2026-01-01');
    expect(() => addDuration('2025-12-31', '1Y')).toThrow(TypeError);
  });
});
