/**
 * Certificate revocation: the CRL is believed only when the CA signed it; a revoked client
 * certificate is refused (401 CERTIFICATE_UNTRUSTED); a broken CRL stops start-up, naming the
 * file; a reload (SIGHUP) picks up a new CRL, and keeps the old one if the new one is broken.
 */
import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CrlError, NO_REVOCATIONS, loadRevocationList, normaliseSerialHex, parseCrl } from '../../src/auth/crl.js';
import { loadConfig } from '../../src/config/config.js';
import { createGateway } from '../../src/gateway.js';
import { LoadError } from '../../src/lib/load-error.js';
import { createLogger } from '../../src/log.js';
import { createCa, createCrl, issueCertificate } from '../../src/pki/devpki.js';
import { ROOT, TEST_CERTS, startTestEnv, testCerts, type TestEnv } from '../support/env.js';
import { caOnly, clientCreds, send, testRsaKey, type Creds } from './support.js';

jest.setTimeout(60_000);

const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber;

describe('parseCrl', () => {
  const ca = createCa({ cn: 'CRL test CA', keyPem: testRsaKey(0) });
  const other = createCa({ cn: 'CRL test CA', keyPem: testRsaKey(1) }); // same name, another key
  const a = issueCertificate({ ca, cn: 'a', eku: ['clientAuth'], keyPem: testRsaKey(2) });
  const b = issueCertificate({ ca, cn: 'b', eku: ['clientAuth'], keyPem: testRsaKey(2) });
  const small = issueCertificate({ ca, cn: 'c', eku: ['clientAuth'], serial: '0a', keyPem: testRsaKey(2) });

  it('lists exactly the revoked serials, however the serial is spelled', () => {
    const list = parseCrl(createCrl(ca, [serialOf(a.certPem), '0a']), ca.certPem);
    expect(list.count).toBe(2);
    expect(list.isRevoked(serialOf(a.certPem))).toBe(true);
    expect(list.isRevoked(serialOf(a.certPem).toLowerCase())).toBe(true);
    expect(list.isRevoked(serialOf(b.certPem))).toBe(false);
    expect(list.isRevoked(serialOf(small.certPem))).toBe(true);
    expect(list.isRevoked('000A')).toBe(true);
    expect(list.isRevoked('0:a')).toBe(true);
    expect(normaliseSerialHex('00:0a:FF')).toBe('AFF');
  });

  it('reads an empty CRL and its dates', () => {
    const thisUpdate = new Date(Date.UTC(2026, 0, 1));
    const list = parseCrl(createCrl(ca, [], { thisUpdate, nextUpdate: new Date(Date.UTC(2026, 1, 1)) }), ca.certPem, {
      now: new Date(Date.UTC(2026, 0, 2)),
    });
    expect(list.count).toBe(0);
    expect(list.thisUpdate).toEqual(thisUpdate);
    expect(list.nextUpdate).toEqual(new Date(Date.UTC(2026, 1, 1)));
  });

  it('refuses a CRL signed by another key, even under the same CA name', () => {
    expect(() => parseCrl(createCrl(other, [serialOf(a.certPem)]), ca.certPem)).toThrow(/signature does not verify/);
  });

  it('refuses a CRL of another issuer', () => {
    const stranger = createCa({ cn: 'Someone else', keyPem: testRsaKey(1) });
    expect(() => parseCrl(createCrl(stranger, []), ca.certPem)).toThrow(/not issued by the trusted CA/);
  });

  it('refuses a CRL changed after signing (a revoked serial removed or altered)', () => {
    const pem = createCrl(ca, [serialOf(a.certPem)]);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const serial = Buffer.from(serialOf(a.certPem).replace(/^00/, ''), 'hex');
    const at = der.indexOf(serial);
    expect(at).toBeGreaterThan(0);
    der[at + serial.length - 1] = der[at + serial.length - 1]! ^ 0x01;
    const tampered = `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`;
    expect(() => parseCrl(tampered, ca.certPem)).toThrow(CrlError);
  });

  it('refuses a CRL dated in the future, garbage, and trailing bytes', () => {
    expect(() => parseCrl(createCrl(ca, [], { thisUpdate: new Date(Date.now() + 86_400_000) }), ca.certPem)).toThrow(/future/);
    expect(() => parseCrl('not a crl', ca.certPem)).toThrow(CrlError);
    expect(() => parseCrl('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----', ca.certPem)).toThrow(CrlError);
    const der = Buffer.from(createCrl(ca, []).replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const longer = `-----BEGIN X509 CRL-----\n${Buffer.concat([der, Buffer.from([0])]).toString('base64')}\n-----END X509 CRL-----`;
    expect(() => parseCrl(longer, ca.certPem)).toThrow(/trailing/);
  });

  it('reads a CRL made by OpenSSL for an ECDSA CA', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-crl-'));
    const run = (...args: string[]): string => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    run(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=EC test CA',
      '-days',
      '30',
    );
    writeFileSync(path.join(dir, 'index.txt'), 'R\t301231235959Z\t260101000000Z\t0123ABCD\tunknown\t/CN=revoked\n');
    writeFileSync(path.join(dir, 'crlnumber'), '01\n');
    writeFileSync(
      path.join(dir, 'ca.cnf'),
      '[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n',
    );
    run('ca', '-gencrl', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-out', 'crl.pem');
    const caPem = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const list = parseCrl(readFileSync(path.join(dir, 'crl.pem'), 'utf8'), caPem);
    expect(list.count).toBe(1);
    expect(list.isRevoked('0123ABCD')).toBe(true);
    expect(list.isRevoked('0123ABCE')).toBe(false);
    expect(() => parseCrl(readFileSync(path.join(dir, 'crl.pem'), 'utf8'), ca.certPem)).toThrow(CrlError);
  });
});

describe('loadRevocationList', () => {
  it('means "none revoked" when no CRL is configured and certs/ca/crl.pem does not exist', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-nocrl-'));
    expect(loadRevocationList({ certsDir: dir })).toBe(NO_REVOCATIONS);
  });

  it('stops with a LoadError naming a configured CRL file that is missing', () => {
    const missing = path.join(os.tmpdir(), 'snitflade-no-such-crl.pem');
    expect(() => loadRevocationList({ certsDir: TEST_CERTS, crlFile: missing })).toThrow(LoadError);
    expect(() => loadRevocationList({ certsDir: TEST_CERTS, crlFile: missing })).toThrow(missing);
  });
});

