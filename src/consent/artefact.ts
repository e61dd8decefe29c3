import { compactVerify, errors as joseErrors, type CryptoKey } from 'jose';
import { bodyValidator } from '../contracts/ajv.js';
import type { Administration, DataCategory } from '../contracts/types.js';
import { GatewayError } from '../errors.js';
import { sha256b64url, sha256hex } from '../lib/digest.js';
import { copenhagenDate, isCalendarDate } from '../policy/dates.js';
import { CONSENT_SCOPE_PROPERTIES, PRINTABLE, consentGiverSchema } from './requests.js';
import type { ConsentGiver } from './types.js';

/**
 * A consent artefact: the consent a citizen gave at a consent service (in Denmark, Digitalt
 * Samtykke, with MitID), signed by that service. The recipient of the data cannot make one: it
 * does not hold the service's key. docs/consent-and-notifications.md describes the format; the
 * gateway's demo has a simulated consent service that issues them (src/simulators/consent-service.ts).
 *
 * A compact JWS, ES256, protected header `{alg: 'ES256', typ: ARTEFACT_TYPE, kid}`, whose
 * payload holds the claims below. It names the citizen by CPR number (`sub`): the gateway checks
 * it against the request and never stores it.
 */
export const ARTEFACT_TYPE = 'consent-artefact+jwt';

/** The claims of a consent artefact. Dates are Copenhagen calendar dates, both inclusive. */
export interface ArtefactClaims {
  /** The consent service's id, as configured in `consent.issuers`. */
  readonly iss: string;
  /** The artefact's id at the service: a consent is recorded at most once per (iss, jti). */
  readonly jti: string;
  /** The citizen's CPR number. Checked, never stored. */
  readonly sub: string;
  /** When the service signed it, seconds since the epoch. */
  readonly iat: number;
  /** The administrations that may receive the data. */
  readonly recipients: readonly Administration[];
  /** The administrations the data may come from. */
  readonly sources: readonly Administration[];
  readonly purposes: readonly string[];
  readonly contracts?: readonly string[];
  readonly categories?: readonly DataCategory[];
  readonly validFrom: string;
  readonly validTo: string;
  /** The consent text shown to the citizen: the service's template and its version. */
  readonly text: { readonly template: string; readonly version: string };
  /** When the citizen (or their representative) gave it, ISO 8601 UTC. */
  readonly givenAt: string;
  /** Who gave it: the citizen, or a guardian, a holder of a power of attorney or a parent with custody. */
  readonly givenBy: ConsentGiver;
}

/** One trusted consent service: its id (`iss`) and its public keys by `kid`. */
export interface ConsentIssuer {
  readonly id: string;
  readonly keys: ReadonlyMap<string, CryptoKey>;
}

/** How far an artefact's `iat` and `givenAt` may lie in the future (clocks differ). */
const CLOCK_SKEW_MS = 60_000;

export const artefactClaimsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['iss', 'jti', 'sub', 'iat', 'recipients', 'sources', 'purposes', 'validFrom', 'validTo', 'text', 'givenAt', 'givenBy'],
  properties: {
    iss: PRINTABLE(100),
    jti: PRINTABLE(128),
    sub: { type: 'string', format: 'cpr' },
    iat: { type: 'integer', minimum: 0, maximum: 1e11 },
    ...CONSENT_SCOPE_PROPERTIES,
    validFrom: { type: 'string', format: 'date', maxLength: 10 },
    validTo: { type: 'string', format: 'date', maxLength: 10 },
    text: {
      type: 'object',
      additionalProperties: false,
      required: ['template', 'version'],
      properties: { template: PRINTABLE(100), version: PRINTABLE(40) },
    },
    givenAt: { type: 'string', format: 'date-time', maxLength: 40 },
    givenBy: consentGiverSchema,
  },
} as const;

const validateClaims = bodyValidator({ claims: artefactClaimsSchema }, { allErrors: false });

