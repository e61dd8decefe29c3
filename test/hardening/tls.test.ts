/**
 * TLS on the gateway's listener and on the simulated systems, tried with `openssl s_client`:
 * TLS 1.3 is chosen when the client offers it; TLS 1.2 only with ECDHE key exchange and an AEAD
 * cipher; no TLS 1.1 or older, no CBC, no SHA-1 MAC, no finite-field DHE. The cipher string
 * itself (src/lib/tls.ts) is also checked through `openssl ciphers`, so that it stays right for
 * ECDSA certificates too (the development TLS certificates are RSA). Each suite is offered in
 * both its ECDSA and its RSA form; the server picks the one its certificate fits.
 */
import { jest } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { TLS12_SUITES, TLS13_SUITES, TLS_POLICY } from '../../src/lib/tls.js';
import { ensureDevPki } from '../../src/pki/devpki.js';
import { startConsentService, type SimulatedConsentService } from '../../src/simulators/consent-service.js';
import { startTestEnv, TEST_CERTS, type TestEnv } from '../support/env.js';

jest.setTimeout(60_000);

let env: TestEnv;
let consentService: SimulatedConsentService;

beforeAll(async () => {
  env = await startTestEnv({ name: 'hardening-tls' });
  await ensureDevPki(TEST_CERTS, { systems: [], consentService: true });
  consentService = await startConsentService({ certsDir: TEST_CERTS });
});
afterAll(async () => {
  await consentService?.close();
  await env?.close();
});

interface Handshake {
  readonly ok: boolean;
  readonly protocol?: string;
  readonly cipher?: string;
}

/**
 * One handshake with `openssl s_client` (asynchronous: the gateway answers from this process);
 * the simulated systems need a client certificate (the gateway's).
 */
function handshake(port: number, args: readonly string[], clientCert = false): Promise<Handshake> {
  const cert = clientCert
    ? ['-cert', path.join(TEST_CERTS, 'gateway', 'tls.crt.pem'), '-key', path.join(TEST_CERTS, 'gateway', 'tls.key.pem')]
    : [];
  const child = spawn(
    'openssl',
    [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-servername',
      'localhost',
      '-CAfile',
      path.join(TEST_CERTS, 'ca', 'ca.crt.pem'),
      ...cert,
      ...args,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr.on('data', (c: Buffer) => (text += c.toString()));
  child.stdin.end();
  const timer = setTimeout(() => child.kill(), 10_000);
  return new Promise((resolve) => {
    child.on('close', () => {
      clearTimeout(timer);
      const m = /New, (TLSv[\d.]+), Cipher is ([A-Z0-9_-]+)/.exec(text);
      resolve(m === null || m[2] === '(NONE)' ? { ok: false } : { ok: true, protocol: m[1]!, cipher: m[2]! });
    });
  });
}

const listeners = (): readonly (readonly [string, number, boolean])[] => [
  ['the gateway', env.running.port, false],
  ...Object.entries(env.simulators).map(([id, s]) => [`the simulated ${id}`, s.port, true] as const),
  ['the simulated consent service', consentService.port, true],
];

describe.each(['the gateway', 'the simulated systems'])('%s', (which) => {
  const each = (): readonly (readonly [string, number, boolean])[] =>
    listeners().filter(([name]) => (which === 'the gateway' ? name === 'the gateway' : name !== 'the gateway'));

  it('prefers TLS 1.3 when the client offers it', async () => {
    for (const [name, port, cert] of each()) {
      const h = await handshake(port, [], cert);
      expect({ name, ...h }).toEqual({
        name,
        ok: true,
        protocol: 'TLSv1.3',
        cipher: expect.stringMatching(/^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$/),
      });
    }
  });

  it('speaks TLS 1.2 with ECDHE and an AEAD cipher', async () => {
    for (const [name, port, cert] of each()) {
      for (const suite of ['AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'CHACHA20-POLY1305']) {
        const offered = [`ECDHE-ECDSA-${suite}`, `ECDHE-RSA-${suite}`];
        expect({ name, ...(await handshake(port, ['-tls1_2', '-cipher', offered.join(':')], cert)) }).toEqual({
          name,
          ok: true,
          protocol: 'TLSv1.2',
          cipher: expect.stringMatching(new RegExp(`^ECDHE-(ECDSA|RSA)-${suite}$`)),
        });
      }
    }
  });

  it.each([
    ['CBC with SHA-256', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256']],
    ['CBC with SHA-1', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:@SECLEVEL=0']],
    ['every CBC suite', ['-tls1_2', '-cipher', 'ECDHE+AES:!AESGCM:@SECLEVEL=0']],
    ['static RSA key exchange', ['-tls1_2', '-cipher', 'kRSA:@SECLEVEL=0']],
    ['finite-field DHE', ['-tls1_2', '-cipher', 'kDHE:@SECLEVEL=0']],
    ['TLS 1.1', ['-tls1_1', '-cipher', 'ALL:@SECLEVEL=0']],
    ['TLS 1.0', ['-tls1', '-cipher', 'ALL:@SECLEVEL=0']],
  ])('refuses %s', async (_what, args) => {
    for (const [name, port, cert] of each()) expect({ name, ...(await handshake(port, args, cert)) }).toEqual({ name, ok: false });
  });
});

describe('the cipher string', () => {
  it('expands to TLS 1.3 suites and ECDHE, AEAD-only TLS 1.2 suites, for ECDSA and RSA certificates', () => {
    const out = spawnSync(
      'openssl',
      [
        'ciphers',
        '-v',
        TLS_POLICY.ciphers
          .split(':')
          .filter((c) => !c.startsWith('TLS_'))
          .join(':'),
      ],
      { encoding: 'utf8' },
    );
    const lines = out.stdout
      .trim()
      .split('\n')
      .filter((l) => l.includes('TLSv1.2'));
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual([...TLS12_SUITES]);
    for (const line of lines) {
      expect(line).toMatch(/Kx=ECDH\s/);
      expect(line).toMatch(/Mac=AEAD/);
      expect(line).toMatch(/Au=(ECDSA|RSA)\s/);
    }
    expect(TLS_POLICY.ciphers.split(':').filter((c) => c.startsWith('TLS_'))).toEqual([...TLS13_SUITES]);
    expect(TLS_POLICY.minVersion).toBe('TLSv1.2');
  });
});
