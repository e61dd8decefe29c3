/**
 * Trusted consent services in the configuration (`consent.issuers`, `consent.backdateGraceDays`)
 * and loading their keys (src/consent/issuers.ts): only EC P-256 public keys for ES256, each named
 * by its kid; anything else stops start-up with a LoadError at the setting, saying what to do.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompactSign, compactVerify } from 'jose';
import { loadConfig, type ConfigInput, type ConsentIssuerConfig } from '../src/config/config.js';
import { consentServices, loadConsentIssuers, type TrustedKeyNote } from '../src/consent/issuers.js';
import { createGateway } from '../src/gateway.js';
import { LoadError } from '../src/lib/load-error.js';
import { createLogger } from '../src/log.js';
import { ROOT, testCerts } from './support/env.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-consent-issuers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });
const write = (name: string, text: string): string => {
  writeFileSync(path.join(dir, name), text);
  return name;
};
const spki = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();
const jwk = (key: KeyObject): Record<string, unknown> => key.export({ format: 'jwk' }) as Record<string, unknown>;

const p256 = ec('prime256v1');
const p256b = ec('prime256v1');
const p384 = ec('secp384r1');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

const config = (consent: ConfigInput['consent']) => loadConfig({ root: ROOT, env: {}, overrides: { paths: { certs: dir }, consent } });
const issuer = (over: Partial<ConsentIssuerConfig> = {}): ConsentIssuerConfig => ({
  id: 'samtykke',
  publicKeys: [{ kid: 'k1', file: write('k1.pem', spki(p256.publicKey)) }],
  ...over,
});
const load = (i: ConsentIssuerConfig) => loadConsentIssuers(config({ issuers: [i] }));

/** The LoadError `promise` rejects with, checked to point at `setting`. */
async function loadError(promise: Promise<unknown>, setting: string): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LoadError);
  expect((err as LoadError).path).toBe(setting);
  return (err as LoadError).message;
}

describe('configuration: consent', () => {
  it('defaults: a 7-day grace for back-dated paper forms, and no consent service trusted', () => {
    const c = loadConfig({ root: ROOT, env: {} });
    expect(c.consent).toEqual({ timeoutMs: 2000, backdateGraceDays: 7, issuers: [] });
    expect(Object.isFrozen(c.consent.issuers)).toBe(true);
  });

  it('takes the grace from SNITFLADE_CONSENT_BACKDATE_GRACE_DAYS, 0 to 365 days', () => {
    expect(loadConfig({ root: ROOT, env: { SNITFLADE_CONSENT_BACKDATE_GRACE_DAYS: '0' } }).consent.backdateGraceDays).toBe(0);
    expect(loadConfig({ root: ROOT, env: { SNITFLADE_CONSENT_BACKDATE_GRACE_DAYS: '365' } }).consent.backdateGraceDays).toBe(365);
    expect(() => loadConfig({ root: ROOT, env: { SNITFLADE_CONSENT_BACKDATE_GRACE_DAYS: '366' } })).toThrow(
      'configuration at /consent/backdateGraceDays: must be <= 365',
    );
    expect(() => loadConfig({ root: ROOT, env: { SNITFLADE_CONSENT_BACKDATE_GRACE_DAYS: '-1' } })).toThrow(
      new LoadError('environment SNITFLADE_CONSENT_BACKDATE_GRACE_DAYS', '', 'must be a whole number, got "-1"'),
    );
    expect(() => config({ backdateGraceDays: 1.5 })).toThrow('configuration at /consent/backdateGraceDays: must be integer');
  });

  it('takes issuers with keys as PEM files or a JWKS, an https url and a CA', () => {
    const c = config({
      issuers: [
        { id: 'digitalt-samtykke', jwksFile: 'ds.jwks.json', url: 'https://samtykke-adapter.example.dk', caFile: 'ds-ca.pem' },
        { id: 'demo-samtykke', publicKeys: [{ kid: 'k1', file: 'k1.pem' }] },
      ],
    });
    expect(c.consent.issuers.map((i) => i.id)).toEqual(['digitalt-samtykke', 'demo-samtykke']);
  });

  it('refuses an issuer without keys, one configured twice, a CA without url, an http url, an unknown setting', () => {
    expect(() => config({ issuers: [{ id: 'x', url: 'https://x.example' }] })).toThrow(
      'configuration at /consent/issuers/0: the consent service "x" has no public keys; give publicKeys ([{kid, file}], PEM files) or jwksFile (a JWKS file), or both',
    );
    expect(() => config({ issuers: [issuer(), issuer({ jwksFile: 'j.json' })] })).toThrow(
      'configuration at /consent/issuers/1/id: the consent service "samtykke" is configured twice (also at /consent/issuers/0); merge its keys into one entry',
    );
    expect(() => config({ issuers: [issuer({ caFile: 'ca.pem' })] })).toThrow(
      'configuration at /consent/issuers/0: must have property url when property caFile is present',
    );
    expect(() => config({ issuers: [issuer({ url: 'http://samtykke.example' })] })).toThrow(
      'configuration at /consent/issuers/0/url: must match pattern',
    );
    expect(() => config({ issuers: [{ ...issuer(), keys: [] } as ConsentIssuerConfig] })).toThrow(
      'configuration at /consent/issuers/0: must NOT have additional properties',
    );
    expect(() => config({ issuers: [issuer({ publicKeys: [] })] })).toThrow(
      'configuration at /consent/issuers/0/publicKeys: must NOT have fewer than 1 items',
    );
  });
});

