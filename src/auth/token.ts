import { decodeJwt, decodeProtectedHeader, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { GatewayError, type ErrorCode } from '../errors.js';
import { sha256b64url } from '../lib/digest.js';
import type { ReplayCache } from '../store/types.js';
import type { Client } from './clients.js';

/** The claims of a verified request token. */
export interface RequestToken {
  readonly issuer: string; // client id
  readonly caseworker: string; // sub
  readonly purpose: string;
  readonly caseRef: string; // case
  readonly jti: string;
  readonly expiresAt: Date;
  /** SHA-256 of the token itself, kept in the audit trail as evidence. */
  readonly digest: string;
}

export interface TokenCheck {
  readonly authorization: string | undefined;
  readonly client: Client;
  readonly method: string;
  readonly path: string;
  readonly body: Uint8Array;
  readonly audience: string;
  readonly maxLifetimeSeconds: number;
  readonly clockToleranceSeconds: number;
  readonly replay: ReplayCache;
  readonly now?: Date;
}

const ALLOWED_ALGS = ['ES256', 'EdDSA'] as const;
const ALLOWED_HEADERS = new Set(['alg', 'typ', 'kid']);
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{2,4096}\.[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{0,1024}$/;
const CLAIM_SHAPE = /^[\x21-\x7e][\x20-\x7e]{0,199}$/; // printable ASCII, bounded
/** Caseworker ids and case references go into the audit trail: they must not carry a CPR number. */
const CPR_LIKE = /(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])/;

function str(payload: JWTPayload, name: string): string {
  const v = payload[name];
  if (typeof v !== 'string' || !CLAIM_SHAPE.test(v) || CPR_LIKE.test(v)) throw new GatewayError('TOKEN_CLAIM_MISSING', { reasons: [name] });
  return v;
}

function joseToCode(err: unknown): ErrorCode {
  if (err instanceof joseErrors.JWTExpired) return 'TOKEN_EXPIRED';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'TOKEN_AUDIENCE_INVALID';
    if (err.claim === 'iat' || err.claim === 'nbf') return err.reason === 'check_failed' ? 'TOKEN_NOT_YET_VALID' : 'TOKEN_CLAIM_MISSING';
    return 'TOKEN_CLAIM_MISSING';
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'TOKEN_ALG_NOT_ALLOWED';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'TOKEN_SIGNATURE_INVALID';
  return 'TOKEN_MALFORMED';
}

/**
 * Step 2, token: verifies the caller's signed request token against the key registered for the
 * client of this TLS connection, binds it to this exact request (method, path, body digest) and
 * claims its jti in the durable replay cache. Throws GatewayError with a TOKEN_* code.
 */
export async function verifyRequestToken(check: TokenCheck): Promise<RequestToken> {
  const header = check.authorization;
  if (header === undefined || header === '') throw new GatewayError('TOKEN_MISSING');
  const match = /^Bearer ([^\s]+)$/.exec(header);
  if (!match || !TOKEN_SHAPE.test(match[1]!)) throw new GatewayError('TOKEN_MALFORMED');
  const token = match[1]!;

  let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
  try {
    protectedHeader = decodeProtectedHeader(token);
  } catch {
    throw new GatewayError('TOKEN_MALFORMED');
  }
  if (typeof protectedHeader.alg !== 'string' || !(ALLOWED_ALGS as readonly string[]).includes(protectedHeader.alg)) {
    throw new GatewayError('TOKEN_ALG_NOT_ALLOWED');
  }
  for (const name of Object.keys(protectedHeader)) {
    if (!ALLOWED_HEADERS.has(name)) throw new GatewayError('TOKEN_HEADER_NOT_ALLOWED');
  }
  // A token of another client on this connection is named as such before any key is tried.
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(token);
  } catch {
    throw new GatewayError('TOKEN_MALFORMED');
  }
  if (unverified.iss !== undefined && unverified.iss !== check.client.id) throw new GatewayError('TOKEN_ISSUER_MISMATCH');

  const keys = check.client.signingKeys;
  const key = protectedHeader.kid !== undefined ? keys.find((k) => k.kid === protectedHeader.kid) : keys.length === 1 ? keys[0] : undefined;
  if (!key) throw new GatewayError('TOKEN_KEY_UNKNOWN');
  if (key.alg !== protectedHeader.alg) throw new GatewayError('TOKEN_ALG_NOT_ALLOWED');

  const now = check.now ?? new Date();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      audience: check.audience,
      clockTolerance: check.clockToleranceSeconds,
      currentDate: now,
      requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', 'sub'],
    }));
  } catch (err) {
    throw new GatewayError(joseToCode(err));
  }

  if (payload.iss !== check.client.id) throw new GatewayError('TOKEN_ISSUER_MISMATCH');
  const iat = payload.iat!;
  const exp = payload.exp!;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (iat > nowSeconds + check.clockToleranceSeconds) throw new GatewayError('TOKEN_NOT_YET_VALID');
  if (exp - iat > check.maxLifetimeSeconds) throw new GatewayError('TOKEN_LIFETIME_TOO_LONG');

  const caseworker = str(payload, 'sub');
  const purpose = str(payload, 'purpose');
  const caseRef = str(payload, 'case');
  const jti = str(payload, 'jti');
  const htm = str(payload, 'htm');
  const htu = str(payload, 'htu');
  const bodyDigest = str(payload, 'body_sha256');
  if (htm !== check.method || htu !== check.path) throw new GatewayError('TOKEN_REQUEST_MISMATCH');
  if (bodyDigest !== sha256b64url(check.body)) throw new GatewayError('TOKEN_BODY_MISMATCH');

  // Claimed last, so a token that fails any other check does not burn its jti.
  const expiresAt = new Date((exp + check.clockToleranceSeconds) * 1000);
  let fresh: boolean;
  try {
    fresh = await check.replay.claim(`${check.client.id}:${jti}`, expiresAt);
  } catch (err) {
    // The replay cache lives in the same store as the trail: if it cannot write, neither can the trail.
    throw new GatewayError('AUDIT_UNAVAILABLE', {}, { cause: err });
  }
  if (!fresh) throw new GatewayError('TOKEN_REPLAYED');

  return { issuer: check.client.id, caseworker, purpose, caseRef, jti, expiresAt, digest: sha256b64url(token) };
}
