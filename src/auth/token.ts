import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { GatewayError } from '../errors.js';
import { mayHoldCpr } from '../lib/cpr.js';
import { sha256b64url } from '../lib/digest.js';
import type { ReplayCache } from '../store/types.js';
import { ReplayGuard } from './replay-guard.js';
import type { Client } from './clients.js';
import { signatureValid } from './jws.js';

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
  /** The token's key in the replay cache (client id and a digest of the jti); set by verifyRequestToken. */
  readonly replayKey?: string;
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
  /**
   * The replay check. A ReplayCache claims the jti durably before verification returns. A
   * ReplayGuard only reserves it in this process: the caller must then claim `replayKey` in the
   * commit of the request's first audit record (AuditTrail.append with `claim`), which refuses a
   * token used before on another instance or before a restart.
   */
  readonly replay: ReplayCache | ReplayGuard;
  readonly now?: Date;
}

const ALLOWED_ALGS = ['ES256', 'EdDSA'] as const;
const ALLOWED_HEADERS = new Set(['alg', 'typ', 'kid']);
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{2,4096}\.[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{0,1024}$/;
const CLAIM_SHAPE = /^[\x21-\x7e][\x20-\x7e]{0,199}$/; // printable ASCII, bounded
/**
 * A required string claim. `text` claims (those that reach the audit trail or a log: caseworker,
 * case, purpose, method) must not hold a CPR number in any written form (src/lib/cpr.ts); the
 * jti, the body digest and the path are exempt: a jti is stored only as its digest, htu only
 * compared with the request's path, and both may be random.
 */
function str(payload: JWTPayload, name: string, text = true): string {
  const v = payload[name];
  if (typeof v !== 'string' || !CLAIM_SHAPE.test(v) || (text && mayHoldCpr(v)))
    throw new GatewayError('TOKEN_CLAIM_MISSING', { reasons: [name] });
  return v;
}

const REQUIRED_CLAIMS = ['iss', 'aud', 'iat', 'exp', 'jti', 'sub'] as const;

/**
 * The registered claims, as jose's jwtVerify checks them (RFC 7519 4.1): the required ones are
 * present, the audience is this gateway, iat/nbf/exp are numbers, nbf is not in the future and
 * exp not in the past (both with the clock tolerance).
 */
function checkClaims(payload: JWTPayload, audience: string, nowSeconds: number, tolerance: number): void {
  for (const claim of REQUIRED_CLAIMS) if (!(claim in payload)) throw new GatewayError('TOKEN_CLAIM_MISSING');
  const aud = payload.aud;
  if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) throw new GatewayError('TOKEN_AUDIENCE_INVALID');
  if (typeof payload.iat !== 'number') throw new GatewayError('TOKEN_CLAIM_MISSING');
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== 'number') throw new GatewayError('TOKEN_CLAIM_MISSING');
    if (payload.nbf > nowSeconds + tolerance) throw new GatewayError('TOKEN_NOT_YET_VALID');
  }
  if (typeof payload.exp !== 'number') throw new GatewayError('TOKEN_CLAIM_MISSING');
  if (payload.exp <= nowSeconds - tolerance) throw new GatewayError('TOKEN_EXPIRED');
}

/**
 * Step 2, token: verifies the caller's signed request token against the key registered for the
 * client of this TLS connection, binds it to this exact request (method, path, body digest) and
 * claims its jti (see TokenCheck.replay). Throws GatewayError with a TOKEN_* code.
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

  // The signature first: nothing about the claims is told to a caller whose token is not signed.
  const dot = token.lastIndexOf('.');
  const signed = signatureValid(
    key.alg,
    Buffer.from(token.slice(0, dot), 'latin1'),
    key.key,
    Buffer.from(token.slice(dot + 1), 'base64url'),
  );
  if (!signed) throw new GatewayError('TOKEN_SIGNATURE_INVALID');
  const payload = unverified;
  const now = check.now ?? new Date();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  checkClaims(payload, check.audience, nowSeconds, check.clockToleranceSeconds);

  if (payload.iss !== check.client.id) throw new GatewayError('TOKEN_ISSUER_MISMATCH');
  const iat = payload.iat!;
  const exp = payload.exp!;
  if (iat > nowSeconds + check.clockToleranceSeconds) throw new GatewayError('TOKEN_NOT_YET_VALID');
  if (exp <= iat) throw new GatewayError('TOKEN_LIFETIME_INVALID');
  if (exp - iat > check.maxLifetimeSeconds) throw new GatewayError('TOKEN_LIFETIME_TOO_LONG');

  const caseworker = str(payload, 'sub');
  const purpose = str(payload, 'purpose');
  const caseRef = str(payload, 'case');
  const jti = str(payload, 'jti', false);
  const htm = str(payload, 'htm');
  // htu is only compared with this request's path, never stored or logged; a path may hold a
  // random id (a dead letter's UUID) with a CPR-shaped digit run.
  const htu = str(payload, 'htu', false);
  const bodyDigest = str(payload, 'body_sha256', false);
  if (htm !== check.method || htu !== check.path) throw new GatewayError('TOKEN_REQUEST_MISMATCH');
  if (bodyDigest !== sha256b64url(check.body)) throw new GatewayError('TOKEN_BODY_MISMATCH');

  // Claimed last, so a token that fails any other check does not burn its jti.
  const expiresAt = new Date((exp + check.clockToleranceSeconds) * 1000);
  const replayKey = `${check.client.id}:${sha256b64url(jti)}`;
  let fresh: boolean;
  if (check.replay instanceof ReplayGuard) {
    fresh = check.replay.reserve(replayKey, expiresAt.getTime(), now.getTime());
  } else {
    try {
      fresh = await check.replay.claim(replayKey, expiresAt);
    } catch (err) {
      // The replay cache lives in the same store as the trail: if it cannot write, neither can the trail.
      throw new GatewayError('AUDIT_UNAVAILABLE', {}, { cause: err });
    }
  }
  if (!fresh) throw new GatewayError('TOKEN_REPLAYED');

  return { issuer: check.client.id, caseworker, purpose, caseRef, jti, expiresAt, digest: sha256b64url(token), replayKey };
}
