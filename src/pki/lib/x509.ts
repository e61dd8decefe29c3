import { generateKeyPair, generateKeyPairSync, createPublicKey, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import forge from 'node-forge';

/** Internals shared by the certificate builders: keys, serials, names, signing. */

const generateKeyPairAsync = promisify(generateKeyPair);

/** The organisation every development certificate names. */
export const DEV_ORGANISATION = 'Snitflade development';

/** A fresh RSA key pair in PEM (PKCS#8 private, SPKI public), generated natively off the main thread. */
export async function newRsaKey(bits = 2048): Promise<{ privatePem: string; publicPem: string }> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

/** The same, synchronously (for the certificate builders, which tests call inline). */
export function newRsaKeySync(bits = 2048): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

/** The SPKI PEM of a private key PEM. Throws TypeError when the key is not RSA (forge signs RSA only). */
export function rsaPublicPem(privatePem: string): string {
  const pub = createPublicKey(privatePem);
  if (pub.asymmetricKeyType !== 'rsa') {
    throw new TypeError(`development certificates use RSA keys; got a ${pub.asymmetricKeyType ?? 'unknown'} key`);
  }
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * A random positive serial of 16 bytes as lower-case hex. The top bit is cleared (DER integers
 * are signed) and the next one set, so the encoding is minimal and always 16 bytes long.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/** Normalises a caller-given serial (hex, any case, optional colons) to a positive, minimal DER hex string. */
export function normaliseSerial(serial: string): string {
  let hex = serial.replaceAll(':', '').toLowerCase();
  if (!/^[0-9a-f]{1,40}$/.test(hex)) throw new TypeError(`serial must be 1-40 hex digits, got "${serial.slice(0, 50)}"`);
  hex = hex.replace(/^0+/, '');
  if (hex === '') throw new TypeError('serial must be positive');
  if (hex.length % 2 === 1) hex = `0${hex}`;
  // A leading byte with its top bit set would make the DER integer negative.
  return parseInt(hex.slice(0, 2), 16) >= 0x80 ? `00${hex}` : hex;
}

export function subjectAttributes(cn: string, organisation = DEV_ORGANISATION): forge.pki.CertificateField[] {
  if (cn.length === 0 || cn.length > 64) throw new TypeError('a certificate common name must be 1-64 characters');
  return [
    { name: 'commonName', value: cn },
    { name: 'organizationName', value: organisation },
  ];
}

/** Subject alternative names: IPv4 and IPv6 literals become IP entries, anything else DNS names. */
export function altNames(sans: readonly string[]): { type: number; value?: string; ip?: string }[] {
  return sans.map((san) => {
    if (isIP(san) !== 0) return { type: 7, ip: san };
    if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(san)) {
      throw new TypeError(`"${san.slice(0, 80)}" is neither a DNS name nor an IP address`);
    }
    return { type: 2, value: san };
  });
}

/** Signs a forge certificate with SHA-256 and returns it as PEM. */
export function signCertificate(cert: forge.pki.Certificate, issuerKeyPem: string): string {
  const key = forge.pki.privateKeyFromPem(issuerKeyPem);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert).replaceAll('\r\n', '\n');
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}
