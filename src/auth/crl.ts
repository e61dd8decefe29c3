import { X509Certificate, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LoadError } from '../lib/load-error.js';

/**
 * Certificate revocation: the CA's certificate revocation list (RFC 5280 CRL, PEM), checked
 * against the CA's own key before it is believed. The gateway loads it at start and on reload
 * (SIGHUP); identifyClient asks `isRevoked(serial)` for every client certificate.
 */
export interface RevocationList {
  /** The file it came from; undefined for the empty list used when no CRL is configured. */
  readonly file: string | undefined;
  readonly thisUpdate: Date | undefined;
  readonly nextUpdate: Date | undefined;
  /** Revoked serials. */
  readonly count: number;
  /** Whether a certificate serial (hex, any case, with or without leading zeros or colons) is revoked. */
  isRevoked(serialHex: string): boolean;
}

/** The list when there is no CRL: nothing is revoked. */
export const NO_REVOCATIONS: RevocationList = Object.freeze({
  file: undefined,
  thisUpdate: undefined,
  nextUpdate: undefined,
  count: 0,
  isRevoked: () => false,
});

/** A CRL that cannot be trusted or read: a configuration problem, reported with the file. */
export class CrlError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'CrlError';
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal DER reader: enough of ASN.1 to walk a CRL and a certificate without re-encoding.

interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly body: number;
  /** Offset after the last content byte. */
  readonly end: number;
}

function tlv(der: Buffer, at: number, limit = der.length): Tlv {
  if (at + 2 > limit) throw new CrlError('truncated DER');
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) throw new CrlError('multi-byte DER tags are not used in CRLs');
  let len = der[at + 1]!;
  let body = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new CrlError('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[body + i]!;
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new CrlError('truncated DER');
  return { tag, start: at, body, end };
}

/** The elements of a constructed value. */
function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.body; at < parent.end;) {
    const child = tlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OID = 0x06;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new CrlError(`${what} is missing or malformed`);
  return t;
}

