import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPair, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createCa } from './ca.js';
import { issueCertificate } from './issue.js';
import { readIfExists, writeIfAbsent } from './lib/files.js';
import { newRsaKey } from './lib/x509.js';
import { GATEWAY_ID, SYSTEM_ID, devPkiPaths, type DevPkiPaths, type SystemPaths } from './layout.js';
import type { CertificateAuthority, ExtendedKeyUsage } from './types.js';

export { createCa, type CaOptions } from './ca.js';
export { issueCertificate, type IssueOptions } from './issue.js';
export { createCrl, type CrlOptions } from './crl.js';
export { certificateInfo, type CertificateInfo } from './info.js';
export { devPkiPaths, systemPaths, type DevPkiPaths, type GatewayPaths, type SystemPaths } from './layout.js';
export type { CertificateAuthority, ExtendedKeyUsage, IssuedCertificate } from './types.js';

/**
 * The development PKI: a private CA, the gateway's TLS certificate and ES256 signing key, the
 * pseudonym key, a TLS certificate and signing key per client/provider system, and, when asked
 * for, the simulated consent service's TLS certificate and artefact-signing key. Generated
 * into the git-ignored certs/ folder on first start and in tests; production uses the
 * municipality's own PKI and keys instead (see certs.example/README.md).
 */

const generateKeyPairAsync = promisify(generateKeyPair);

export const DEFAULT_GATEWAY_ID = 'snitflade-gateway';
export const DEV_CA_CN = 'Snitflade development CA';
/** Every development certificate is valid for localhost over IPv4 and IPv6. */
export const LOCAL_SANS: readonly string[] = ['localhost', '127.0.0.1', '::1'];
const LEAF_EKU: readonly ExtendedKeyUsage[] = ['serverAuth', 'clientAuth'];
/**
 * The simulated consent service's TLS certificate: a server only (it never calls anyone), and a
 * CN with a dot, which no system id may hold, so it can never pass for a registered client.
 */
export const CONSENT_SERVICE_CN = 'consent-service.demo';
const SERVER_EKU: readonly ExtendedKeyUsage[] = ['serverAuth'];

const KEY_MODE = 0o600;
const PUBLIC_MODE = 0o644;

export interface EnsureDevPkiOptions {
  /** Client/provider system ids to hold a certificate and signing key (the client registry's ids). */
  readonly systems: readonly string[];
  /** The gateway certificate's common name; default "snitflade-gateway". */
  readonly gatewayId?: string;
  /**
   * Also the simulated consent service's TLS certificate and artefact-signing key, under
   * consent-service/ (`npm start` and `snitflade certs` ask for them). Default false.
   */
  readonly consentService?: boolean;
}

export interface EnsuredDevPki extends DevPkiPaths {
  /** Files this call created, relative to the certificate folder (empty when all existed). */
  readonly created: readonly string[];
}

async function newEcSigningKey(): Promise<string> {
  const { privateKey } = await generateKeyPairAsync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return privateKey;
}

function spkiPem(privatePem: string): string {
  return createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString();
}

function commonName(cert: X509Certificate): string | undefined {
  return cert.subject
    .split('\n')
    .find((l) => l.startsWith('CN='))
    ?.slice(3);
}

/** Generation of one PKI folder: remembers what it created and explains what it cannot fix. */
class Generator {
  readonly created: string[] = [];
  constructor(private readonly root: string) {}

  rel(file: string): string {
    return path.relative(this.root, file);
  }

  /** The file's content, created by `make` if it is missing. An existing file is never replaced. */
  async ensure(file: string, mode: number, make: () => Promise<string>): Promise<string> {
    const existing = readIfExists(file);
    if (existing !== undefined) return existing;
    const content = await make();
    if (writeIfAbsent(file, content, mode)) {
      this.created.push(this.rel(file));
      return content;
    }
    return readIfExists(file) ?? content; // another process was faster; use its file
  }

  problem(file: string, what: string): TypeError {
    return new TypeError(
      `development PKI: ${path.join(this.root, this.rel(file))} ${what}; delete that file and start again to generate a new one`,
    );
  }

