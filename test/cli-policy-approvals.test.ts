import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCheck } from '../src/cli/commands/check.js';
import { runPolicyApprovals } from '../src/cli/commands/policy-approvals.js';
import { runPolicySign } from '../src/cli/commands/policy-sign.js';
import { runRecords } from '../src/cli/commands/records.js';
import { loadConfig, type GatewayConfig } from '../src/config/config.js';
import type { ProcessingRecord } from '../src/policy/records.js';
import { approvalSettings, makeApprover, type TestApprover } from './support/approvers.js';
import { captureIO } from './support/cli-io.js';
import { testCerts } from './support/env.js';

/**
 * `snitflade policy sign` and `snitflade policy approvals`, with keys generated here: an approver
 * signs, the approvals say who signed and when and what is missing, `check` refuses what start-up
 * would refuse, and `snitflade records` (the Art. 30 record) lists the approvers and dates.
 */

const ROOT = process.cwd();
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'check', 'valid');
const STATUS_POLICY = 'sof-reads-employment-status';
const SUMMARY_POLICY = 'bif-reads-social-coordination-summary';
const TODAY = new Date().toISOString().slice(0, 4); // the year the approvals are signed in

let dir: string;
let legal: TestApprover;
let dpo: TestApprover;
let config: GatewayConfig;

