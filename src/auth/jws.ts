import { KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import type { CryptoKey } from 'jose';

/**
 * Compact JWS signing and signature checks on the request path, with Node's one-shot
 * crypto.sign and crypto.verify, synchronously. jose signs and verifies through WebCrypto, which
 * in Node 20 sends every operation to the libuv thread pool: on a busy 2-core machine the hop
 * there and back cost more than the signature itself (bench/README.md). For the same reason the
 * callback forms of crypto.sign and crypto.verify are not used: tried, they raised the gateway's
 * CPU and its median latency at 500 requests/s.
 */

export type JwsAlg = 'ES256' | 'EdDSA';

/** The registered keys as Node KeyObjects, converted once per key. */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

function keyObjectOf(key: CryptoKey): KeyObject {
  let k = keyObjects.get(key);
  if (k === undefined) {
    k = KeyObject.from(key);
    keyObjects.set(key, k);
  }
  return k;
}

/**
 * Whether `signature` (the JWS encoding: r || s for ES256, RFC 7518 3.4; 64 bytes for Ed25519)
 * signs `input` under `key`. Never throws: a key or signature the algorithm cannot use is "no".
 */
export function signatureValid(alg: JwsAlg, input: Buffer, key: CryptoKey, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  try {
    return alg === 'ES256'
      ? nodeVerify('sha256', input, { key: keyObjectOf(key), dsaEncoding: 'ieee-p1363' }, signature)
      : nodeVerify(null, input, keyObjectOf(key), signature);
  } catch {
    return false;
  }
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** The encoded protected header of an ES256 compact JWS: made once by a signer, used for every token. */
export function jwsHeader(header: { readonly alg: 'ES256'; readonly typ?: string; readonly kid?: string }): string {
  return encode(header);
}

/**
 * A compact JWS (RFC 7515 7.1) of `payload` under the protected header `header` (from
 * jwsHeader), signed ES256 with `key`: what jose's SignJWT(...).sign(key) produces for the same
 * header and claims.
 */
export function signCompactEs256(header: string, payload: Readonly<Record<string, unknown>>, key: CryptoKey): string {
  const input = `${header}.${encode(payload)}`;
  const signature = nodeSign('sha256', Buffer.from(input, 'latin1'), { key: keyObjectOf(key), dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}
