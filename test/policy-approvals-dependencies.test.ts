import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { loadClients } from '../src/auth/clients.js';
import { loadConfig } from '../src/config/config.js';
import { displayPath } from '../src/contracts/registry.js';
import { LoadErrors } from '../src/lib/load-error.js';
import { checkRules } from '../src/rules/check.js';
import { loadRules } from '../src/rules/load.js';
import { approvalSettings, signedCopy, signPolicies, type TestApprover } from './support/approvers.js';
import { testCerts } from './support/env.js';

jest.setTimeout(120_000);

/**
 * What a signed policy means beyond its own file (docs/POLICY-APPROVALS.md, SECURITY.md threat
 * 30), from the side of someone who can write to policies/ (and, where said, schemas/) but not to
 * the configuration, the certificate folder or an approver's private key: the client registry,
 * the contract a policy releases from and the purpose it serves.
 */

const ROOT = process.cwd();
const STATUS_POLICY = 'sof-reads-employment-status';
const REHAB_POLICY = 'bif-rehab-team-reads-health-info';

let dir: string;
let policies: string;
let schemas: string;
let legal: TestApprover;
let dpo: TestApprover;

function edit(folder: string, file: string, from: string | RegExp, to: string): void {
  const p = path.join(folder, file);
  const text = readFileSync(p, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`nothing to replace in ${file}`);
  writeFileSync(p, next);
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The problems of a promise that must reject with LoadErrors. */
async function problemsOf(load: Promise<unknown>): Promise<string[]> {
  const err = await load.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LoadErrors);
  return (err as LoadErrors).errors.map((e) => `${e.path}: ${e.problem}`);
}

async function config() {
  return loadConfig({
    root: ROOT,
    env: {},
    overrides: { paths: { certs: await testCerts(), data: dir, policies, schemas }, policies: approvalSettings([legal, dpo]) },
  });
}

/** The problems that keep the rule set in the folders out of force (start-up or reload); none: it comes into force. */
async function refusals(): Promise<string[]> {
  return loadRules(await config()).then(
    () => [],
    (err: unknown) => {
      if (err instanceof LoadErrors) return err.errors.map((e) => e.message);
      throw err;
    },
  );
}

