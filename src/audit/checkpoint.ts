import { createPublicKey } from 'node:crypto';
import {
  CompactSign,
  calculateJwkThumbprint,
  compactVerify,
  decodeProtectedHeader,
  importJWK,
  importPKCS8,
  type CryptoKey,
  type JWK,
} from 'jose';
import { CodedError } from '../errors.js';
import { canonicalJson } from '../lib/digest.js';

/**
 * Signed checkpoints: at intervals the gateway signs, with its own ES256 key, the tree head of
 * its chain (RFC 6962-style Merkle root over records 1..seq) together with the hash of the
 * record at seq. Anyone holding the gateway's public key can check a checkpoint, an export
 * against it, or one record's inclusion proof; see docs/AUDIT.md.
 *
 * A checkpoint is a compact JWS: header { alg: "ES256", typ: CHECKPOINT_TYP, kid: RFC 7638
 * thumbprint of the public key }, payload the canonical JSON of a CheckpointPayload.
 */
export const CHECKPOINT_TYP = 'snitflade-checkpoint+jws';

export interface CheckpointPayload {
  readonly v: 1;
  /** The gateway id (token audience) of the gateway that signed. */
  readonly gateway: string;
  readonly chain: string;
  /** The tree size: the checkpoint covers records 1..seq of the chain. */
  readonly seq: number;
  /** Hex hash of the record at seq (the chain head). */
  readonly head: string;
  /** Hex Merkle root over the records 1..seq (leaf = SHA-256(0x00 || record hash)). */
  readonly root: string;
  /** The seq of the chain's previous checkpoint, 0 for the first: a removed checkpoint shows. */
  readonly prev: number;
  /** When it was signed, ISO 8601 UTC. */
  readonly time: string;
}

/**
 * An erasure under the purposes' retention is signed with the same key (src/audit/erasure.ts): a
 * compact JWS, header { alg: "ES256", typ: ERASURE_TYP, kid }, payload the canonical JSON of an
 * ErasurePayload. Its own typ keeps a checkpoint from passing for an erasure and back.
 */
export const ERASURE_TYP = 'snitflade-erasure+jws';

