import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { GatewayConfig } from '../../config/config.js';
import { canonicalJson, sha256b64url } from '../../lib/digest.js';
import { LoadError } from '../../lib/load-error.js';

/**
 * The approvers the gateway trusts to sign policies (`policies.approvers` in the configuration):
 * each with its public keys, read from PEM SPKI files in the certificate folder. The keys decide
 * the algorithm: EC P-256 signs ES256, Ed25519 signs EdDSA; no other key, and so no other
 * algorithm, is accepted.
 */

/** The configuration of signed policies: `policies` in GatewayConfig. */
export type ApprovalSettings = GatewayConfig['policies'];

/** The algorithms an approval may be signed with: the allow-list. */
export const APPROVAL_ALGS = ['ES256', 'EdDSA'] as const;
export type ApprovalAlg = (typeof APPROVAL_ALGS)[number];

export interface ApproverKey {
  readonly alg: ApprovalAlg;
  readonly key: KeyObject;
  /** The file as configured. */
  readonly file: string;
  /** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key, to name it in messages and logs. */
  readonly thumbprint: string;
}

export interface Approver {
  readonly id: string;
  readonly title: string;
  readonly keys: readonly ApproverKey[];
}

/** The configured approvers by id. */
export type Approvers = ReadonlyMap<string, Approver>;

const SETTING = 'configuration';

/**
 * The configured approvers with their keys. Every problem (a missing or unreadable file, a private
 * key, a key of another kind) is a LoadError at the setting; all of them are returned, none thrown.
 *
 * @example
 *   const { approvers, errors } = readApprovers(config.policies, config.paths.certs);
 */
export function readApprovers(settings: ApprovalSettings, certs: string): { approvers: Approvers; errors: LoadError[] } {
  const approvers = new Map<string, Approver>();
  const errors: LoadError[] = [];
  for (const [i, a] of settings.approvers.entries()) {
    const keys: ApproverKey[] = [];
    for (const [k, { file }] of a.publicKeys.entries()) {
      const found = readKey(certs, file, `/policies/approvers/${i}/publicKeys/${k}/file`, a.id);
      if (found instanceof LoadError) errors.push(found);
      else keys.push(found);
    }
    approvers.set(a.id, Object.freeze({ id: a.id, title: a.title, keys: Object.freeze(keys) }));
  }
  return { approvers, errors };
}

/** Whether the approvers' key files could be there at all: the certificate folder exists. */
export function certificateFolderExists(certs: string): boolean {
  return existsSync(certs);
}

/** The algorithm a key signs with, or undefined for a key no approval may use. */
export function algorithmOf(key: KeyObject): ApprovalAlg | undefined {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  return undefined;
}

/** The kind of a key, in words, for a message. */
export function keyKind(key: KeyObject): string {
  if (key.asymmetricKeyType === 'ec') return `an EC key on ${key.asymmetricKeyDetails?.namedCurve ?? 'an unknown curve'}`;
  return `a${key.asymmetricKeyType === 'rsa' ? 'n' : ''} ${key.asymmetricKeyType ?? 'unknown'} key`;
}

/** RFC 7638 thumbprint of a public key (EC or OKP), base64url SHA-256. */
export function thumbprintOf(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return sha256b64url(canonicalJson(members));
}

function readKey(certs: string, file: string, where: string, approver: string): ApproverKey | LoadError {
  const full = path.resolve(certs, file);
  let pem: string;
  try {
    pem = readFileSync(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return new LoadError(
      SETTING,
      where,
      `${full} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; it should hold the public key of approver "${approver}" (PEM, "BEGIN PUBLIC KEY"; relative paths are in the certificate folder ${certs})`,
    );
  }
  // createPublicKey would take a private key too: refuse it, it does not belong with the gateway.
  if (!/^-----BEGIN PUBLIC KEY-----\r?\n/.test(pem.trimStart())) {
    const found = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
    return new LoadError(
      SETTING,
      where,
      `${full} is ${found ? `a PEM "${found}"` : 'not PEM'}, not a public key; give approver "${approver}"'s public key as PEM SPKI ("BEGIN PUBLIC KEY")` +
        (found?.includes('PRIVATE') ? '; the private key stays with the approver, never with the gateway or in the repository' : ''),
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return new LoadError(SETTING, where, `${full} is not a readable PEM public key; give approver "${approver}"'s public key as PEM SPKI`);
  }
  const alg = algorithmOf(key);
  if (alg === undefined)
    return new LoadError(
      SETTING,
      where,
      `${full} is ${keyKind(key)}; an approver's key is EC P-256 (ES256) or Ed25519 (EdDSA): make approver "${approver}" a new key pair of one of those kinds`,
    );
  return Object.freeze({ alg, key, file, thumbprint: thumbprintOf(key) });
}
