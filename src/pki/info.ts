import { X509Certificate } from 'node:crypto';

/** What the readiness detail (GET /v1/admin/readiness) and the CLI show about a certificate. */
export interface CertificateInfo {
  readonly subjectCN: string | undefined;
  readonly issuerCN: string | undefined;
  /** Upper-case hex, as Node's TLS layer reports it. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Whole days until notAfter (negative once expired). */
  readonly daysLeft: number;
}

function commonName(dn: string): string | undefined {
  for (const line of dn.split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3);
  }
  return undefined;
}

/**
 * The subject, validity and days left of a PEM certificate (the first one, for a chain).
 * Works for any key type, so also for a municipality's EC certificates.
 *
 * @example
 * const { subjectCN, daysLeft } = certificateInfo(readFileSync('certs/gateway/tls.crt.pem', 'utf8'));
 */
export function certificateInfo(pem: string | Buffer, now: Date = new Date()): CertificateInfo {
  const cert = new X509Certificate(pem);
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  if (Number.isNaN(notAfter.getTime()) || Number.isNaN(notBefore.getTime())) {
    throw new TypeError('certificateInfo: cannot read the certificate validity');
  }
  return {
    subjectCN: commonName(cert.subject),
    issuerCN: commonName(cert.issuer),
    serialNumber: cert.serialNumber.toUpperCase(),
    notBefore,
    notAfter,
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
  };
}
