import type { SecureContextOptions } from 'node:tls';

/**
 * The TLS the gateway speaks, on its listener, towards provider and recipient systems, and on
 * the simulated systems: TLS 1.3 (preferred: OpenSSL negotiates the highest version both sides
 * offer), and TLS 1.2 only with ECDHE key exchange and AEAD ciphers. Refused: TLS 1.1 and
 * older, static RSA and finite-field DHE key exchange, CBC modes, SHA-1 MACs, RC4, 3DES,
 * export and anonymous suites. SECURITY.md lists the suites; test/hardening/tls.test.ts checks
 * each listener with `openssl s_client`.
 */
export const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'] as const;

/** TLS 1.2: forward secrecy (ECDHE) and authenticated encryption (GCM, ChaCha20-Poly1305) only; ECDSA and RSA certificates. */
export const TLS12_SUITES = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
] as const;

/** Options for every TLS server and client of the project (spread them into https.createServer / https.Agent). */
export const TLS_POLICY = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
  honorCipherOrder: true,
  ecdhCurve: 'X25519:prime256v1:secp384r1',
} satisfies SecureContextOptions & { honorCipherOrder: boolean });
