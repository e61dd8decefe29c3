import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { loadClients } from '../src/auth/clients.js';
import { displayPath } from '../src/contracts/registry.js';
import { LoadErrors } from '../src/lib/load-error.js';
import { checkRules } from '../src/rules/check.js';
import { testCerts } from './support/env.js';

jest.setTimeout(120_000);

/**
 * What a signed policy means beyond its own file (docs/POLICY-APPROVALS.md, SECURITY.md threat
 * 30), from the side of someone who can write to policies/ (and, where said, schemas/) but not to
 * the configuration, the certificate folder or an approver's private key: the client registry,
 * the contract a policy releases from and the purpose it serves.
 */

const ROOT = process.cwd();

let dir: string;
let policies: string;
let schemas: string;

function edit(folder: string, file: string, from: string | RegExp, to: string): void {
  const p = path.join(folder, file);
  const text = readFileSync(p, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`nothing to replace in ${file}`);
  writeFileSync(p, next);
}

/** The problems of a promise that must reject with LoadErrors. */
async function problemsOf(load: Promise<unknown>): Promise<string[]> {
  const err = await load.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LoadErrors);
  return (err as LoadErrors).errors.map((e) => `${e.path}: ${e.problem}`);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-approvals-deps-'));
  policies = path.join(dir, 'policies');
  schemas = path.join(dir, 'schemas');
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
  cpSync(path.join(ROOT, 'schemas'), schemas, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("a client's signing keys come from the certificate folder only", () => {
  const SOF_KEY = '{ kid: sof-case-system-1, file: clients/sof-case-system/signing.pub.pem }';
  const clients = (): string => path.join(policies, 'clients.yaml');

  it('loads the registry as shipped', async () => {
    const registry = await loadClients(clients(), await testCerts());
    expect(registry.byId('sof-case-system')?.signingKeys).toHaveLength(1);
  });

  it('refuses an inline jwk: whoever writes policies/ would choose the token key', async () => {
    edit(
      policies,
      'clients.yaml',
      SOF_KEY,
      "{ kid: sof-case-system-1, jwk: { kty: OKP, crv: Ed25519, x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' } }",
    );
    expect(await problemsOf(loadClients(clients(), await testCerts()))).toEqual([
      expect.stringMatching(
        /^\/clients\/0\/signingKeys\/0\/jwk: an inline "jwk" is not accepted: a signing key is a PEM file in the certificate folder/,
      ),
    ]);
  });

  const outside = `outside-${process.pid}.pub.pem`;
  it.each([
    ['through ".."', `../${outside}`],
    ['deeper through ".."', `clients/../../${outside}`],
    ['absolute', path.join(os.tmpdir(), outside)],
  ])('refuses a key file path that leaves the certificate folder (%s)', async (_, file) => {
    const certs = await testCerts();
    // A real public key out there: refused for where it is, not for what it is.
    const there = path.resolve(certs, file);
    cpSync(path.join(certs, 'clients/sof-case-system/signing.pub.pem'), there);
    try {
      edit(policies, 'clients.yaml', SOF_KEY, `{ kid: sof-case-system-1, file: ${file} }`);
      expect(await problemsOf(loadClients(clients(), certs))).toEqual([
        `/clients/0/signingKeys/0/file: signing-key file "${file}" is outside the certificate folder ${displayPath(certs)}; name a file in it, by a path relative to it without ".."`,
      ]);
    } finally {
      rmSync(there, { force: true });
    }
  });

  it('refuses such a path in "snitflade check" on a machine without a certificate folder too', async () => {
    edit(policies, 'clients.yaml', SOF_KEY, '{ kid: sof-case-system-1, file: ../../etc/key.pem }');
    const report = await checkRules({ schemas, policies, certs: path.join(dir, 'no-certs') });
    expect(report.errors.map((e) => `${e.path}: ${e.problem}`)).toEqual([
      expect.stringMatching(
        /^\/clients\/0\/signingKeys\/0\/file: signing-key file "\.\.\/\.\.\/etc\/key\.pem" is outside the certificate folder/,
      ),
    ]);
  });
});