  parseCert(file: string, pem: string): X509Certificate {
    try {
      return new X509Certificate(pem);
    } catch {
      throw this.problem(file, 'is not a PEM certificate');
    }
  }

  checkValidity(file: string, cert: X509Certificate): void {
    const to = Date.parse(cert.validTo);
    if (!(to > Date.now())) throw this.problem(file, `expired on ${new Date(to).toISOString().slice(0, 10)}`);
  }

  async ensureCa(files: DevPkiPaths['ca']): Promise<CertificateAuthority> {
    const keyPem = await this.ensure(files.key, KEY_MODE, async () => (await newRsaKey()).privatePem);
    const certPem = await this.ensure(files.cert, PUBLIC_MODE, async () => createCa({ cn: DEV_CA_CN, keyPem }).certPem);
    const cert = this.parseCert(files.cert, certPem);
    if (!cert.ca) throw this.problem(files.cert, 'is not a CA certificate');
    if (!cert.checkPrivateKey(createPrivateKey(keyPem)))
      throw this.problem(files.cert, `does not belong to the key in ${this.rel(files.key)}`);
    this.checkValidity(files.cert, cert);
    return { certPem, keyPem };
  }

  async ensureTls(files: SystemPaths, ca: CertificateAuthority, cn: string, eku: readonly ExtendedKeyUsage[] = LEAF_EKU): Promise<void> {
    const keyPem = await this.ensure(files.tlsKey, KEY_MODE, async () => (await newRsaKey()).privatePem);
    const certPem = await this.ensure(
      files.tlsCert,
      PUBLIC_MODE,
      async () => issueCertificate({ ca, cn, sans: LOCAL_SANS, eku, keyPem }).certPem,
    );
    const cert = this.parseCert(files.tlsCert, certPem);
    const caCert = new X509Certificate(ca.certPem);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) {
      throw this.problem(files.tlsCert, `is not issued by the CA in ${this.rel(path.join(this.root, 'ca', 'ca.crt.pem'))}`);
    }
    if (!cert.checkPrivateKey(createPrivateKey(keyPem)))
      throw this.problem(files.tlsCert, `does not belong to the key in ${this.rel(files.tlsKey)}`);
    if (commonName(cert) !== cn) throw this.problem(files.tlsCert, `names CN=${commonName(cert) ?? '(none)'}, not CN=${cn}`);
    this.checkValidity(files.tlsCert, cert);
  }

  async ensureSigningKey(files: SystemPaths): Promise<void> {
    const keyPem = await this.ensure(files.signingKey, KEY_MODE, newEcSigningKey);
    const derived = spkiPem(keyPem);
    const pubPem = await this.ensure(files.signingPub, PUBLIC_MODE, async () => derived);
    let same: boolean;
    try {
      same = createPublicKey(pubPem)
        .export({ type: 'spki', format: 'der' })
        .equals(createPublicKey(derived).export({ type: 'spki', format: 'der' }));
    } catch {
      same = false;
    }
    if (!same) throw this.problem(files.signingPub, `is not the public half of ${this.rel(files.signingKey)}`);
  }

  async ensurePseudonymKey(file: string): Promise<void> {
    const text = await this.ensure(file, KEY_MODE, async () => `${randomBytes(32).toString('base64url')}\n`);
    if (!/^[A-Za-z0-9_-]{43}$/.test(text.trim())) throw this.problem(file, 'is not 32 bytes in base64url on one line');
  }
}

/**
 * Creates whatever is missing of the development PKI in `certsDir` and returns its paths.
 * Never overwrites a file: it is idempotent, adds the files of a system id that was added
 * later, and issues a missing certificate for an existing key. Private keys are mode 0600.
 * Files it cannot use (wrong CN, another CA, expired, key mismatch) stop it with a TypeError
 * naming the file to delete. Safe to run from several processes at once.
 *
 * @example
 * const pki = await ensureDevPki('certs', { systems: ['bif-jobcentre-system', 'sof-case-system'] });
 * console.log(pki.gateway.tlsCert, pki.created);
 */
