import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, importPKCS8, importSPKI, jwtVerify } from 'jose';
import {
  certificateInfo,
  createCa,
  createCrl,
  ensureDevPki,
  issueCertificate,
  loadDevPki,
  type CertificateAuthority,
} from '../src/pki/devpki.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const DAY = 86_400_000;
const SYSTEMS = ['bif-jobcentre-system', 'sof-case-system', 'dpo-console'] as const;

const tmpDirs: string[] = [];
function tmpCerts(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-pki-'));
  tmpDirs.push(dir);
  return path.join(dir, 'certs');
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** Every file under dir, relative, sorted. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

function snapshot(dir: string): Record<string, { content: string; mtimeMs: number; mode: number }> {
  const out: Record<string, { content: string; mtimeMs: number; mode: number }> = {};
  for (const f of listFiles(dir)) {
    const st = statSync(path.join(dir, f));
    out[f] = { content: readFileSync(path.join(dir, f), 'utf8'), mtimeMs: st.mtimeMs, mode: st.mode & 0o777 };
  }
  return out;
}

function cn(cert: X509Certificate): string | undefined {
  return cert.subject
    .split('\n')
    .find((l) => l.startsWith('CN='))
    ?.slice(3);
}

describe('ensureDevPki', () => {
  let certs: string;
  let created: readonly string[];
  beforeAll(async () => {
    certs = tmpCerts();
    created = (await ensureDevPki(certs, { systems: SYSTEMS })).created;
  });

  it('creates exactly the documented layout', () => {
    const expected = [
      'ca/ca.crt.pem',
      'ca/ca.key.pem',
      'gateway/pseudonym.key',
      'gateway/signing.key.pem',
      'gateway/signing.pub.pem',
      'gateway/tls.crt.pem',
      'gateway/tls.key.pem',
      ...SYSTEMS.flatMap((s) => ['signing.key.pem', 'signing.pub.pem', 'tls.crt.pem', 'tls.key.pem'].map((f) => `clients/${s}/${f}`)),
    ].sort();
    expect(listFiles(certs)).toEqual(expected);
    expect([...created].sort()).toEqual(expected);
  });

  it('writes private keys with mode 0600', () => {
    const keys = listFiles(certs).filter((f) => f.endsWith('.key.pem') || f.endsWith('pseudonym.key'));
    expect(keys).toHaveLength(2 + 2 + SYSTEMS.length * 2);
    for (const f of keys) expect((statSync(path.join(certs, f)).mode & 0o777).toString(8)).toBe('600');
    for (const f of listFiles(certs).filter((x) => x.endsWith('.crt.pem') || x.endsWith('.pub.pem'))) {
      expect(statSync(path.join(certs, f)).mode & 0o077 & ~0o044).toBe(0);
    }
  });

  it('is idempotent: a second run changes no file', async () => {
    const before = snapshot(certs);
    const again = await ensureDevPki(certs, { systems: SYSTEMS });
    expect(again.created).toEqual([]);
    expect(snapshot(certs)).toEqual(before);
  });

  it('makes a ten-year CA and two-year leaf certificates that chain to it', () => {
    const ca = new X509Certificate(readFileSync(path.join(certs, 'ca/ca.crt.pem')));
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.subject).toContain('O=Snitflade development');
    const caYears = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / (365.25 * DAY);
    expect(caYears).toBeGreaterThan(9.9);
    expect(caYears).toBeLessThan(10.1);
    expect(ca.checkPrivateKey(createPrivateKey(readFileSync(path.join(certs, 'ca/ca.key.pem'))))).toBe(true);

    const leaves: [string, string][] = [['gateway', 'snitflade-gateway'], ...SYSTEMS.map((s): [string, string] => [`clients/${s}`, s])];
    const serials = new Set<string>();
    for (const [dir, name] of leaves) {
      const cert = new X509Certificate(readFileSync(path.join(certs, dir, 'tls.crt.pem')));
      expect(cn(cert)).toBe(name);
      expect(cert.subject).toContain('O=Snitflade development');
      expect(cert.ca).toBe(false);
      expect(cert.checkIssued(ca)).toBe(true);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkPrivateKey(createPrivateKey(readFileSync(path.join(certs, dir, 'tls.key.pem'))))).toBe(true);
      expect([...(cert.keyUsage ?? [])].sort()).toEqual([SERVER_AUTH, CLIENT_AUTH].sort()); // Node calls the EKU keyUsage
      expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      expect(cert.checkHost('localhost')).toBe('localhost');
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
      const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY;
      expect(days).toBeGreaterThanOrEqual(729);
      expect(days).toBeLessThanOrEqual(731);
      expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
      expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/); // positive, 128 bits
      serials.add(cert.serialNumber);
    }
    expect(serials.size).toBe(leaves.length);
    // SHA-256 with RSA
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], {
      input: readFileSync(path.join(certs, 'gateway/tls.crt.pem')),
    }).toString();
    expect(text).toContain('sha256WithRSAEncryption');
  });

  it('makes P-256 signing keys that sign and verify ES256 tokens', async () => {
    for (const dir of ['gateway', ...SYSTEMS.map((s) => `clients/${s}`)]) {
      const keyPem = readFileSync(path.join(certs, dir, 'signing.key.pem'), 'utf8');
      const pubPem = readFileSync(path.join(certs, dir, 'signing.pub.pem'), 'utf8');
      expect(keyPem.startsWith(['-----BEGIN', 'PRIVATE', 'KEY-----'].join(' '))).toBe(true); // PKCS#8, spelled apart so no key marker sits in the repository
      expect(pubPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect(createPublicKey(pubPem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      const jwt = await new SignJWT({ x: 1 }).setProtectedHeader({ alg: 'ES256' }).sign(await importPKCS8(keyPem, 'ES256'));
      await expect(jwtVerify(jwt, await importSPKI(pubPem, 'ES256'))).resolves.toBeDefined();
    }
    const other = readFileSync(path.join(certs, 'clients/sof-case-system/signing.pub.pem'), 'utf8');
    const gwJwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .sign(await importPKCS8(readFileSync(path.join(certs, 'gateway/signing.key.pem'), 'utf8'), 'ES256'));
    await expect(jwtVerify(gwJwt, await importSPKI(other, 'ES256'))).rejects.toThrow();
  });

  it('writes a 32-byte base64url pseudonym key on one line', () => {
    const text = readFileSync(path.join(certs, 'gateway/pseudonym.key'), 'utf8');
    expect(text).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(Buffer.from(text.trim(), 'base64url')).toHaveLength(32);
  });

  it('adds a system added later without touching the others', async () => {
    const before = snapshot(certs);
    const result = await ensureDevPki(certs, { systems: [...SYSTEMS, 'buf-youth-system'] });
    expect([...result.created].sort()).toEqual(
      ['signing.key.pem', 'signing.pub.pem', 'tls.crt.pem', 'tls.key.pem'].map((f) => `clients/buf-youth-system/${f}`),
    );
    const after = snapshot(certs);
    for (const [f, v] of Object.entries(before)) expect(after[f]).toEqual(v);
    const cert = new X509Certificate(after['clients/buf-youth-system/tls.crt.pem']!.content);
    expect(cn(cert)).toBe('buf-youth-system');
    expect(cert.verify(new X509Certificate(after['ca/ca.crt.pem']!.content).publicKey)).toBe(true);
  });

  it("adds the simulated consent service's files when asked: a server-only certificate that no client system can be named like, and an ES256 key", async () => {
    const before = snapshot(certs);
    const result = await ensureDevPki(certs, { systems: SYSTEMS, consentService: true });
    expect([...result.created].sort()).toEqual(
      ['signing.key.pem', 'signing.pub.pem', 'tls.crt.pem', 'tls.key.pem'].map((f) => `consent-service/${f}`),
    );
    for (const [f, v] of Object.entries(before)) expect(snapshot(certs)[f]).toEqual(v);
    const cert = new X509Certificate(readFileSync(path.join(certs, 'consent-service/tls.crt.pem')));
    expect(cn(cert)).toBe('consent-service.demo');
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.verify(new X509Certificate(readFileSync(path.join(certs, 'ca/ca.crt.pem'))).publicKey)).toBe(true);
    expect(createPublicKey(readFileSync(path.join(certs, 'consent-service/signing.pub.pem'))).asymmetricKeyDetails?.namedCurve).toBe(
      'prime256v1',
    );
    expect((statSync(path.join(certs, 'consent-service/signing.key.pem')).mode & 0o777).toString(8)).toBe('600');
    expect((await ensureDevPki(certs, { systems: SYSTEMS, consentService: true })).created).toEqual([]);
  });

  it('loadDevPki reads back every credential', () => {
    const pki = loadDevPki(certs);
    expect(pki.gateway.id).toBe('snitflade-gateway');
    expect(Object.keys(pki.clients).sort()).toEqual([...SYSTEMS, 'buf-youth-system'].sort());
    expect(pki.ca.certPem).toBe(readFileSync(path.join(certs, 'ca/ca.crt.pem'), 'utf8'));
    expect(pki.clients['sof-case-system']!.keyPem).toBe(readFileSync(path.join(certs, 'clients/sof-case-system/tls.key.pem'), 'utf8'));
    expect(pki.gateway.pseudonymKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pki.paths.gateway.signingKey).toBe(path.join(certs, 'gateway/signing.key.pem'));
  });

  it('loadDevPki names a missing file', () => {
    expect(() => loadDevPki(tmpCerts())).toThrow(/gateway\/tls\.crt\.pem is missing/);
  });
});

