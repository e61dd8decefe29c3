import forge from 'node-forge';
import type { CertificateAuthority, ExtendedKeyUsage, IssuedCertificate } from './types.js';
import {
  addDays,
  altNames,
  newRsaKeySync,
  normaliseSerial,
  randomSerial,
  rsaPublicPem,
  signCertificate,
  subjectAttributes,
} from './lib/x509.js';

export interface IssueOptions {
  readonly ca: CertificateAuthority;
  /** Subject common name: the system id or host the certificate identifies. */
  readonly cn: string;
  /** Subject alternative names: DNS names or IP literals (v4 or v6). */
  readonly sans?: readonly string[];
  /** Extended key usages; an empty list leaves the extension out. */
  readonly eku: readonly ExtendedKeyUsage[];
  /** Default: five minutes ago. */
  readonly notBefore?: Date;
  /** Default: two years (730 days) after notBefore. */
  readonly notAfter?: Date;
  /** Hex serial; default a random positive 128-bit serial. */
  readonly serial?: string;
  /** Certify this RSA private key (PKCS#8 PEM) instead of generating a new one. */
  readonly keyPem?: string;
  readonly organisation?: string;
}

/**
 * Issues an end-entity TLS certificate signed by `ca`: RSA 2048, SHA-256, basicConstraints
 * CA:false, key usage digitalSignature + keyEncipherment, the given extended key usages and
 * subject alternative names, subject and authority key identifiers.
 *
 * Validity, serial and EKU are parameters so tests can build unusual certificates (expired,
 * not yet valid, server-only, revoked serials).
 *
 * @example
 * const { certPem, keyPem } = issueCertificate({
 *   ca, cn: 'snitflade-gateway', sans: ['localhost', '127.0.0.1', '::1'], eku: ['serverAuth', 'clientAuth'],
 * });
 */
export function issueCertificate(options: IssueOptions): IssuedCertificate {
  const notBefore = options.notBefore ?? new Date(Date.now() - 5 * 60_000);
  const notAfter = options.notAfter ?? addDays(notBefore, 730);
  if (notAfter.getTime() <= notBefore.getTime()) throw new TypeError('issueCertificate: notAfter must be after notBefore');
  const serialNumber = options.serial === undefined ? randomSerial() : normaliseSerial(options.serial);
  const sans = options.sans !== undefined && options.sans.length > 0 ? altNames(options.sans) : undefined;
  const keyPem = options.keyPem ?? newRsaKeySync().privatePem;

  const caCert = forge.pki.certificateFromPem(options.ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(rsaPublicPem(keyPem));
  cert.serialNumber = serialNumber;
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject(subjectAttributes(options.cn, options.organisation));
  cert.setIssuer(caCert.subject.attributes);

  const extensions: Record<string, unknown>[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (options.eku.length > 0) {
    const eku: Record<string, unknown> = { name: 'extKeyUsage' };
    for (const usage of options.eku) eku[usage] = true;
    extensions.push(eku);
  }
  if (sans !== undefined) extensions.push({ name: 'subjectAltName', altNames: sans });
  cert.setExtensions(extensions);
  return { certPem: signCertificate(cert, options.ca.keyPem), keyPem };
}
