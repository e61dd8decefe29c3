import forge from 'node-forge';
import type { CertificateAuthority } from './types.js';
import { addDays, newRsaKeySync, normaliseSerial, randomSerial, rsaPublicPem, signCertificate, subjectAttributes } from './lib/x509.js';

export interface CaOptions {
  /** Subject common name, e.g. "Snitflade development CA". */
  readonly cn: string;
  /** Default: five minutes ago (tolerates small clock differences). */
  readonly notBefore?: Date;
  /** Default: ten years after notBefore. */
  readonly notAfter?: Date;
  /** Hex serial; default a random positive 128-bit serial. */
  readonly serial?: string;
  /** Use this RSA private key (PKCS#8 PEM) instead of generating one. */
  readonly keyPem?: string;
  readonly organisation?: string;
}

/**
 * Creates a self-signed root certificate authority for development and tests: RSA 2048,
 * SHA-256, basicConstraints CA (path length 0), key usage keyCertSign and cRLSign.
 *
 * @example
 * const ca = createCa({ cn: 'Test CA' });
 * const leaf = issueCertificate({ ca, cn: 'bif-jobcentre-system', eku: ['clientAuth'] });
 */
export function createCa(options: CaOptions): CertificateAuthority {
  const notBefore = options.notBefore ?? new Date(Date.now() - 5 * 60_000);
  const notAfter = options.notAfter ?? addDays(notBefore, 3652);
  if (notAfter.getTime() <= notBefore.getTime()) throw new TypeError('createCa: notAfter must be after notBefore');
  const serialNumber = options.serial === undefined ? randomSerial() : normaliseSerial(options.serial);
  const keyPem = options.keyPem ?? newRsaKeySync().privatePem;

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(rsaPublicPem(keyPem));
  cert.serialNumber = serialNumber;
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const name = subjectAttributes(options.cn, options.organisation);
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return { certPem: signCertificate(cert, keyPem), keyPem };
}