export interface ErasurePayload {
  readonly v: 1;
  /** The chain whose records it erases. */
  readonly chain: string;
  /** The admin record that documents it (AUDIT_ERASURE): where it stands, its audit id and its hash. */
  readonly admin: { readonly chain: string; readonly seq: number; readonly auditId: string; readonly hash: string };
  /** How many records it erases, and the digest of their erasure entries (erasureListDigest). */
  readonly erased: number;
  readonly digest: string;
  /** The export that holds the records whole. */
  readonly exportId: string;
  /** Per purpose, the retention in force and the cutoff it gave (ISO 8601 UTC). */
  readonly cutoffs: Readonly<Record<string, { readonly retention: string; readonly before: string }>>;
  /** The admin record's time, ISO 8601 UTC: the instant the cutoffs are checked against. */
  readonly time: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const CHAIN = /^[A-Za-z0-9._-]{1,64}$/;

/** A checkpoint that does not verify: bad signature, unknown key, or a malformed payload. */
export class CheckpointInvalidError extends CodedError {
  readonly code = 'ERR_AUDIT_CHECKPOINT_INVALID';
}

/** The public half of a checkpoint key, as published to whoever verifies. */
export interface CheckpointPublicKey {
  readonly kid: string;
  readonly jwk: JWK;
}

/** The public JWK and its RFC 7638 thumbprint (the kid) of an SPKI or PKCS#8 PEM. */
export async function publicKeyOf(pem: string): Promise<CheckpointPublicKey> {
  const jwk = createPublicKey(pem).export({ format: 'jwk' }) as JWK;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new TypeError('publicKeyOf: checkpoint keys are EC P-256 (ES256)');
  const pub: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  return { kid, jwk: { ...pub, kid, alg: 'ES256', use: 'sig' } };
}

/** Signs checkpoints with the gateway's key. */
export interface CheckpointSigner {
  readonly publicKey: CheckpointPublicKey;
  sign(payload: CheckpointPayload): Promise<string>;
  /** Signs an erasure (ERASURE_TYP) with the same key. */
  signErasure(payload: ErasurePayload): Promise<string>;
}

/**
 * The signer for the gateway's ES256 key (certs/gateway/signing.key.pem).
 *
 * @example
 * const signer = await checkpointSigner(readFileSync('certs/gateway/signing.key.pem', 'utf8'));
 */
export async function checkpointSigner(privatePem: string): Promise<CheckpointSigner> {
  const key: CryptoKey = await importPKCS8(privatePem, 'ES256');
  const publicKey = await publicKeyOf(privatePem);
  return {
    publicKey,
    async sign(payload) {
      checkPayload(payload);
      return new CompactSign(new TextEncoder().encode(canonicalJson(payload)))
        .setProtectedHeader({ alg: 'ES256', typ: CHECKPOINT_TYP, kid: publicKey.kid })
        .sign(key);
    },
    async signErasure(payload) {
      checkErasurePayload(payload);
      return new CompactSign(new TextEncoder().encode(canonicalJson(payload)))
        .setProtectedHeader({ alg: 'ES256', typ: ERASURE_TYP, kid: publicKey.kid })
        .sign(key);
    },
  };
}

const ISO = (t: unknown): boolean => typeof t === 'string' && !Number.isNaN(Date.parse(t)) && new Date(Date.parse(t)).toISOString() === t;

function checkErasurePayload(p: unknown): asserts p is ErasurePayload {
  const e = p as Partial<ErasurePayload> | null;
  const a = e?.admin as Partial<ErasurePayload['admin']> | null | undefined;
  const cutoffs = e?.cutoffs;
  const ok =
    e !== null &&
    typeof e === 'object' &&
    e.v === 1 &&
    typeof e.chain === 'string' &&
    CHAIN.test(e.chain) &&
    a !== null &&
    typeof a === 'object' &&
    typeof a.chain === 'string' &&
    CHAIN.test(a.chain) &&
    Number.isSafeInteger(a.seq) &&
    (a.seq as number) >= 1 &&
    typeof a.auditId === 'string' &&
    a.auditId.length > 0 &&
    typeof a.hash === 'string' &&
    HEX64.test(a.hash) &&
    Object.keys(a).length === 4 &&
    Number.isSafeInteger(e.erased) &&
    (e.erased as number) >= 1 &&
    typeof e.digest === 'string' &&
    HEX64.test(e.digest) &&
    typeof e.exportId === 'string' &&
    cutoffs !== null &&
    typeof cutoffs === 'object' &&
    !Array.isArray(cutoffs) &&
    Object.values(cutoffs).every(
      (c) =>
        c !== null &&
        typeof c === 'object' &&
        typeof c.retention === 'string' &&
        /^P[0-9YMWD]+$/.test(c.retention) &&
        ISO(c.before) &&
        Object.keys(c).length === 2,
    ) &&
    ISO(e.time) &&
    Object.keys(e).length === 8;
  if (!ok) throw new CheckpointInvalidError('the erasure payload is malformed');
}

function checkPayload(p: unknown): asserts p is CheckpointPayload {
  const c = p as Partial<CheckpointPayload> | null;
  const ok =
    c !== null &&
    typeof c === 'object' &&
    c.v === 1 &&
    typeof c.gateway === 'string' &&
    typeof c.chain === 'string' &&
    CHAIN.test(c.chain) &&
    Number.isSafeInteger(c.seq) &&
    (c.seq as number) >= 1 &&
    typeof c.head === 'string' &&
    HEX64.test(c.head) &&
    typeof c.root === 'string' &&
    HEX64.test(c.root) &&
    Number.isSafeInteger(c.prev) &&
    (c.prev as number) >= 0 &&
    (c.prev as number) < (c.seq as number) &&
    typeof c.time === 'string' &&
    !Number.isNaN(Date.parse(c.time)) &&
    Object.keys(c).length === 8;
  if (!ok) throw new CheckpointInvalidError('the checkpoint payload is malformed');
}

/**
 * Verifies checkpoints against the keys the gateway trusts: its own, and the public keys of
 * keys it used before (configured; never read from the database, which an attacker may hold).
 *
 * @example
 * const verifier = new CheckpointVerifier([signer.publicKey]);
 * const payload = await verifier.verify(jws); // throws CheckpointInvalidError
 */
export class CheckpointVerifier {
  readonly #keys = new Map<string, CheckpointPublicKey>();
  readonly #imported = new Map<string, Promise<CryptoKey | Uint8Array>>();
  /** Checkpoints verified lately (search results and proofs check the same few again and again). */
  readonly #verified = new Map<string, CheckpointPayload>();