describe('loadConsentIssuers', () => {
  it('loads PEM and JWKS keys by kid, as keys that verify what the service signed; tells their thumbprints, never the keys', async () => {
    const jwks = write('s.jwks.json', JSON.stringify({ keys: [{ ...jwk(p256b.publicKey), kid: 'k2', alg: 'ES256', use: 'sig' }] }));
    const notes: TrustedKeyNote[] = [];
    const issuers = await loadConsentIssuers(config({ issuers: [issuer({ jwksFile: path.join(dir, jwks) })] }), {
      onKey: (n) => notes.push(n),
    });
    const keys = issuers.get('samtykke')!.keys;
    expect([...keys.keys()]).toEqual(['k1', 'k2']);
    for (const [kid, privateKey] of [
      ['k1', p256.privateKey],
      ['k2', p256b.privateKey],
    ] as const) {
      const jws = await new CompactSign(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
      await expect(compactVerify(jws, keys.get(kid)!)).resolves.toBeDefined();
      await expect(compactVerify(jws, keys.get(kid === 'k1' ? 'k2' : 'k1')!)).rejects.toThrow();
    }
    expect(notes).toEqual([
      { issuer: 'samtykke', kid: 'k1', thumbprint: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
      { issuer: 'samtykke', kid: 'k2', thumbprint: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
    ]);
    expect(JSON.stringify(notes)).not.toContain(String(jwk(p256.publicKey).x));
  });

  it('refuses a key file that is missing, naming the file, the setting and the certificate folder', async () => {
    const message = await loadError(
      load(issuer({ publicKeys: [{ kid: 'k1', file: 'nowhere.pem' }] })),
      '/consent/issuers/0/publicKeys/0/file',
    );
    expect(message).toBe(
      `configuration at /consent/issuers/0/publicKeys/0/file: ${path.join(dir, 'nowhere.pem')} does not exist; it should hold the public key of ` +
        `consent service "samtykke" (PEM, "BEGIN PUBLIC KEY") (relative paths are in the certificate folder ${dir})`,
    );
    await loadError(load(issuer({ jwksFile: 'nowhere.json' })), '/consent/issuers/0/jwksFile');
  });

  it('refuses a key that is not EC P-256, a private key, and anything that is not a public key', async () => {
    const at = '/consent/issuers/0/publicKeys/0/file';
    const as = (file: string, text: string) => issuer({ publicKeys: [{ kid: 'k1', file: write(file, text) }] });
    expect(await loadError(load(as('p384.pem', spki(p384.publicKey))), at)).toContain(
      'is an EC key on secp384r1; consent artefacts are ES256, so consent service "samtykke" must publish EC P-256 keys',
    );
    expect(await loadError(load(as('rsa.pem', spki(rsa.publicKey))), at)).toContain('is an rsa key; consent artefacts are ES256');
    const privatePem = p256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await loadError(load(as('private.pem', privatePem)), at)).toContain(
      'is a PEM "PRIVATE KEY", not a public key; give the consent service\'s public key as PEM SPKI ("BEGIN PUBLIC KEY"), and keep the private key away from the gateway',
    );
    expect(await loadError(load(as('cert.pem', readFileSync(path.join(await testCerts(), 'ca/ca.crt.pem'), 'utf8'))), at)).toContain(
      'is a PEM "CERTIFICATE", not a public key',
    );
    expect(await loadError(load(as('text.pem', 'hello')), at)).toContain('is not PEM, not a public key');
  });

  it('refuses a JWKS key without kid, for another alg or use, another kind or curve, or private; and a kid given twice', async () => {
    const at = '/consent/issuers/0/jwksFile';
    const withJwks = (keys: unknown[]) => issuer({ publicKeys: undefined, jwksFile: write('k.jwks.json', JSON.stringify({ keys })) });
    const good = jwk(p256b.publicKey);
    expect(await loadError(load(withJwks([good])), at)).toContain(
      'key 0 has no kid (1-128 printable characters); every key must have one, as artefacts name their key by kid',
    );
    expect(
      await loadError(
        load(
          withJwks([
            { ...good, kid: 'a' },
            { ...jwk(rsa.publicKey), kid: 'b' },
          ]),
        ),
        at,
      ),
    ).toContain('key 1 (kid "b") is an rsa key; consent artefacts are ES256');
    expect(await loadError(load(withJwks([{ ...jwk(p384.publicKey), kid: 'c' }])), at)).toContain(
      'key 0 (kid "c") is an EC key on secp384r1',
    );
    expect(await loadError(load(withJwks([{ ...good, kid: 'd', alg: 'RS256' }])), at)).toContain(
      'is for alg RS256; only ES256 keys are accepted',
    );
    expect(await loadError(load(withJwks([{ ...good, kid: 'e', use: 'enc' }])), at)).toContain('only signing keys ("sig") are accepted');
    expect(await loadError(load(withJwks([{ ...jwk(p256.privateKey), kid: 'f' }])), at)).toContain('is a private key (it has "d")');
    expect(await loadError(load(withJwks([{ kty: 'oct', k: 'c2VjcmV0', kid: 'g' }])), at)).toContain(
      'key 0 (kid "g") is not a usable public key (kty oct); only EC P-256 keys for ES256 are accepted',
    );
    expect(await loadError(load(withJwks([])), at)).toContain('not a JWKS with keys');
    expect(await loadError(load(issuer({ jwksFile: write('bad.json', '{') })), at)).toContain('not JSON');
    expect(
      await loadError(load(issuer({ jwksFile: write('dup.jwks.json', JSON.stringify({ keys: [{ ...good, kid: 'k1' }] })) })), at),
    ).toContain('the key id "k1" of consent service "samtykke" is given twice; each kid names one key');
  });
});

describe('consentServices', () => {
  const tls = { cert: 'unused', key: 'unused', ca: 'unused' };

  it('makes a client for each issuer with a url, none for one without', async () => {
    const c = config({ issuers: [issuer(), { ...issuer({ id: 'other', url: 'https://samtykke.example.dk/adapter' }) }] });
    const clients = consentServices(c, await loadConsentIssuers(c), tls);
    expect(clients.map((s) => s.issuer)).toEqual(['other']);
    for (const s of clients) s.close();
  });

  it('refuses a CA file that is missing or not a certificate, and a url with a query or credentials', async () => {
    const made = (i: ConsentIssuerConfig) => async () => {
      const c = config({ issuers: [i] });
      return consentServices(c, await loadConsentIssuers(c), tls);
    };
    expect(await loadError(made(issuer({ url: 'https://s.example', caFile: 'no-ca.pem' }))(), '/consent/issuers/0/caFile')).toContain(
      "does not exist; it should hold the PEM certificate of the CA that signs the consent service's TLS certificate",
    );
    expect(
      await loadError(
        made(issuer({ url: 'https://s.example', caFile: write('not-ca.pem', spki(p256.publicKey)) }))(),
        '/consent/issuers/0/caFile',
      ),
    ).toContain('is not a PEM certificate');
    for (const url of ['https://s.example/?cpr=1', 'https://user:pw@s.example', 'https://s.example/#x']) {
      expect(await loadError(made(issuer({ url }))(), '/consent/issuers/0/url')).toContain(
        'must be an https:// base address without credentials, query or fragment',
      );
    }
  });
});

describe('the gateway at start-up', () => {
  const start = async (issuers: ConsentIssuerConfig[]) => {
    const data = mkdtempSync(path.join(dir, 'data-'));
    const c = loadConfig({
      root: ROOT,
      env: {},
      overrides: {
        listen: { host: '127.0.0.1', port: 0 },
        paths: { certs: await testCerts(), data },
        store: { kind: 'sqlite', file: path.join(data, 'snitflade.db') },
        notifications: { worker: false },
        consent: { issuers },
        policies: { requireApprovals: false },
        log: {
          level: 'info',
          console: false,
          file: path.join(ROOT, 'test-output', 'logs', `consent-issuers-${process.pid}-${Date.now()}.log`),
        },
      },
    });
    return createGateway(c, { logger: createLogger({ ...c.log, service: 'test-consent-issuers' }) });
  };

  it('exposes the trusted issuers and a client for each service with a url', async () => {
    const gateway = await start([
      issuer({ publicKeys: [{ kid: 'k1', file: path.join(dir, write('gw.pem', spki(p256.publicKey))) }], url: 'https://localhost:1' }),
    ]);
    try {
      expect([...gateway.consentIssuers.keys()]).toEqual(['samtykke']);
      expect(gateway.consentServices.map((s) => s.issuer)).toEqual(['samtykke']);
    } finally {
      await gateway.close();
    }
  });

  it('stops with the LoadError of an issuer setting it cannot use', async () => {
    await loadError(
      start([issuer({ publicKeys: [{ kid: 'k1', file: path.join(dir, 'missing.pem') }] })]),
      '/consent/issuers/0/publicKeys/0/file',
    );
  });
});