describe('ensureDevPki repairs and refusals', () => {
  it('issues a deleted certificate again for the existing key', async () => {
    const certs = tmpCerts();
    await ensureDevPki(certs, { systems: ['sof-case-system'] });
    const file = path.join(certs, 'clients/sof-case-system/tls.crt.pem');
    const oldSerial = new X509Certificate(readFileSync(file)).serialNumber;
    const keyBefore = readFileSync(path.join(certs, 'clients/sof-case-system/tls.key.pem'), 'utf8');
    unlinkSync(file);
    const result = await ensureDevPki(certs, { systems: ['sof-case-system'] });
    expect(result.created).toEqual(['clients/sof-case-system/tls.crt.pem']);
    const cert = new X509Certificate(readFileSync(file));
    expect(cert.serialNumber).not.toBe(oldSerial);
    expect(cert.checkPrivateKey(createPrivateKey(keyBefore))).toBe(true);
  });

  it('refuses a gateway certificate issued for another gateway id instead of overwriting it', async () => {
    const certs = tmpCerts();
    await ensureDevPki(certs, { systems: [], gatewayId: 'gateway-a' });
    const before = readFileSync(path.join(certs, 'gateway/tls.crt.pem'), 'utf8');
    await expect(ensureDevPki(certs, { systems: [], gatewayId: 'gateway-b' })).rejects.toThrow(
      /names CN=gateway-a, not CN=gateway-b; delete that file/,
    );
    expect(readFileSync(path.join(certs, 'gateway/tls.crt.pem'), 'utf8')).toBe(before);
  });

  it('refuses certificates of a replaced CA', async () => {
    const certs = tmpCerts();
    await ensureDevPki(certs, { systems: ['dpo-console'] });
    unlinkSync(path.join(certs, 'ca/ca.crt.pem'));
    unlinkSync(path.join(certs, 'ca/ca.key.pem'));
    await expect(ensureDevPki(certs, { systems: ['dpo-console'] })).rejects.toThrow(/is not issued by the CA/);
  });

  it('refuses a public signing key that does not match its private key', async () => {
    const certs = tmpCerts();
    await ensureDevPki(certs, { systems: ['dpo-console'] });
    writeFileSync(path.join(certs, 'clients/dpo-console/signing.pub.pem'), readFileSync(path.join(certs, 'gateway/signing.pub.pem')));
    await expect(ensureDevPki(certs, { systems: ['dpo-console'] })).rejects.toThrow(/signing\.pub\.pem is not the public half/);
  });

  it('refuses unsafe ids and a system named like the gateway', async () => {
    const certs = tmpCerts();
    await expect(ensureDevPki(certs, { systems: ['../evil'] })).rejects.toThrow(TypeError);
    await expect(ensureDevPki(certs, { systems: ['snitflade-gateway'] })).rejects.toThrow(/named like the gateway/);
  });

  it('two concurrent runs on one folder end with one consistent PKI', async () => {
    const certs = tmpCerts();
    await Promise.all([ensureDevPki(certs, { systems: SYSTEMS }), ensureDevPki(certs, { systems: SYSTEMS })]);
    // A third run verifies every pair and every chain.
    await expect(ensureDevPki(certs, { systems: SYSTEMS })).resolves.toMatchObject({ created: [] });
    expect(listFiles(certs).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('certificate builders for unusual certificates', () => {
  let ca: CertificateAuthority;
  beforeAll(async () => {
    ca = createCa({ cn: 'Test CA' });
  });

  it('issues with the given validity, serial, EKU and SANs', async () => {
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2020-06-01T00:00:00Z');
    const leaf = issueCertificate({
      ca,
      cn: 'server-only',
      eku: ['serverAuth'],
      sans: ['example.test', '10.0.0.1'],
      notBefore,
      notAfter,
      serial: '0A:bc:01',
    });
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.serialNumber).toBe('0ABC01');
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(cert.subjectAltName).toBe('DNS:example.test, IP Address:10.0.0.1');
    expect(new Date(cert.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(cert.validTo).toISOString()).toBe(notAfter.toISOString());
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
  });

  it('writes a serial with its top bit set as a positive integer', async () => {
    const leaf = issueCertificate({ ca, cn: 'high-serial', eku: ['clientAuth'], serial: 'ff01' });
    // Written as bytes ff 01 without a leading zero byte, DER would read -FF (a negative serial).
    expect(new X509Certificate(leaf.certPem).serialNumber).toBe('FF01');
  });

  it('leaves the EKU out when none is asked for, and rejects nonsense', async () => {
    const leaf = issueCertificate({ ca, cn: 'any-purpose', eku: [] });
    expect(new X509Certificate(leaf.certPem).keyUsage).toBeUndefined();
    expect(() => issueCertificate({ ca, cn: 'x', eku: [], serial: 'xyz' })).toThrow(TypeError);
    expect(() => issueCertificate({ ca, cn: 'x', eku: [], sans: ['not a name'] })).toThrow(TypeError);
    expect(() => issueCertificate({ ca, cn: 'x', eku: [], notBefore: new Date(2000), notAfter: new Date(1000) })).toThrow(TypeError);
  });

  it('certificateInfo gives CN, expiry and days left', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const leaf = issueCertificate({
      ca,
      cn: 'info',
      eku: ['clientAuth'],
      notBefore: new Date('2029-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-31T12:00:00Z'),
    });
    const info = certificateInfo(leaf.certPem, now);
    expect(info).toMatchObject({ subjectCN: 'info', issuerCN: 'Test CA', daysLeft: 30 });
    expect(info.notAfter.toISOString()).toBe('2030-01-31T12:00:00.000Z');
    expect(certificateInfo(leaf.certPem, new Date('2031-01-01T00:00:00Z')).daysLeft).toBeLessThan(0);
  });

  it('createCrl writes a v2 CRL that OpenSSL reads', async () => {
    const crl = createCrl(ca, ['0abc01', 'FF01'], { crlNumber: 7 });
    expect(crl).toMatch(/^-----BEGIN X509 CRL-----\n/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-crl-'));
    tmpDirs.push(dir);
    writeFileSync(path.join(dir, 'crl.pem'), crl);
    writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
    const text = execFileSync(
      'openssl',
      ['crl', '-in', path.join(dir, 'crl.pem'), '-noout', '-text', '-CAfile', path.join(dir, 'ca.pem')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ).toString();
    expect(text).toContain('Version 2');
    expect(text).toContain('Issuer: CN = Test CA, O = Snitflade development');
    expect(text).toMatch(/X509v3 CRL Number:\s*\n\s*7/);
    expect(text).toContain('Serial Number: 0ABC01');
    expect(text).toContain('Serial Number: FF01');
    const verify = execFileSync('openssl', ['crl', '-in', path.join(dir, 'crl.pem'), '-noout', '-CAfile', path.join(dir, 'ca.pem')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(verify).toBeDefined(); // openssl exits non-zero (throws) when the signature does not verify
  });

  it('a TLS server with the CRL refuses the revoked client certificate and accepts the others', async () => {
    const server = issueCertificate({ ca, cn: 'server', sans: ['localhost', '127.0.0.1'], eku: ['serverAuth'] });
    const good = issueCertificate({ ca, cn: 'good-client', eku: ['clientAuth'] });
    const revoked = issueCertificate({ ca, cn: 'revoked-client', eku: ['clientAuth'] });
    const crl = createCrl(ca, [new X509Certificate(revoked.certPem).serialNumber]);
    const srv = https.createServer(
      { cert: server.certPem, key: server.keyPem, ca: ca.certPem, crl, requestCert: true, rejectUnauthorized: true },
      (_req, res) => res.end('ok'),
    );
    srv.on('tlsClientError', () => {});
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const get = (client: { certPem: string; keyPem: string }): Promise<string> =>
      new Promise((resolve, reject) => {
        https
          .get(
            { host: '127.0.0.1', port, servername: 'localhost', ca: ca.certPem, cert: client.certPem, key: client.keyPem, agent: false },
            (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolve(body));
            },
          )
          .on('error', reject);
      });
    try {
      await expect(get(good)).resolves.toBe('ok');
      await expect(get(revoked)).rejects.toThrow();
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
