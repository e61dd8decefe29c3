import { sign } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateAuthority } from './types.js';
import { addDays, normaliseSerial } from './lib/x509.js';

export interface CrlOptions {
  /** Default: now. */
  readonly thisUpdate?: Date;
  /** Default: 30 days after thisUpdate. */
  readonly nextUpdate?: Date;
  /** The CRL number extension; default the current time in seconds (increases between CRLs). */
  readonly crlNumber?: number;
  /** The revocation date written for every entry; default thisUpdate. */
  readonly revokedAt?: Date;
}

const { asn1 } = forge;
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';
const OID_CRL_NUMBER = '2.5.29.20';

function seq(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

function time(date: Date): forge.asn1.Asn1 {
  // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

function extension(oid: string, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return seq([
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes()),
  ]);
}

function algorithm(): forge.asn1.Asn1 {
  return seq([
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SHA256_WITH_RSA).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
  ]);
}

/**
 * A version 2 certificate revocation list (RFC 5280) signed by `ca` with SHA-256/RSA, in PEM,
 * listing the given serials (hex, any case, as `X509Certificate.serialNumber` gives them).
 * It carries the authority key identifier and a CRL number, so OpenSSL and Node's TLS `crl`
 * option accept it. node-forge has no CRL builder; this one writes the ASN.1 directly.
 *
 * @example
 * const crlPem = createCrl(ca, [new X509Certificate(revoked.certPem).serialNumber]);
 * https.createServer({ ca: ca.certPem, crl: crlPem, requestCert: true, ... });
 */
export function createCrl(ca: CertificateAuthority, revokedSerials: readonly string[], options: CrlOptions = {}): string {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const thisUpdate = options.thisUpdate ?? new Date();
  const nextUpdate = options.nextUpdate ?? addDays(thisUpdate, 30);
  const revokedAt = options.revokedAt ?? thisUpdate;
  const crlNumber = options.crlNumber ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(crlNumber) || crlNumber < 0) throw new TypeError('createCrl: crlNumber must be a non-negative integer');

  const tbs: forge.asn1.Asn1[] = [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(1).getBytes()), // v2
    algorithm(),
    forge.pki.distinguishedNameToAsn1(caCert.subject),
    time(thisUpdate),
    time(nextUpdate),
  ];
  if (revokedSerials.length > 0) {
    tbs.push(
      seq(
        revokedSerials.map((serial) =>
          seq([
            asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, forge.util.hexToBytes(normaliseSerial(serial))),
            time(revokedAt),
          ]),
        ),
      ),
    );
  }
  const keyIdentifier = caCert.generateSubjectKeyIdentifier().getBytes();
  tbs.push(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      seq([
        extension(OID_AUTHORITY_KEY_ID, seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyIdentifier)])),
        extension(OID_CRL_NUMBER, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(crlNumber).getBytes())),
      ]),
    ]),
  );

  const tbsDer = Buffer.from(asn1.toDer(seq(tbs)).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, ca.keyPem);
  const certList = seq([
    asn1.fromDer(tbsDer.toString('binary')),
    algorithm(),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\x00${signature.toString('binary')}`),
  ]);
  const der = asn1.toDer(certList).getBytes();
  return forge.pem.encode({ type: 'X509 CRL', body: der }).replaceAll('\r\n', '\n');
}