export async function ensureDevPki(certsDir: string, opts: EnsureDevPkiOptions): Promise<EnsuredDevPki> {
  const gatewayId = opts.gatewayId ?? DEFAULT_GATEWAY_ID;
  if (!GATEWAY_ID.test(gatewayId)) throw new TypeError(`ensureDevPki: "${gatewayId.slice(0, 70)}" is not a valid gateway id`);
  const systems = [...new Set(opts.systems)];
  // A system certificate with the gateway's name could pose as the gateway to providers.
  if (systems.includes(gatewayId)) throw new TypeError(`ensureDevPki: a system may not be named like the gateway ("${gatewayId}")`);
  if (gatewayId === CONSENT_SERVICE_CN)
    throw new TypeError(`ensureDevPki: the gateway may not be named like the consent service ("${gatewayId}")`);
  const paths = devPkiPaths(certsDir, systems); // validates the ids
  const consent = opts.consentService === true ? paths.consentService : undefined;

  for (const dir of [
    paths.ca.dir,
    paths.gateway.dir,
    ...Object.values(paths.clients).map((c) => c.dir),
    ...(consent ? [consent.dir] : []),
  ]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const gen = new Generator(paths.certsDir);
  const ca = await gen.ensureCa(paths.ca);
  const gateway = paths.gateway;
  await Promise.all([
    gen.ensureTls(gateway, ca, gatewayId),
    gen.ensureSigningKey(gateway),
    gen.ensurePseudonymKey(gateway.pseudonymKey),
    ...systems.flatMap((id) => [gen.ensureTls(paths.clients[id]!, ca, id), gen.ensureSigningKey(paths.clients[id]!)]),
    ...(consent ? [gen.ensureTls(consent, ca, CONSENT_SERVICE_CN, SERVER_EKU), gen.ensureSigningKey(consent)] : []),
  ]);
  return { ...paths, created: gen.created.sort() };
}

/** The PEM texts of one system's credentials. */
export interface SystemCredentials {
  readonly certPem: string;
  readonly keyPem: string;
  readonly signingKeyPem: string;
  readonly signingPubPem: string;
}

export interface DevPki {
  readonly paths: DevPkiPaths;
  readonly ca: CertificateAuthority;
  readonly gateway: SystemCredentials & {
    /** The gateway id, read from its certificate's CN. */
    readonly id: string;
    /** The pseudonym HMAC key, base64url (32 bytes). */
    readonly pseudonymKey: string;
  };
  readonly clients: Readonly<Record<string, SystemCredentials>>;
}

function mustRead(file: string): string {
  const text = readIfExists(file);
  if (text === undefined) {
    throw new TypeError(
      `development PKI: ${file} is missing; generate the development certificates with "npx snitflade certs" or "npm start"`,
    );
  }
  return text;
}

function readSystem(files: SystemPaths): SystemCredentials {
  return {
    certPem: mustRead(files.tlsCert),
    keyPem: mustRead(files.tlsKey),
    signingKeyPem: mustRead(files.signingKey),
    signingPubPem: mustRead(files.signingPub),
  };
}

/**
 * Reads an existing development PKI: the CA, the gateway and every system under clients/.
 * Throws TypeError naming the first missing file. Generates nothing.
 *
 * @example
 * const pki = loadDevPki('certs');
 * https.request({ cert: pki.gateway.certPem, key: pki.gateway.keyPem, ca: pki.ca.certPem, ... });
 */
export function loadDevPki(certsDir: string): DevPki {
  const clientsDir = path.join(path.resolve(certsDir), 'clients');
  let ids: string[] = [];
  try {
    ids = readdirSync(clientsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && SYSTEM_ID.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const paths = devPkiPaths(certsDir, ids);
  const gatewayCreds = readSystem(paths.gateway);
  const id = commonName(new X509Certificate(gatewayCreds.certPem));
  if (id === undefined) throw new TypeError(`development PKI: ${paths.gateway.tlsCert} has no CN`);
  const clients: Record<string, SystemCredentials> = {};
  for (const sys of ids) clients[sys] = readSystem(paths.clients[sys]!);
  return {
    paths,
    ca: { certPem: mustRead(paths.ca.cert), keyPem: mustRead(paths.ca.key) },
    gateway: { ...gatewayCreds, id, pseudonymKey: mustRead(paths.gateway.pseudonymKey).trim() },
    clients,
  };
}
