import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import type { ConsentIssuerConfig, GatewayConfig } from '../config/config.js';
import { LoadError } from '../lib/load-error.js';
import { createUpstreamAgent } from '../upstream/provider.js';
import type { ConsentIssuer } from './artefact.js';
import { inForceClient, type InForceClient } from './in-force-client.js';

/**
 * The consent services the municipality trusts (`consent.issuers` in the configuration): their
 * public keys, to verify consent artefacts (src/consent/artefact.ts), and clients for their
 * in-force look-up (src/consent/in-force-client.ts). Loaded once at start-up; a setting that
 * cannot be used stops start-up with a LoadError naming it.
 */

const SETTING = 'configuration';
/** A JWKS file is a short list of public keys; anything larger is not one. */
const MAX_JWKS_BYTES = 256 * 1024;

/** What start-up logs about a trusted key: never the key itself. */
export interface TrustedKeyNote {
  readonly issuer: string;
  readonly kid: string;
  /** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key. */
  readonly thumbprint: string;
}

export interface LoadConsentIssuersOptions {
  /** Told about every key trusted, with its fingerprint (for the operational log). */
  readonly onKey?: (note: TrustedKeyNote) => void;
}

/**
 * The trusted consent services by issuer id, each with its public keys by `kid`: PEM SPKI files
 * (`publicKeys`) and/or a JWKS file (`jwksFile`), relative files in the certificate folder. Only
 * EC P-256 keys for ES256 are accepted; a missing or unreadable file, another kind of key, a
 * private key, a JWKS key without `kid` or with another `alg`, and a `kid` given twice each stop
 * start-up with a LoadError at the setting. Async because keys are imported as WebCrypto keys.
 *
 * @example
 *   const issuers = await loadConsentIssuers(config);
 *   const { claims } = await verifyArtefact(jws, issuers, cpr, new Date());
 */
export async function loadConsentIssuers(
  config: GatewayConfig,
  options: LoadConsentIssuersOptions = {},
): Promise<ReadonlyMap<string, ConsentIssuer>> {
  const issuers = new Map<string, ConsentIssuer>();
  for (const [i, issuer] of config.consent.issuers.entries()) {
    const at = `/consent/issuers/${i}`;
    const keys = new Map<string, CryptoKey>();
    const add = async (kid: string, key: KeyObject, where: string): Promise<void> => {
      if (keys.has(kid))
        throw new LoadError(SETTING, where, `the key id "${kid}" of consent service "${issuer.id}" is given twice; each kid names one key`);
      const jwk = key.export({ format: 'jwk' }) as JWK;
      keys.set(kid, (await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, 'ES256')) as CryptoKey);
      options.onKey?.({ issuer: issuer.id, kid, thumbprint: await calculateJwkThumbprint(jwk, 'sha256') });
    };
    for (const [k, { kid, file }] of (issuer.publicKeys ?? []).entries()) {
      await add(kid, readSpki(config, issuer, `${at}/publicKeys/${k}/file`, file), `${at}/publicKeys/${k}/kid`);
    }
    if (issuer.jwksFile !== undefined) {
      for (const { kid, key } of readJwks(config, issuer, `${at}/jwksFile`, issuer.jwksFile)) await add(kid, key, `${at}/jwksFile`);
    }
    issuers.set(issuer.id, Object.freeze({ id: issuer.id, keys }));
  }
  return issuers;
}

/** The gateway's TLS identity towards consent services: its client certificate and key, and the CA it trusts by default. */
export interface ConsentServiceTls {
  readonly cert: string;
  readonly key: string;
  /** The CA that signs a service's certificate unless its `caFile` names another (the gateway's own, ca/ca.crt.pem). */
  readonly ca: string;
}

/**
 * A client for each trusted consent service with a `url`: the in-force look-up over mutual TLS
 * with the gateway's client certificate (an agent as for provider systems, src/upstream), trusting
 * the service's `caFile` or else `tls.ca`, bounded by `consent.timeoutMs` and the caller's signal.
 * `close()` on each frees its connections. An unreadable `caFile` or an unusable `url` is a
 * LoadError at the setting.
 *
 * @example
 *   const services = consentServices(config, issuers, { cert, key, ca });
 *   const artefacts = await services[0].inForce(cpr, AbortSignal.timeout(config.consent.timeoutMs));
 */
export function consentServices(
  config: GatewayConfig,
  issuers: ReadonlyMap<string, ConsentIssuer>,
  tls: ConsentServiceTls,
): InForceClient[] {
  const clients: InForceClient[] = [];
  for (const [i, issuer] of config.consent.issuers.entries()) {
    if (issuer.url === undefined) continue;
    if (!issuers.has(issuer.id)) throw new TypeError(`consentServices: the consent service "${issuer.id}" is not among the loaded issuers`);
    const url = checkUrl(issuer.url, `/consent/issuers/${i}/url`);
    const ca = issuer.caFile === undefined ? tls.ca : readCa(config, `/consent/issuers/${i}/caFile`, issuer.caFile);
    clients.push(
      inForceClient({
        issuer: issuer.id,
        url,
        agent: createUpstreamAgent({ cert: tls.cert, key: tls.key, ca }),
        timeoutMs: config.consent.timeoutMs,
      }),
    );
  }
  return clients;
}