/** Why an artefact was refused: the reason CONSENT_ARTEFACT_INVALID carries. Never names the citizen. */
export const ARTEFACT_REFUSAL = {
  malformed: 'ARTEFACT_MALFORMED', // not a compact JWS with the artefact's header and claims
  issuerUnknown: 'ARTEFACT_ISSUER_UNKNOWN', // `iss` is not a trusted consent service, or `kid` is not one of its keys
  signature: 'ARTEFACT_SIGNATURE_INVALID', // the signature does not verify under the issuer's key
  notYetSigned: 'ARTEFACT_FROM_THE_FUTURE', // `iat` or `givenAt` lies in the future
  period: 'ARTEFACT_PERIOD_ENDED', // the period ends before it starts, or has ended
  subject: 'ARTEFACT_SUBJECT_MISMATCH', // `sub` is not the citizen the request names
} as const;
export type ArtefactRefusal = keyof typeof ARTEFACT_REFUSAL;

/** An artefact that verified, with its digest (base64url SHA-256 of the compact JWS). */
export interface VerifiedArtefact {
  readonly claims: ArtefactClaims;
  readonly digest: string;
  readonly kid: string;
}

/** CONSENT_ARTEFACT_INVALID with the reason's code. */
function refuseArtefact(reason: ArtefactRefusal): GatewayError {
  return new GatewayError('CONSENT_ARTEFACT_INVALID', { reasons: [ARTEFACT_REFUSAL[reason]] });
}

/**
 * Verifies a consent artefact: compact JWS, `typ` ARTEFACT_TYPE, ES256 only, `iss` a trusted
 * issuer and `kid` one of its keys, the signature, the claims' schema, `iat` and `givenAt` not
 * in the future, a real period that has not ended on the day of `now`, and `sub` the citizen
 * `cpr`. Throws GatewayError CONSENT_ARTEFACT_INVALID with the reason's code (ARTEFACT_REFUSAL) otherwise.
 *
 * @example
 *   const { claims, digest } = await verifyArtefact(jws, issuers, body.cpr, new Date());
 */
export async function verifyArtefact(
  jws: string,
  issuers: ReadonlyMap<string, ConsentIssuer>,
  cpr: string,
  now: Date,
): Promise<VerifiedArtefact> {
  const parts = jws.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw refuseArtefact('malformed');
  const header = decodeJson(parts[0]!);
  const unverified = decodeJson(parts[1]!);
  if (header?.typ !== ARTEFACT_TYPE || header.alg !== 'ES256' || typeof header.kid !== 'string') throw refuseArtefact('malformed');
  if (Object.keys(header).some((k) => !['alg', 'typ', 'kid'].includes(k))) throw refuseArtefact('malformed');
  const issuer = typeof unverified?.iss === 'string' ? issuers.get(unverified.iss) : undefined;
  const key = issuer?.keys.get(header.kid);
  if (!issuer || !key) throw refuseArtefact('issuerUnknown');
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jws, key, { algorithms: ['ES256'] }));
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw refuseArtefact('signature');
    throw refuseArtefact('malformed');
  }
  let claims: ArtefactClaims;
  try {
    claims = validateClaims<ArtefactClaims>('claims', JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)));
  } catch {
    throw refuseArtefact('malformed');
  }
  const latest = now.getTime() + CLOCK_SKEW_MS;
  const givenAt = Date.parse(claims.givenAt);
  if (Number.isNaN(givenAt)) throw refuseArtefact('malformed');
  if (claims.iat * 1000 > latest || givenAt > latest) throw refuseArtefact('notYetSigned');
  if (!isCalendarDate(claims.validFrom) || !isCalendarDate(claims.validTo)) throw refuseArtefact('malformed');
  if (claims.validTo < claims.validFrom || claims.validTo < copenhagenDate(now)) throw refuseArtefact('period');
  if (claims.sub !== cpr) throw refuseArtefact('subject');
  if ((claims.contracts ?? []).length === 0 && (claims.categories ?? []).length === 0) throw refuseArtefact('malformed');
  return { claims, digest: artefactDigest(jws), kid: header.kid };
}

/**
 * The registry id of the consent recorded from an artefact: derived from its issuer and id (a
 * UUID in form), so that the registry's primary key records an artefact at most once, and the
 * record of an artefact is found by one exact read, however many consents the citizen has.
 */
export function artefactConsentId(iss: string, jti: string): string {
  const h = sha256hex(`consent-artefact\u0000${iss}\u0000${jti}`);
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** base64url SHA-256 of the compact artefact: what the gateway's receipt and audit records cite. */
export function artefactDigest(jws: string): string {
  return sha256b64url(jws);
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