beforeEach(async () => {
  ({ dir, policies, schemas, legal, dpo } = await signedCopy(ROOT, 'approvals-deps'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('what a signed policy means, beyond its own file', () => {
  it('the baseline: every policy signed, the set comes into force', async () => {
    expect(await refusals()).toEqual([]);
  });

  // A policy names fields; the contract says what a field holds. A permitted field widened with
  // free text (or the contract's provider changed) makes the same signed policy release more.
  it("refuses a change to the contract a signed policy releases from (a permitted field's content widened), naming the contract", async () => {
    const file = path.join(schemas, 'employment.citizen-status.v1.json');
    const contract = JSON.parse(readFileSync(file, 'utf8')) as {
      response: { properties: { nextMeeting: { properties: Record<string, unknown> } } };
    };
    contract.response.properties.nextMeeting.properties.notes = { type: 'string', maxLength: 4000 };
    writeFileSync(file, JSON.stringify(contract, null, 2));
    const problems = await refusals();
    const shown = displayPath(policies);
    // At the approval's place in the approvals file, naming the policy, the contract, the approver and how to sign again.
    const dpoProblem = problems.find((p) => p.startsWith(`${shown}/${STATUS_POLICY}.approvals.yaml:`) && p.includes('approver "dpo"'));
    expect(dpoProblem).toContain(
      ` at /approvals/1: policy "${STATUS_POLICY}" (${shown}/${STATUS_POLICY}.policy.yaml) is stale: contract employment.citizen-status.v1 changed since policy "${STATUS_POLICY}" was signed by approver "dpo" (contract content `,
    );
    expect(dpoProblem).toMatch(/\(contract content [0-9a-f]{12} then, [0-9a-f]{12} now\)/);
    expect(dpoProblem).toContain(`have it signed again: npx snitflade policy sign --policy ${STATUS_POLICY} --approver dpo`);
    expect(problems.every((p) => /is stale: contract employment\.citizen-status\.v1 changed since/.test(p))).toBe(true);
  });

  it("refuses a change of the provider a signed policy releases from, and a change of the contract's layout does not", async () => {
    const file = path.join(schemas, 'employment.citizen-status.v1.json');
    const contract = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    // Keys in another order, another indentation: the same content, still approved.
    writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(contract).reverse()), null, 4));
    expect(await refusals()).toEqual([]);
    edit(schemas, 'employment.citizen-status.v1.json', '"system": "bif-jobcentre-system"', '"system": "sof-case-system"');
    expect(await refusals()).toContainEqual(expect.stringContaining('is stale: contract employment.citizen-status.v1 changed since'));
  });

  // A consent-based Art. 9 policy relies on the purpose's consentMaxDuration: a consent for
  // "rehabilitation-team-assessment" could then run for 99 years, under the same approvals.
  it("refuses a change to the purpose a signed policy serves (the consent's longest duration), naming the purpose", async () => {
    edit(policies, 'purposes.yaml', /(- id: rehabilitation-team-assessment[\s\S]*?consentMaxDuration: )P1Y/, '$1P99Y');
    const problems = await refusals();
    expect(problems).toContainEqual(
      expect.stringContaining(
        `policy "${REHAB_POLICY}" (${displayPath(policies)}/${REHAB_POLICY}.policy.yaml) is stale: purpose rehabilitation-team-assessment changed since policy "${REHAB_POLICY}" was signed by approver "bif-legal-office" (purpose content `,
      ),
    );
    // Only the policies serving that purpose lost their approvals.
    expect(problems.every((p) => p.includes('purpose rehabilitation-team-assessment changed since'))).toBe(true);
  });
});

describe('the registries a signed policy depends on are approved like a policy', () => {
  // policies/clients.yaml decides who "SOF, role caseworker-system" is. The operations console
  // (administration OPS, no access to citizen data by design) relabelled as a SOF case system
  // would receive everything every signed SOF policy grants.
  it('refuses a client registry that gives another system the administration and roles a signed policy names', async () => {
    edit(
      policies,
      'clients.yaml',
      /administration: OPS\n(\s+)roles: \[operations\]/,
      'administration: SOF\n$1roles: [operations, caseworker-system, coordinating-caseworker]',
    );
    const problems = await refusals();
    const shown = displayPath(policies);
    expect(problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${escape(shown)}/clients\\.approvals\\.yaml:8 at /approvals/0: registry clients\\.yaml \\(${escape(shown)}/clients\\.yaml\\) changed after signing: approver "bif-legal-office" signed it as content [0-9a-f]{12}, it is now [0-9a-f]{12}; have it signed again: npx snitflade policy sign --registry clients --approver bif-legal-office`,
        ),
      ),
      expect.stringContaining(`${shown}/clients.approvals.yaml:10 at /approvals/1: registry clients.yaml`),
    ]);
  });

  it('refuses a client registry without its approvals, naming the file and how to sign it', async () => {
    rmSync(path.join(policies, 'clients.approvals.yaml'));
    const shown = displayPath(policies);
    expect(await refusals()).toEqual([
      `${shown}/clients.yaml: registry clients.yaml (${shown}/clients.yaml) lacks the approval of bif-legal-office (BIF legal office); have it signed: npx snitflade policy sign --registry clients --approver bif-legal-office --key <the approver's private key>`,
      `${shown}/clients.yaml: registry clients.yaml (${shown}/clients.yaml) lacks the approval of dpo (Data protection officer); have it signed: npx snitflade policy sign --registry clients --approver dpo --key <the approver's private key>`,
    ]);
  });

  it('refuses a changed capacities registry (a relation clause names capacities) and administrations registry', async () => {
    edit(policies, 'capacities.yaml', /(- id: social-case\n\s+administrations: )\[SOF\]/, '$1[SOF, OPS]');
    expect(await refusals()).toEqual([
      expect.stringContaining('registry capacities.yaml ('),
      expect.stringContaining('registry capacities.yaml ('),
    ]);
    await signPolicies(schemas, policies, [legal, dpo], ['capacities']);
    expect(await refusals()).toEqual([]);
    edit(policies, 'administrations.yaml', 'da: Beskæftigelses- og Integrationsforvaltningen', 'da: Beskæftigelsesforvaltningen');
    const problems = await refusals();
    expect(problems).toHaveLength(2);
    expect(problems.every((p) => p.includes('registry administrations.yaml ('))).toBe(true);
  });

  it("refuses a policy named after a registry: its approvals file would be the registry's", async () => {
    const from = path.join(policies, `${STATUS_POLICY}.policy.yaml`);
    const text = readFileSync(from, 'utf8').replace(`id: ${STATUS_POLICY}`, 'id: clients');
    writeFileSync(path.join(policies, 'clients.policy.yaml'), text);
    rmSync(from);
    rmSync(path.join(policies, `${STATUS_POLICY}.test.yaml`));
    expect(await refusals()).toContainEqual(
      expect.stringContaining(
        'at /id: "clients" is the name of a registry in the policies folder (its approvals are clients.approvals.yaml); give the policy another id',
      ),
    );
  });

  it("an approval of a registry is never taken for a policy's, nor one registry's for another's", async () => {
    const clients = readFileSync(path.join(policies, 'clients.approvals.yaml'), 'utf8');
    writeFileSync(path.join(policies, 'capacities.approvals.yaml'), clients.replace('registry: clients', 'registry: capacities'));
    expect(await refusals()).toEqual([
      expect.stringContaining('it is approver "bif-legal-office"\'s approval of another registry ("clients"), not of "capacities"'),
      expect.stringContaining('it is approver "dpo"\'s approval of another registry ("clients"), not of "capacities"'),
    ]);
    writeFileSync(path.join(policies, `${STATUS_POLICY}.approvals.yaml`), clients.replace('registry: clients', `policy: ${STATUS_POLICY}`));
    expect(await refusals()).toContainEqual(
      expect.stringContaining('is refused: its protected header has members an approval does not have: "registry"'),
    );
  });
});

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