  constructor(keys: readonly CheckpointPublicKey[]) {
    if (keys.length === 0) throw new TypeError('CheckpointVerifier: at least one key is needed');
    for (const k of keys) this.#keys.set(k.kid, k);
  }

  /** The trusted keys as a JWK Set (for exports and the offline verifier). */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.#keys.values()].map((k) => ({ ...k.jwk })) };
  }

  /** The payload of a checkpoint signed by a trusted key; throws CheckpointInvalidError otherwise. */
  async verify(jws: string): Promise<CheckpointPayload> {
    const cached = this.#verified.get(jws);
    if (cached !== undefined) return cached;
    const payload = await this.#verify(jws);
    if (this.#verified.size >= 256) this.#verified.delete(this.#verified.keys().next().value as string);
    this.#verified.set(jws, Object.freeze(payload));
    return payload;
  }

  /** The payload of an erasure signed by a trusted key (ERASURE_TYP); throws CheckpointInvalidError otherwise. */
  async verifyErasure(jws: string): Promise<ErasurePayload> {
    const payload = await this.#signed(jws, ERASURE_TYP, 'erasure', 65_536);
    checkErasurePayload(payload);
    return payload;
  }

  async #verify(jws: string): Promise<CheckpointPayload> {
    const payload = await this.#signed(jws, CHECKPOINT_TYP, 'checkpoint', 8192);
    checkPayload(payload);
    return payload;
  }

  /** The JSON payload of a compact JWS of this typ signed by a trusted key. */
  async #signed(jws: string, typ: string, what: string, maxLength: number): Promise<unknown> {
    if (typeof jws !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jws) || jws.length > maxLength) {
      throw new CheckpointInvalidError(`the ${what} is not a compact JWS`);
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(jws);
    } catch {
      throw new CheckpointInvalidError(`the ${what} header cannot be read`);
    }
    if (header.alg !== 'ES256' || header.typ !== typ || typeof header.kid !== 'string')
      throw new CheckpointInvalidError(`the ${what} header is not an ES256 snitflade ${what} header`);
    const known = this.#keys.get(header.kid);
    if (known === undefined)
      throw new CheckpointInvalidError(`the ${what} is signed with a key the gateway does not trust (kid ${header.kid.slice(0, 43)})`);
    let imported = this.#imported.get(known.kid);
    if (imported === undefined) {
      imported = importJWK({ kty: known.jwk.kty, crv: known.jwk.crv, x: known.jwk.x, y: known.jwk.y }, 'ES256');
      this.#imported.set(known.kid, imported);
    }
    let payloadBytes: Uint8Array;
    try {
      ({ payload: payloadBytes } = await compactVerify(jws, await imported, { algorithms: ['ES256'] }));
    } catch {
      throw new CheckpointInvalidError(`the ${what} signature does not verify`);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(new TextDecoder().decode(payloadBytes));
    } catch {
      throw new CheckpointInvalidError(`the ${what} payload is not JSON`);
    }
    return payload;
  }
}
