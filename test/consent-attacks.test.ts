/**
 * Attacks on consent from a compromised case system (issue 18's review), each shown refused: an
 * outsider recording (or narrowing) a citizen's signed consent to silence it for the real
 * recipients, flooding a citizen with records to push a withdrawal out of sight, relying on an
 * issuer no longer trusted, a period stretched by a late start, and a sender recording a paper
 * consent that unlocks its own notification. A real SQLite store; the consent service's answer is
 * given directly (its HTTP client is tested in consent-service.test.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair } from 'jose';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { recordConsent, withdrawConsent, type ConsentCaller, type ConsentRegistryDeps } from '../src/consent/records.js';
import { ledgerConsentSource } from '../src/consent/registry.js';
import type { ConsentQuery, ConsentService } from '../src/consent/types.js';
import { GatewayError } from '../src/errors.js';
import { copenhagenDate } from '../src/policy/dates.js';
import { evidenceAccepted } from '../src/policy/evidence.js';
import type { Purpose } from '../src/policy/types.js';
import { addDays } from '../src/relations/register.js';
import type { Rules } from '../src/rules/types.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import { testIssuer, type TestIssuer } from './support/artefacts.js';

const pseudonyms = new Pseudonymizer({ keys: [{ id: 'k1', secret: randomBytes(32) }], current: 'k1' });
const today = copenhagenDate(new Date());
const purpose = (id: string): Purpose => ({
  id,
  title: { da: id, en: id },
  description: { da: '', en: '' },
  legalBases: [],
  retention: 'P5Y',
  consentMaxDuration: 'P1Y',
});
const purposes = new Map([
  ['summons-copy', purpose('summons-copy')],
  ['plan-coordination', purpose('plan-coordination')],
]);
const rules = {
  policies: { digest: 'x', purposes, administrations: new Map(['SOF', 'BIF', 'SUF'].map((a) => [a, {}])) },
  contracts: { get: () => undefined },
  clients: { clients: [] },
} as unknown as Rules;
const caller = (administration: string): ConsentCaller =>
  ({
    requestId: randomUUID(),
    client: { id: `${administration.toLowerCase()}-system`, administration, roles: ['caseworker-system'] },
    token: {
      issuer: 'x',
      caseworker: 'cw',
      purpose: 'summons-copy',
      caseRef: 'R-1',
      jti: randomUUID(),
      expiresAt: new Date(),
      digest: 'd',
    },
  }) as unknown as ConsentCaller;
const summonsAsk = (cpr: string): ConsentQuery => ({
  cpr,
  recipient: 'SOF',
  source: 'BIF',
  caller: 'BIF',
  evidence: ['citizen-signed'],
  purpose: 'summons-copy',
  contract: 'employment.summons-copy.v1',
  categories: ['employment', 'contact'],
  fields: ['meetingDate'],
  at: new Date(),
});

let store: Store;
let svc: TestIssuer;
let deps: ConsentRegistryDeps;
beforeAll(async () => {
  store = await openStore({
    kind: 'sqlite',
    file: path.join(mkdtempSync(path.join(tmpdir(), 'snitflade-consent-attacks-')), 'db.sqlite'),
  } as never);
  svc = await testIssuer('test-samtykke');
  deps = {
    consents: store.consents,
    trail: { appendMany: async (e: unknown[]) => e, append: async (e: unknown) => e } as never,
    pseudonyms,
    signingKey: (await generateKeyPair('ES256')).privateKey,
    gatewayId: 'gw',
    rules: () => rules,
    issuers: new Map([[svc.issuer.id, svc.issuer]]),
    relations: { get: async () => undefined },
  };
});
afterAll(async () => store?.close());

const holding = (held: string[]): ConsentService => ({ issuer: 'test-samtykke', inForce: async () => held });
const sourceWith = (held: string[], issuers = deps.issuers) =>
  ledgerConsentSource(store.consents, pseudonyms, { issuers, services: [holding(held)], timeoutMs: 60_000, purposes: () => purposes });

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return (err as GatewayError).code;
}

it('an administration the consent does not name cannot record it, and nobody can record an artefact narrowed', async () => {
  const cpr = '0101909901';
  const jws = await svc.sign(cpr); // recipients SOF, sources BIF
  expect(await refusal(recordConsent(deps, caller('SUF'), { cpr, evidence: { kind: 'citizen-signed', artefact: jws } }))).toBe(
    'CONSENT_NOT_A_PARTY',
  );
  expect(
    await refusal(
      recordConsent(deps, caller('SOF'), { cpr, categories: ['contact'], evidence: { kind: 'citizen-signed', artefact: jws } }),
    ),
  ).toBe('REQUEST_INVALID');
  expect((await sourceWith([jws]).check(summonsAsk(cpr))).status).toBe('active');
  // Nor a caseworker's record for a flow the recorder is no party to.
  const paper = {
    cpr,
    recipients: ['SOF'],
    sources: ['BIF'],
    purposes: ['summons-copy'],
    categories: ['employment'],
    validFrom: today,
    validTo: addDays(today, 30),
    evidence: { kind: 'recorded-by-caseworker', reference: 'F-outsider', form: 'paper' },
  };
  expect(await refusal(recordConsent(deps, caller('SUF'), paper))).toBe('CONSENT_NOT_A_PARTY');
});

it('a withdrawal in the registry stays in force however many records are added for the citizen', async () => {
  const cpr = '0202909902';
  const jws = await svc.sign(cpr);
  const { consent } = await recordConsent(deps, caller('SOF'), { cpr, evidence: { kind: 'citizen-signed', artefact: jws } });
  await withdrawConsent(deps, caller('SOF'), consent.id, { cpr });
  expect((await sourceWith([jws]).check(summonsAsk(cpr))).status).toBe('withdrawn');
  for (let i = 0; i < 1000; i++) {
    await recordConsent(deps, caller('BIF'), {
      cpr,
      recipients: ['BIF'],
      sources: ['SOF'],
      purposes: ['plan-coordination'],
      categories: ['contact'],
      validFrom: today,
      validTo: addDays(today, 30),
      evidence: { kind: 'recorded-by-caseworker', reference: `F-${i}`, form: 'paper' },
    });
  }
  expect((await sourceWith([jws]).check(summonsAsk(cpr))).status).not.toBe('active');
});

it('a recorded citizen-signed consent is not relied on once its issuer is no longer trusted', async () => {
  const cpr = '0303909903';
  const jws = await svc.sign(cpr);
  await recordConsent(deps, caller('SOF'), { cpr, evidence: { kind: 'citizen-signed', artefact: jws } });
  const distrusted = ledgerConsentSource(store.consents, pseudonyms, { issuers: new Map(), services: [], timeoutMs: 5000 });
  expect((await distrusted.check(summonsAsk(cpr))).status).not.toBe('active');
});

it('a late start does not stretch a consent: its maximum counts from the day it was given', async () => {
  const cpr = '0404909904';
  const paper = (validFrom: string, validTo: string) =>
    recordConsent(deps, caller('SOF'), {
      cpr,
      recipients: ['SOF'],
      sources: ['BIF'],
      purposes: ['summons-copy'],
      categories: ['employment'],
      validFrom,
      validTo,
      evidence: { kind: 'recorded-by-caseworker', reference: 'F-late', form: 'paper' },
    });
  expect(await refusal(paper(addDays(today, 1500), addDays(today, 1800)))).toBe('CONSENT_PERIOD_NOT_ALLOWED');
  expect((await paper(addDays(today, 30), addDays(today, 300))).consent.state).toBe('active');
});

it('a paper consent recorded by the sender of a notification is not "another administration" for it', () => {
  // Sender BIF pushes to recipient SOF: BIF's own record would unlock BIF's own notification.
  expect(evidenceAccepted(['recorded-by-other-administration'], 'recorded-by-caseworker', 'BIF', { recipient: 'SOF', caller: 'BIF' })).toBe(
    false,
  );
  // A query by BIF of SOF's data: SOF (the provider, not the caller) recording it counts.
  expect(evidenceAccepted(['recorded-by-other-administration'], 'recorded-by-caseworker', 'SOF', { recipient: 'BIF', caller: 'BIF' })).toBe(
    true,
  );
});
