import { CompactSign, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { ARTEFACT_TYPE, type ArtefactClaims, type ConsentIssuer } from '../../src/consent/artefact.js';
import { copenhagenDate } from '../../src/policy/dates.js';
import { addDays } from '../../src/relations/register.js';

/** A consent service's key for tests: the issuer the gateway trusts, and a signer of artefacts under it. */
export interface TestIssuer {
  readonly issuer: ConsentIssuer;
  readonly privateKey: CryptoKey;
  readonly kid: string;
  /** Signs claims (the defaults of artefactClaims, overridden) with this issuer's key. */
  sign(cpr: string, over?: Partial<ArtefactClaims>, header?: Record<string, unknown>): Promise<string>;
}

let serial = 0;

/** The claims of a summons-copy consent for `cpr`, given now, from today for 180 days. */
export function artefactClaims(iss: string, cpr: string, over: Partial<ArtefactClaims> = {}, now = new Date()): ArtefactClaims {
  const today = copenhagenDate(now);
  return {
    iss,
    jti: `artefact-${process.pid}-${++serial}`,
    sub: cpr,
    iat: Math.floor(now.getTime() / 1000) - 5,
    recipients: ['SOF'],
    sources: ['BIF'],
    purposes: ['summons-copy'],
    categories: ['employment', 'contact'],
    validFrom: today,
    validTo: addDays(today, 180),
    text: { template: 'test-consent', version: '1' },
    givenAt: new Date(now.getTime() - 5000).toISOString(),
    givenBy: { role: 'citizen' },
    ...over,
  };
}

/** A new ES256 key pair as a trusted consent service `id`. */
export async function testIssuer(id = 'test-samtykke'): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = (await exportJWK(publicKey)).x!.slice(0, 16);
  const sign = (key: CryptoKey, payload: unknown, header: Record<string, unknown>) =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header as never).sign(key);
  return {
    issuer: { id, keys: new Map([[kid, publicKey]]) },
    privateKey,
    kid,
    sign: (cpr, over = {}, header = {}) =>
      sign(privateKey, artefactClaims(id, cpr, over), { alg: 'ES256', typ: ARTEFACT_TYPE, kid, ...header }),
  };
}