const sign = async (policy: string, approver: TestApprover, over: { key?: string; digest?: string } = {}) => {
  const io = captureIO();
  const code = await runPolicySign(
    { dir, policy, approver: approver.id, key: over.key ?? approver.privateKeyFile, ...(over.digest ? { digest: over.digest } : {}) },
    io,
    config,
  );
  return { code, out: io.out(), err: io.err() };
};
/** `policy sign --registry`: the registries the policies depend on are approved like a policy. */
const signRegistry = async (registry: string, approver: TestApprover, over: { digest?: string } = {}) => {
  const io = captureIO();
  const code = await runPolicySign(
    { dir, registry, approver: approver.id, key: approver.privateKeyFile, ...(over.digest ? { digest: over.digest } : {}) },
    io,
    config,
  );
  return { code, out: io.out(), err: io.err() };
};
const approvals = async (o: { policy?: string; json?: boolean } = {}) => {
  const io = captureIO();
  const code = await runPolicyApprovals({ dir, ...o }, io, config);
  return { code, out: io.out(), err: io.err() };
};

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-cli-approvals-'));
  cpSync(FIXTURE, dir, { recursive: true });
  // The approvers' public keys live in the certificate folder (<dir>/certs with --dir); the private keys stay with the approvers.
  legal = makeApprover(path.join(dir, 'certs', 'approvers'), 'bif-legal-office', 'BIF legal office');
  dpo = makeApprover(path.join(dir, 'certs', 'approvers'), 'dpo', 'Data protection officer', 'ed25519');
  config = loadConfig({ root: ROOT, env: {}, overrides: { policies: approvalSettings([legal, dpo]) } });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('snitflade policy sign, then policy approvals', () => {
  it('signs a policy approver by approver, and lists who signed when and who is missing', async () => {
    const first = await sign(STATUS_POLICY, dpo);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(
      new RegExp(
        `^signed policy "${STATUS_POLICY}" version 1 \\(content [0-9a-f]{64}\\) as dpo \\(Data protection officer\\) at ${TODAY}-`,
      ),
    );
    expect(first.out).toContain(`wrote ${path.join(dir, 'policies', `${STATUS_POLICY}.approvals.yaml`)}\n`);
    expect(first.out).toContain('  ✘ bif-legal-office (BIF legal office): missing\n');
    expect(first.out).toMatch(/ {2}✔ dpo \(Data protection officer\): signed \d{4}-\d\d-\d\dT/);

    const incomplete = await approvals({ policy: STATUS_POLICY });
    expect(incomplete.code).toBe(1);
    expect(incomplete.out).toMatch(new RegExp(`^✘ ${STATUS_POLICY} version 1: not approved \\(content [0-9a-f]{64}; `));
    expect(incomplete.out).toContain('0 of 1 policy carries every approval it requires');

    expect((await sign(STATUS_POLICY, legal)).code).toBe(0);
    const complete = await approvals({ policy: STATUS_POLICY });
    expect(complete.code).toBe(0);
    expect(complete.out).toMatch(new RegExp(`^✔ ${STATUS_POLICY} version 1: approved`));
    expect(complete.out).toMatch(/ {2}✔ bif-legal-office \(BIF legal office\): signed \d{4}-/);
    expect(complete.out).toContain('1 of 1 policy carries every approval it requires\n');

    // The whole set: the other policy is not signed yet, so the exit code says "not all".
    const all = await approvals();
    expect(all.code).toBe(1);
    expect(all.out).toContain(`✘ ${SUMMARY_POLICY} version 1: not approved`);
    expect(all.out).toContain(
      '1 of 2 policies carry every approval they require; 0 of 2 registries (administrations.yaml, clients.yaml) do\n',
    );
    expect(all.out).toContain('  ✘ dpo (Data protection officer): missing\n');
    expect(all.out).toMatch(/^✘ registry clients\.yaml: not approved \(content [0-9a-f]{64}; /m);
    const json = await approvals({ json: true });
    const report = JSON.parse(json.out) as {
      ok: boolean;
      policies: { policy: string; complete: boolean; approvals: { approver: string; status: string }[] }[];
    };
    expect(report.ok).toBe(false);
    expect(report.policies.map((p) => [p.policy, p.complete, p.approvals.map((a) => `${a.approver}:${a.status}`)])).toEqual([
      [SUMMARY_POLICY, false, ['bif-legal-office:missing', 'dpo:missing']],
      [STATUS_POLICY, true, ['bif-legal-office:valid', 'dpo:valid']],
    ]);
  });

  it('says a policy changed after signing is stale, and signing it again replaces the approval', async () => {
    await sign(STATUS_POLICY, legal);
    await sign(STATUS_POLICY, dpo);
    const file = path.join(dir, 'policies', `${STATUS_POLICY}.policy.yaml`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('version: 1', 'version: 2'));
    const stale = await approvals({ policy: STATUS_POLICY });
    expect(stale.code).toBe(1);
    expect(stale.out).toContain('  ✘ dpo (Data protection officer): stale: changed after signing: approver "dpo" signed version 1');
    await sign(STATUS_POLICY, dpo);
    const again = await approvals({ policy: STATUS_POLICY });
    expect(again.out).toMatch(/ {2}✔ dpo \(Data protection officer\): signed /);
    expect(again.out).toContain('  ✘ bif-legal-office (BIF legal office): stale: changed after signing');
    expect(readFileSync(path.join(dir, 'policies', `${STATUS_POLICY}.approvals.yaml`), 'utf8').match(/approver: dpo/g)).toHaveLength(1);
  });

  it("refuses an approver not configured, a key that is not the approver's, and a policy changed since it was reviewed", async () => {
    const mallory = makeApprover(path.join(dir, 'keys'), 'mallory', 'Not an approver');
    const unknown = await sign(STATUS_POLICY, mallory);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe(
      '✘ "mallory" is not a configured approver (policies.approvers lists: bif-legal-office, dpo); the gateway would refuse an approval by it\n',
    );

    const wrongKey = await sign(STATUS_POLICY, dpo, { key: legal.privateKeyFile });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err).toMatch(/^✘ the key in .* \(thumbprint [\w-]{43}\) is not one of approver "dpo"'s configured keys/);

    const reviewed = await sign(STATUS_POLICY, dpo, { digest: '0'.repeat(64) });
    expect(reviewed.code).toBe(1);
    expect(reviewed.err).toMatch(
      new RegExp(`^✘ policy "${STATUS_POLICY}" is not what was reviewed: its content digest is now [0-9a-f]{64}, not 0{64}`),
    );

    const nothing = await approvals({ policy: STATUS_POLICY });
    expect(nothing.out).toContain('  ✘ dpo (Data protection officer): missing\n'); // nothing was written
  });
});

describe('snitflade policy sign --registry', () => {
  it('signs a registry the policies depend on, refuses one that is not, and one changed since it was reviewed', async () => {
    const reviewed = JSON.parse((await approvals({ json: true })).out) as { registries: { registry: string; contentDigest: string }[] };
    const digest = reviewed.registries.find((r) => r.registry === 'clients')!.contentDigest;
    const signed = await signRegistry('clients', dpo, { digest });
    expect(signed.err).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.out).toMatch(
      new RegExp(`^signed registry clients\\.yaml \\(content ${digest}\\) as dpo \\(Data protection officer\\) at ${TODAY}-`),
    );
    expect(signed.out).toContain(`wrote ${path.join(dir, 'policies', 'clients.approvals.yaml')}\n`);
    expect(signed.out).toContain('  ✘ bif-legal-office (BIF legal office): missing\n');
    expect(readFileSync(path.join(dir, 'policies', 'clients.approvals.yaml'), 'utf8')).toMatch(/^registry: clients$/m);

    const other = await signRegistry('purposes', dpo);
    expect(other.code).toBe(1);
    expect(other.err).toBe('✘ "purposes" is not a signed registry; they are: administrations, capacities, clients\n');

    const file = path.join(dir, 'policies', 'clients.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('roles: [', 'roles: [operations, '));
    const changed = await signRegistry('clients', legal, { digest });
    expect(changed.code).toBe(1);
    expect(changed.err).toContain(`registry clients.yaml is not what was reviewed: its content digest is now `);
    const stale = await approvals();
    expect(stale.out).toMatch(
      / {2}✘ dpo \(Data protection officer\): stale: changed after signing: approver "dpo" signed it as content [0-9a-f]{12}, it is now [0-9a-f]{12}/,
    );
  });

  it('wants exactly one of --policy and --registry', async () => {
    const io = captureIO();
    expect(await runPolicySign({ dir, approver: dpo.id, key: dpo.privateKeyFile }, io, config)).toBe(1);
    expect(io.err()).toBe('✘ name what to approve: --policy <id>, or --registry <administrations|capacities|clients>\n');
  });
});

describe('snitflade check with approvers configured', () => {
  it('fails on a policy that lacks an approval, naming the policy file, as start-up would', async () => {
    await sign(STATUS_POLICY, legal);
    await sign(STATUS_POLICY, dpo);
    await sign(SUMMARY_POLICY, legal);
    // The certificate folder with the clients' keys (the approvers' public keys are named by absolute paths).
    const certs = await testCerts();
    const io = captureIO();
    for (const registry of ['administrations', 'clients']) for (const approver of [legal, dpo]) await signRegistry(registry, approver);
    expect(await runCheck({ dir, certs }, io, config)).toBe(1);
    expect(io.err()).toContain(
      `✘ ${path.join(dir, 'policies', `${SUMMARY_POLICY}.policy.yaml`)}: policy "${SUMMARY_POLICY}" (${path.join(dir, 'policies', `${SUMMARY_POLICY}.policy.yaml`)}) version 1 lacks the approval of dpo (Data protection officer)`,
    );
    expect(io.err()).not.toContain(STATUS_POLICY);
    await sign(SUMMARY_POLICY, dpo);
    const passed = captureIO();
    expect(await runCheck({ dir, certs }, passed, config)).toBe(0);
    expect(passed.err()).not.toMatch(/approval/);
  });
});

describe('snitflade records', () => {
  it("lists each policy's approvers with the dates they signed, and what is outstanding", async () => {
    await sign(STATUS_POLICY, legal);
    await sign(STATUS_POLICY, dpo);
    await sign(SUMMARY_POLICY, dpo);
    const md = captureIO();
    expect(await runRecords({ dir, format: 'markdown' }, md, config)).toBe(0);
    expect(md.out()).toContain(
      '- **Approvals:** 1 of 2 policies are approved by every approver they require (BIF legal office (`bif-legal-office`), Data protection officer (`dpo`)).',
    );
    expect(md.out()).toContain('| valid | approved by |');
    expect(md.out()).toMatch(
      new RegExp(
        `\\| \`${STATUS_POLICY}\` v1 .* \\| BIF legal office \\(bif-legal-office\\) \\d{4}-\\d\\d-\\d\\d, Data protection officer \\(dpo\\) \\d{4}-\\d\\d-\\d\\d \\|\\n`,
      ),
    );
    expect(md.out()).toMatch(
      new RegExp(
        `\\| \`${SUMMARY_POLICY}\` v1 .* \\| Data protection officer \\(dpo\\) \\d{4}-\\d\\d-\\d\\d; outstanding: bif-legal-office missing \\|\\n`,
      ),
    );

    const json = captureIO();
    expect(await runRecords({ dir, format: 'json' }, json, config)).toBe(0);
    const record = JSON.parse(json.out()) as ProcessingRecord;
    expect(record.approvals).toEqual({
      checked: true,
      enforced: true,
      approvers: [
        { id: 'bif-legal-office', title: 'BIF legal office' },
        { id: 'dpo', title: 'Data protection officer' },
      ],
      approved: 1,
    });
    const entry = record.activities.flatMap((a) => a.exchanges).find((e) => e.policy.id === STATUS_POLICY)!;
    expect(entry.policy.approval).toEqual({
      checked: true,
      complete: true,
      approvedBy: [
        { approver: 'bif-legal-office', title: 'BIF legal office', signedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
        { approver: 'dpo', title: 'Data protection officer', signedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      ],
      outstanding: [],
    });
  });

  it('says the approvals were not checked when no approver is configured', async () => {
    const io = captureIO();
    const none = loadConfig({ root: ROOT, env: {} });
    expect(await runRecords({ dir, format: 'markdown' }, io, none)).toBe(0);
    expect(io.out()).toContain(
      '- **Approvals:** not checked: no approver is configured (`policies.approvers`); the gateway refuses to start with a policy that lacks an approval it requires.',
    );
    expect(io.out()).toContain(' | not checked |');
  });
});