function oid(der: Buffer, t: Tlv): string {
  const bytes = der.subarray(t.body, t.end);
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      // The first subidentifier holds the first two arcs.
      if (parts.length === 0) parts.push(...(value < 40 ? [0, value] : value < 80 ? [1, value - 40] : [2, value - 80]));
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

function time(der: Buffer, t: Tlv): Date {
  const s = der.subarray(t.body, t.end).toString('latin1');
  const m =
    t.tag === UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : t.tag === GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
        : null;
  if (!m) throw new CrlError('a CRL time is malformed');
  let year = Number(m[1]);
  if (t.tag === UTC_TIME) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** A serial as upper-case hex without leading zeros (how Node's getPeerCertificate spells it, minus padding). */
export function normaliseSerialHex(serial: string): string {
  return serial
    .replaceAll(':', '')
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
}

/** Hash for crypto.verify, by signature algorithm OID; null for Ed25519. */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519
};

/** The DER of the certificate's subject Name. */
function subjectDer(cert: X509Certificate): Buffer {
  const der = cert.raw;
  const outer = expect(tlv(der, 0), SEQUENCE, 'certificate');
  const tbs = expect(children(der, outer)[0], SEQUENCE, 'tbsCertificate');
  const fields = children(der, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  const subject = expect(fields[offset + 4], SEQUENCE, 'certificate subject');
  return der.subarray(subject.start, subject.end);
}

/**
 * Parses a PEM CRL and checks it: its issuer is the CA, its signature verifies with the CA's
 * public key, and its thisUpdate is not in the future. Throws CrlError otherwise. A CRL whose
 * nextUpdate has passed is still used (a stale list is better than none); `nextUpdate` lets the
 * caller warn.
 *
 * @example
 * const list = parseCrl(readFileSync('certs/ca/crl.pem', 'utf8'), readFileSync('certs/ca/ca.crt.pem', 'utf8'));
 * list.isRevoked(peer.serialNumber);
 */
export function parseCrl(
  pem: string,
  caPem: string,
  options: { file?: string; now?: Date; clockToleranceSeconds?: number } = {},
): RevocationList {
  const match = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/.exec(pem);
  if (!match) throw new CrlError('not a PEM "X509 CRL"');
  const der = Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
  let ca: X509Certificate;
  let caKey: KeyObject;
  try {
    ca = new X509Certificate(caPem);
    caKey = createPublicKey(ca.publicKey.export({ type: 'spki', format: 'pem' }));
  } catch {
    throw new CrlError('the CA certificate cannot be read');
  }

  const outer = expect(tlv(der, 0), SEQUENCE, 'CertificateList');
  if (outer.end !== der.length) throw new CrlError('trailing bytes after the CRL');
  const [tbs, outerAlg, sigBits] = children(der, outer);
  expect(tbs, SEQUENCE, 'tbsCertList');
  expect(outerAlg, SEQUENCE, 'signatureAlgorithm');
  expect(sigBits, BIT_STRING, 'signatureValue');
  const algOid = oid(der, expect(children(der, outerAlg!)[0], OID, 'signature algorithm'));
  if (!Object.hasOwn(SIGNATURE_ALGORITHMS, algOid)) throw new CrlError(`unsupported CRL signature algorithm ${algOid}`);

  const fields = children(der, tbs!);
  let i = 0;
  if (fields[i]?.tag === INTEGER) i++; // version v2
  const innerAlg = expect(fields[i++], SEQUENCE, 'tbsCertList signature');
  if (oid(der, expect(children(der, innerAlg)[0], OID, 'tbsCertList signature algorithm')) !== algOid) {
    throw new CrlError('the signature algorithm inside the CRL differs from the outer one');
  }
  const issuer = expect(fields[i++], SEQUENCE, 'CRL issuer');
  if (!der.subarray(issuer.start, issuer.end).equals(subjectDer(ca)))
    throw new CrlError('the CRL is not issued by the trusted CA (issuer differs)');
  const thisUpdateTlv = fields[i++];
  if (!thisUpdateTlv || (thisUpdateTlv.tag !== UTC_TIME && thisUpdateTlv.tag !== GENERALIZED_TIME))
    throw new CrlError('thisUpdate is missing');
  const thisUpdate = time(der, thisUpdateTlv);
  let nextUpdate: Date | undefined;
  if (fields[i] && (fields[i]!.tag === UTC_TIME || fields[i]!.tag === GENERALIZED_TIME)) nextUpdate = time(der, fields[i++]!);
  const revoked = new Set<string>();
  if (fields[i]?.tag === SEQUENCE) {
    for (const entry of children(der, fields[i]!)) {
      const serial = expect(children(der, expect(entry, SEQUENCE, 'revoked entry'))[0], INTEGER, 'revoked serial');
      revoked.add(normaliseSerialHex(der.subarray(serial.body, serial.end).toString('hex')));
    }
  }

  const bits = der.subarray(sigBits!.body, sigBits!.end);
  if (bits[0] !== 0) throw new CrlError('the CRL signature has unused bits');
  const hash = SIGNATURE_ALGORITHMS[algOid]!;
  let valid: boolean;
  try {
    valid = verifySignature(hash, der.subarray(tbs!.start, tbs!.end), caKey, bits.subarray(1));
  } catch {
    valid = false;
  }
  if (!valid) throw new CrlError('the CRL signature does not verify with the CA key');
  const now = (options.now ?? new Date()).getTime();
  if (thisUpdate.getTime() > now + (options.clockToleranceSeconds ?? 300) * 1000)
    throw new CrlError('the CRL is dated in the future (thisUpdate)');

  return Object.freeze({
    file: options.file,
    thisUpdate,
    nextUpdate,
    count: revoked.size,
    isRevoked: (serialHex: string) => revoked.has(normaliseSerialHex(serialHex)),
  });
}

/**
 * The revocation list in force: the configured CRL file, or <certs>/ca/crl.pem when it exists,
 * or none. A configured file that is missing, and any CRL that does not verify, is a LoadError
 * naming the file (start-up stops; a reload keeps the previous list).
 */
export function loadRevocationList(options: {
  readonly certsDir: string;
  readonly crlFile?: string | undefined;
  readonly now?: Date;
}): RevocationList {
  const caFile = path.join(options.certsDir, 'ca', 'ca.crt.pem');
  const file = options.crlFile ?? path.join(options.certsDir, 'ca', 'crl.pem');
  if (options.crlFile === undefined && !existsSync(file)) return NO_REVOCATIONS;
  let pem: string;
  let caPem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LoadError(file, '', `cannot read the certificate revocation list: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  try {
    caPem = readFileSync(caFile, 'utf8');
  } catch {
    throw new LoadError(caFile, '', 'cannot read the CA certificate to check the revocation list against');
  }
  try {
    return parseCrl(pem, caPem, { file, ...(options.now ? { now: options.now } : {}) });
  } catch (err) {
    if (err instanceof CrlError) throw new LoadError(file, '', `certificate revocation list refused: ${err.message}`);
    throw err;
  }
}
