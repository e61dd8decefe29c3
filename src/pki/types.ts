/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A certificate authority able to issue: its certificate and private key. */
export type CertificateAuthority = IssuedCertificate;

export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';
