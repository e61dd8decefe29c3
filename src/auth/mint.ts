import { randomUUID } from 'node:crypto';
import { SignJWT, importPKCS8, type CryptoKey } from 'jose';
import { sha256b64url } from '../lib/digest.js';

export interface MintOptions {
  readonly clientId: string;
  readonly kid?: string;
  /** PKCS8 PEM of the client's signing key, or an imported key. */
  readonly key: string | CryptoKey;
  readonly alg?: 'ES256' | 'EdDSA';
  readonly audience: string;
  readonly caseworker: string;
  readonly purpose: string;
  readonly caseRef: string;
  readonly method: string;
  readonly path: string;
  readonly body: string | Uint8Array;
  readonly lifetimeSeconds?: number;
  readonly now?: Date;
  readonly jti?: string;
}

/**
 * Mints a request token as a calling system would: used by `snitflade token`, the tests, the
 * benchmark and the demo. Not used by the gateway to authorise anything.
 *
 * @example
 * const token = await mintRequestToken({ clientId: 'sof-case-system', key: pem, audience: 'snitflade-gateway',
 *   caseworker: 'sof-cw-0042', purpose: 'plan-coordination', caseRef: 'SOF-2026-0001',
 *   method: 'POST', path: '/v1/queries/employment.citizen-status.v1', body });
 */
export async function mintRequestToken(o: MintOptions): Promise<string> {
  const alg = o.alg ?? 'ES256';
  const key = typeof o.key === 'string' ? await importPKCS8(o.key, alg) : o.key;
  const iat = Math.floor((o.now ?? new Date()).getTime() / 1000);
  const header: { alg: string; typ: string; kid?: string } = { alg, typ: 'JWT' };
  if (o.kid !== undefined) header.kid = o.kid;
  return new SignJWT({
    purpose: o.purpose,
    case: o.caseRef,
    htm: o.method,
    htu: o.path,
    body_sha256: sha256b64url(o.body),
  })
    .setProtectedHeader(header)
    .setIssuer(o.clientId)
    .setSubject(o.caseworker)
    .setAudience(o.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (o.lifetimeSeconds ?? 60))
    .setJti(o.jti ?? randomUUID())
    .sign(key);
}