describe('revocation at the gateway', () => {
  let env: TestEnv;
  let crlFile: string;
  let ca: { certPem: string; keyPem: string };
  let first: Creds & { serial: string };
  let second: Creds & { serial: string };
  const leaf = (): Creds & { serial: string } => {
    const c = issueCertificate({ ca, cn: 'sof-case-system', eku: ['clientAuth'], keyPem: testRsaKey(2) });
    return { ca: caOnly().ca, cert: c.certPem, key: c.keyPem, serial: serialOf(c.certPem) };
  };
  const status = async (creds: Creds): Promise<{ status: number; code: string | undefined }> => {
    const res = await send(env.url, { method: 'GET', path: '/v1/contracts', creds, fresh: true });
    return { status: res.status, code: res.json?.code };
  };

  beforeAll(async () => {
    await testCerts();
    ca = {
      certPem: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.crt.pem'), 'utf8'),
      keyPem: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.key.pem'), 'utf8'),
    };
    first = leaf();
    second = leaf();
    const data = mkdtempSync(path.join(os.tmpdir(), 'snitflade-crl-env-'));
    crlFile = path.join(data, 'crl.pem');
    writeFileSync(crlFile, createCrl(ca, [first.serial]));
    env = await startTestEnv({ name: 'hardening-crl', overrides: { paths: { certs: TEST_CERTS, data, crl: crlFile } } });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('refuses a revoked certificate and accepts a sibling that is not revoked', async () => {
    expect(await status(first)).toEqual({ status: 401, code: 'CERTIFICATE_UNTRUSTED' });
    expect((await status(second)).status).toBe(200);
  });

  it('picks up a new CRL on reload', async () => {
    writeFileSync(crlFile, createCrl(ca, [first.serial, second.serial]));
    await env.gateway.reload();
    expect(await status(second)).toEqual({ status: 401, code: 'CERTIFICATE_UNTRUSTED' });
  });

  it('keeps the CRL in force when the new one does not verify', async () => {
    const rogue = createCa({ cn: 'Snitflade development CA', keyPem: testRsaKey(1) });
    writeFileSync(crlFile, createCrl(rogue, []));
    await expect(env.gateway.reload()).rejects.toThrow(LoadError);
    expect(await status(first)).toEqual({ status: 401, code: 'CERTIFICATE_UNTRUSTED' });
    expect(await status(second)).toEqual({ status: 401, code: 'CERTIFICATE_UNTRUSTED' });
  });

  it('reports the list in force on the readiness detail and /metrics, and a stale one as not current without going unready', async () => {
    const ready = async (): Promise<{ status: number; json: { ready: boolean; revocation: Record<string, unknown> } }> =>
      (await send(env.url, { method: 'GET', path: '/v1/admin/readiness', creds: clientCreds('ops-console') })) as never;
    const scrapeNextUpdate = async (): Promise<number> => {
      const text = (await send(env.url, { method: 'GET', path: '/metrics', creds: second })).text;
      return Number(/^snitflade_crl_next_update_timestamp_seconds (\d+)$/m.exec(text)?.[1]);
    };
    // A fresh list revoking only `first` (the rogue list of the test before was refused).
    const DAY = 86_400_000;
    const now = Date.now();
    writeFileSync(crlFile, createCrl(ca, [first.serial], { thisUpdate: new Date(now - DAY), nextUpdate: new Date(now + 6 * DAY) }));
    await env.gateway.reload();
    let r = await ready();
    expect(r.status).toBe(200);
    expect(r.json.revocation).toEqual({
      configured: true,
      revoked: 1,
      thisUpdate: expect.any(String),
      nextUpdate: expect.any(String),
      current: true,
    });
    expect(await scrapeNextUpdate()).toBe(Math.floor(Date.parse(r.json.revocation.nextUpdate as string) / 1000));

    // Past its nextUpdate: still in force, reported as not current, the gateway still ready.
    const staleNext = new Date(now - 2 * DAY);
    writeFileSync(crlFile, createCrl(ca, [first.serial], { thisUpdate: new Date(now - 9 * DAY), nextUpdate: staleNext }));
    await env.gateway.reload();
    r = await ready();
    expect(r.status).toBe(200);
    expect(r.json.ready).toBe(true);
    expect((await send(env.url, { method: 'GET', path: '/readyz', creds: caOnly() })).json).toEqual({ ready: true, reasons: [] });
    expect(r.json.revocation).toMatchObject({
      configured: true,
      revoked: 1,
      nextUpdate: new Date(Math.floor(staleNext.getTime() / 1000) * 1000).toISOString(),
      current: false,
    });
    expect(await status(first)).toEqual({ status: 401, code: 'CERTIFICATE_UNTRUSTED' });
    expect(await scrapeNextUpdate()).toBeLessThan(now / 1000);
  });

  it('does not start with a CRL that does not verify, and names the file', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'snitflade-crl-bad-'));
    const bad = path.join(data, 'crl.pem');
    writeFileSync(bad, createCrl(createCa({ cn: 'Snitflade development CA', keyPem: testRsaKey(1) }), []));
    const config = loadConfig({
      root: ROOT,
      env: {},
      overrides: {
        paths: { certs: TEST_CERTS, data, crl: bad },
        store: { kind: 'sqlite', file: path.join(data, 'db.sqlite') },
        policies: { requireApprovals: false },
        log: { level: 'error', console: false },
      },
    });
    await expect(createGateway(config, { logger: createLogger({ level: 'error', console: false }) })).rejects.toThrow(
      new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*signature does not verify`),
    );
  });
});