function resolve(config: GatewayConfig, file: string): string {
  return path.resolve(config.paths.certs, file);
}

function readSetting(config: GatewayConfig, where: string, file: string, what: string): string {
  const full = resolve(config, file);
  try {
    return readFileSync(full, 'utf8');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'does not exist'
        : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new LoadError(
      SETTING,
      where,
      `${full} ${reason}; it should hold ${what} (relative paths are in the certificate folder ${config.paths.certs})`,
    );
  }
}

/** An EC P-256 public key, or a LoadError saying what the key is instead. */
function p256(key: KeyObject, where: string, what: string, issuer: ConsentIssuerConfig): KeyObject {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const kind =
      key.asymmetricKeyType === 'ec'
        ? `an EC key on ${curve ?? 'an unknown curve'}`
        : `a${key.asymmetricKeyType === 'rsa' ? 'n' : ''} ${key.asymmetricKeyType ?? 'unknown'} key`;
    throw new LoadError(
      SETTING,
      where,
      `${what} is ${kind}; consent artefacts are ES256, so consent service "${issuer.id}" must publish EC P-256 keys (ask it for its ES256 public key)`,
    );
  }
  return key;
}

function readSpki(config: GatewayConfig, issuer: ConsentIssuerConfig, where: string, file: string): KeyObject {
  const pem = readSetting(config, where, file, `the public key of consent service "${issuer.id}" (PEM, "BEGIN PUBLIC KEY")`);
  const full = resolve(config, file);
  // A private key would be accepted by createPublicKey: refuse it, it does not belong in a trust setting.
  if (!/^-----BEGIN PUBLIC KEY-----\r?\n/.test(pem.trimStart())) {
    const found = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
    throw new LoadError(
      SETTING,
      where,
      `${full} is ${found ? `a PEM "${found}"` : 'not PEM'}, not a public key; give the consent service's public key as PEM SPKI ("BEGIN PUBLIC KEY")` +
        (found?.includes('PRIVATE') ? ', and keep the private key away from the gateway' : ''),
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new LoadError(SETTING, where, `${full} is not a readable PEM public key; give the consent service's public key as PEM SPKI`);
  }
  return p256(key, where, full, issuer);
}

function readJwks(config: GatewayConfig, issuer: ConsentIssuerConfig, where: string, file: string): { kid: string; key: KeyObject }[] {
  const full = resolve(config, file);
  const text = readSetting(config, where, file, `the JWKS of consent service "${issuer.id}" ({"keys": [...]})`);
  const bad = (problem: string): LoadError => new LoadError(SETTING, where, `${full}: ${problem}`);
  if (text.length > MAX_JWKS_BYTES) throw bad(`larger than ${MAX_JWKS_BYTES} bytes; a JWKS holds a few public keys`);
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw bad('not JSON; a JWKS is {"keys": [...]} (RFC 7517)');
  }
  const list = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0)
    throw bad('not a JWKS with keys; expected {"keys": [{"kty": "EC", "crv": "P-256", "kid": ..., "x": ..., "y": ...}]}');
  return list.map((entry: unknown, n) => {
    const jwk = (entry ?? {}) as Record<string, unknown>;
    const kid = jwk.kid;
    const label = `key ${n}${typeof kid === 'string' ? ` (kid "${kid.slice(0, 128)}")` : ''}`;
    if (typeof kid !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(kid)) {
      throw bad(`${label} has no kid (1-128 printable characters); every key must have one, as artefacts name their key by kid`);
    }
    if (jwk.d !== undefined)
      throw bad(`${label} is a private key (it has "d"); publish only public keys, and keep the private key away from the gateway`);
    if (jwk.alg !== undefined && jwk.alg !== 'ES256') throw bad(`${label} is for alg ${shown(jwk.alg)}; only ES256 keys are accepted`);
    if (jwk.use !== undefined && jwk.use !== 'sig')
      throw bad(`${label} has use "${shown(jwk.use)}"; only signing keys ("sig") are accepted`);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
    } catch {
      throw bad(`${label} is not a usable public key (kty ${shown(jwk.kty)}); only EC P-256 keys for ES256 are accepted`);
    }
    return { kid, key: p256(key, where, `${full} ${label}`, issuer) };
  });
}

/** A JWKS member's value as a message may show it: a short string, or what type it is. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, 20) : value === undefined ? 'missing' : typeof value;
}

type JsonWebKeyInput = Extract<Parameters<typeof createPublicKey>[0], { format: 'jwk' }>;

function readCa(config: GatewayConfig, where: string, file: string): string {
  const pem = readSetting(config, where, file, "the PEM certificate of the CA that signs the consent service's TLS certificate");
  try {
    new X509Certificate(pem);
  } catch {
    throw new LoadError(
      SETTING,
      where,
      `${resolve(config, file)} is not a PEM certificate; give the CA certificate that signs the consent service's TLS certificate`,
    );
  }
  return pem;
}

function checkUrl(value: string, where: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LoadError(SETTING, where, 'not a URL; give the base address of the consent service, e.g. https://samtykke.example.dk');
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new LoadError(
      SETTING,
      where,
      'must be an https:// base address without credentials, query or fragment; the gateway adds /v1/consents/in-force and sends the CPR number only in the body',
    );
  }
  return url.href;
}
