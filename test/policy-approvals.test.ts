import { createHmac, generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlattenedSign } from 'jose';
import { loadConfig } from '../src/config/config.js';
import { loadContracts } from '../src/contracts/registry.js';
import { DEMO_DEFAULTS } from '../src/demo.js';
import { LoadError, LoadErrors } from '../src/lib/load-error.js';
import { readApprovers, type Approvers } from '../src/policy/approvals/approvers.js';
import { checkApprovals, type CheckApprovalsOptions } from '../src/policy/approvals/check.js';
import { approvalsDigest, dependentContentDigest, policyContentDigest } from '../src/policy/approvals/digest.js';
import { approvalsPath, readApprovals, writeApproval } from '../src/policy/approvals/file.js';
import { APPROVAL_TYP, signApproval, signedPolicy, type SignedPolicy } from '../src/policy/approvals/sign.js';
import { verifyApproval } from '../src/policy/approvals/verify.js';
import { loadPolicySet } from '../src/policy/loader.js';
import type { Policy } from '../src/policy/types.js';
import { approvalSettings, makeApprover, signPolicies, type TestApprover } from './support/approvers.js';

/**
 * Signed policies (docs/POLICY-APPROVALS.md): a policy is in force only with the approvals it
 * requires, detached JWS signatures by configured approvers over its canonical content. Here the
 * digest, one approval, and the approvals of a policy set; the load path, reload and the audit
 * record are in policy-approvals.e2e.test.ts, the commands in cli-policy-approvals.test.ts.
 */

const ROOT = process.cwd();
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'check', 'valid');
const STATUS_POLICY = 'sof-reads-employment-status';
const SUMMARY_POLICY = 'bif-reads-social-coordination-summary';

let dir: string;
let policiesDir: string;
let schemasDir: string;
let legal: TestApprover;
let dpo: TestApprover;
let approvers: Approvers;

const load = (): readonly Policy[] => loadPolicySet({ dir: policiesDir, contracts: loadContracts(schemasDir) }).policies;
const policy = (id: string): Policy => load().find((p) => p.id === id)!;
const signed = (p: Policy): SignedPolicy => signedPolicy(p);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const editPolicy = (id: string, from: string, to: string): void => {
  const file = path.join(policiesDir, `${id}.policy.yaml`);
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`nothing to replace in ${id}`);
  writeFileSync(file, text.replace(from, to));
};
const options = (over: Partial<CheckApprovalsOptions> = {}): CheckApprovalsOptions => ({
  dir: policiesDir,
  settings: approvalSettings([legal, dpo]),
  certs: dir,
  strict: true,
  ...over,
});

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-approvals-'));
  cpSync(FIXTURE, dir, { recursive: true });
  policiesDir = path.join(dir, 'policies');
  schemasDir = path.join(dir, 'schemas');
  legal = makeApprover(path.join(dir, 'keys'), 'bif-legal-office', 'BIF legal office');
  dpo = makeApprover(path.join(dir, 'keys'), 'dpo', 'Data protection officer', 'ed25519');
  const read = readApprovers(approvalSettings([legal, dpo]), dir);
  expect(read.errors).toEqual([]);
  approvers = read.approvers;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("a policy's content digest", () => {
  it('stays the same when only comments, the order of keys or the layout change', () => {
    const before = policy(STATUS_POLICY).contentDigest;
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    editPolicy(
      STATUS_POLICY,
      'id: sof-reads-employment-status\nversion: 1\n',
      '# reviewed 2026\nversion:   1\nid: sof-reads-employment-status\n',
    );
    editPolicy(
      STATUS_POLICY,
      'requester:\n  administrations: [SOF]\n  roles: [caseworker-system]',
      'requester: { roles: [caseworker-system], administrations: [SOF] }',
    );
    expect(policy(STATUS_POLICY).contentDigest).toBe(before);
  });

  it('changes with any value: a field, a word of the legal basis, the version', () => {
    const before = policy(STATUS_POLICY).contentDigest;
    editPolicy(STATUS_POLICY, 'nextMeeting, sanctions]', 'nextMeeting]');
    const fewer = policy(STATUS_POLICY).contentDigest;
    expect(fewer).not.toBe(before);
    editPolicy(STATUS_POLICY, 'Forvaltningsloven § 28', 'Forvaltningsloven § 29');
    expect(policy(STATUS_POLICY).contentDigest).not.toBe(fewer);
    editPolicy(STATUS_POLICY, 'version: 1', 'version: 2');
    expect(new Set([before, fewer, policy(STATUS_POLICY).contentDigest]).size).toBe(3);
  });

  it('is SHA-256 over the RFC 8785 canonical JSON: the same for the same values in any order', () => {
    expect(policyContentDigest({ b: [1, 'x'], a: { d: true, c: null } })).toBe(
      policyContentDigest({ a: { c: null, d: true }, b: [1, 'x'] }),
    );
    expect(policyContentDigest({ a: 1 })).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862'); // sha256('{"a":1}')
  });
});

describe('one approval', () => {
  it('holds when a configured approver signed the policy as it is, with ES256 or EdDSA', async () => {
    const p = signed(policy(STATUS_POLICY));
    const at = new Date('2026-05-01T10:00:00Z');
    for (const approver of [legal, dpo]) {
      const jws = await signApproval(p, approver.id, approver.privateKey, at);
      expect(jws).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/); // detached: no payload section
      const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
      expect(header).toEqual({
        alg: approver === legal ? 'ES256' : 'EdDSA',
        typ: APPROVAL_TYP,
        kid: approver.id,
        policy: STATUS_POLICY,
        version: 1,
        digest: p.contentDigest,
        components: p.components,
        iat: at.getTime() / 1000,
      });
      // The digest signed is over the policy, its contract and its purpose.
      expect(p.contentDigest).toBe(dependentContentDigest(p.components));
      expect(Object.keys(p.components).sort()).toEqual(['contract', 'policy', 'purpose']);
      expect(await verifyApproval(jws, p, approvers)).toMatchObject({
        status: 'valid',
        approver: approver.id,
        signedAt: '2026-05-01T10:00:00.000Z',
      });
    }
  });

  it('is stale once the policy changed after signing, with or without a new version', async () => {
    const jws = await signApproval(signed(policy(STATUS_POLICY)), dpo.id, dpo.privateKey);
    editPolicy(STATUS_POLICY, 'nextMeeting, sanctions]', 'nextMeeting]');
    const sameVersion = await verifyApproval(jws, signed(policy(STATUS_POLICY)), approvers);
    expect(sameVersion).toMatchObject({ status: 'stale', approver: 'dpo' });
    expect(sameVersion.status === 'stale' && sameVersion.problem).toMatch(
      /^changed after signing, without a new version: approver "dpo" signed version 1/,
    );
    editPolicy(STATUS_POLICY, 'version: 1', 'version: 2');
    const newVersion = await verifyApproval(jws, signed(policy(STATUS_POLICY)), approvers);
    expect(newVersion.status === 'stale' && newVersion.problem).toMatch(
      /^changed after signing: approver "dpo" signed version 1 .*now version 2/,
    );
  });

  it('is refused when signed with a key not configured for the approver (the wrong key)', async () => {
    const intruder = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const verdict = await verifyApproval(
      await signApproval(signed(policy(STATUS_POLICY)), legal.id, intruder),
      signed(policy(STATUS_POLICY)),
      approvers,
    );
    expect(verdict).toMatchObject({ status: 'invalid', approver: 'bif-legal-office' });
    expect(verdict.status === 'invalid' && verdict.problem).toMatch(
      /^signature invalid: it was not made over this policy with a key configured for approver "bif-legal-office"/,
    );
  });

  it('is refused when signed by an approver not configured', async () => {
    const mallory = makeApprover(path.join(dir, 'keys'), 'mallory', 'Not an approver');
    const verdict = await verifyApproval(
      await signApproval(signed(policy(STATUS_POLICY)), mallory.id, mallory.privateKey),
      signed(policy(STATUS_POLICY)),
      approvers,
    );
    expect(verdict).toMatchObject({ status: 'unknown-approver', approver: 'mallory' });
    expect(verdict.status === 'unknown-approver' && verdict.problem).toBe(
      'signed by "mallory", an approver not configured (policies.approvers lists: bif-legal-office, dpo)',
    );
  });

  it('is refused when its signature or its header was tampered with', async () => {
    const p = signed(policy(STATUS_POLICY));
    const jws = await signApproval(p, legal.id, legal.privateKey);
    const [header, , signature] = jws.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect(await verifyApproval(`${header}..${flipped}`, p, approvers)).toMatchObject({
      status: 'invalid',
      problem: expect.stringMatching(/^signature invalid/),
    });
    // A later date in the header, the signature kept: the signature no longer holds.
    const decoded = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
    const later = b64({ ...decoded, iat: (decoded.iat as number) + 86_400 });
    expect(await verifyApproval(`${later}..${signature}`, p, approvers)).toMatchObject({
      status: 'invalid',
      problem: expect.stringMatching(/^signature invalid/),
    });
    // The payload put back in: not a detached JWS.
    expect(
      await verifyApproval(`${header}.${Buffer.from(p.contentDigest).toString('base64url')}.${signature}`, p, approvers),
    ).toMatchObject({
      status: 'invalid',
      problem: 'it is not a detached JWS (its payload section is not empty)',
    });
  });

  it('is refused when its header names another policy id or version, even over the right content', async () => {
    const p = signed(policy(STATUS_POLICY));
    const sign = async (over: Record<string, unknown>): Promise<string> => {
      const s = await new FlattenedSign(new TextEncoder().encode(p.contentDigest))
        .setProtectedHeader({
          alg: 'ES256',
          typ: APPROVAL_TYP,
          kid: legal.id,
          policy: p.id,
          version: p.version,
          digest: p.contentDigest,
          components: p.components,
          iat: 1_780_000_000,
          ...over,
        })
        .sign(legal.privateKey);
      return `${s.protected}..${s.signature}`;
    };
    expect(await verifyApproval(await sign({ policy: SUMMARY_POLICY }), p, approvers)).toMatchObject({
      status: 'invalid',
      problem: `its header names policy "${SUMMARY_POLICY}" version 1, not this policy as it is; sign it again`,
    });
    expect(await verifyApproval(await sign({ version: 7 }), p, approvers)).toMatchObject({
      status: 'invalid',
      problem: `its header names policy "${STATUS_POLICY}" version 7, not this policy as it is; sign it again`,
    });
    // Components that do not make the digest, or none (an approval of the policy file alone).
    expect(await verifyApproval(await sign({ components: { ...p.components, purpose: 'a'.repeat(64) } }), p, approvers)).toMatchObject({
      status: 'invalid',
      problem: "its protected header's content digest is not made of its components",
    });
    expect(await verifyApproval(await sign({ components: undefined }), p, approvers)).toMatchObject({
      status: 'invalid',
      problem: expect.stringContaining("it was made before an approval covered the policy's contract and purpose too"),
    });
    // Members an approval does not have are refused, whatever they say.
    expect(await verifyApproval(await sign({ x5u: 'https://example.invalid/key' }), p, approvers)).toMatchObject({
      status: 'invalid',
      problem: 'its protected header has members an approval does not have: "x5u"',
    });
  });

  it("is refused when it is another policy's approval copied over", async () => {
    const other = await signApproval(signed(policy(SUMMARY_POLICY)), legal.id, legal.privateKey);
    expect(await verifyApproval(other, signed(policy(STATUS_POLICY)), approvers)).toMatchObject({
      status: 'invalid',
      problem: `it is approver "bif-legal-office"'s approval of another policy ("${SUMMARY_POLICY}"), not of "${STATUS_POLICY}"`,
    });
  });

  it('refuses alg none, a MAC (HS256, keyed with the public key) and an algorithm the approver has no key for', async () => {
    const p = signed(policy(STATUS_POLICY));
    const header = (alg: string): string =>
      b64({ alg, typ: APPROVAL_TYP, kid: legal.id, policy: p.id, version: p.version, digest: p.contentDigest, iat: 1_780_000_000 });
    expect(await verifyApproval(`${header('none')}..`, p, approvers)).toMatchObject({
      status: 'invalid',
      problem: 'algorithm "none" is not allowed (an approval is ES256 or EdDSA)',
    });
    const hs = header('HS256');
    const mac = createHmac('sha256', readFileSync(legal.publicKeyFile))
      .update(`${hs}.${Buffer.from(p.contentDigest).toString('base64url')}`)
      .digest('base64url');
    expect(await verifyApproval(`${hs}..${mac}`, p, approvers)).toMatchObject({
      status: 'invalid',
      problem: 'algorithm "HS256" is not allowed (an approval is ES256 or EdDSA)',
    });
    // An Ed25519 signature under the name of an approver whose key is EC P-256.
    const ed = generateKeyPairSync('ed25519').privateKey;
    expect(await verifyApproval(await signApproval(p, legal.id, ed), p, approvers)).toMatchObject({
      status: 'invalid',
      problem: 'signed with EdDSA, but approver "bif-legal-office"\'s configured keys are for ES256',
    });
  });
});

describe("a policy set's approvals", () => {
  it('are complete when every required approver signed; the digest covers the content and the approvals', async () => {
    await signPolicies(schemasDir, policiesDir, [legal, dpo]);
    const report = await checkApprovals(load(), options());
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    const status = report.policies.get(STATUS_POLICY)!;
    expect(status.complete).toBe(true);
    expect(status.results.map((r) => [r.approver, r.status, r.required])).toEqual([
      ['bif-legal-office', 'valid', true],
      ['dpo', 'valid', true],
    ]);
    const file = readApprovals(policiesDir, STATUS_POLICY);
    if (Array.isArray(file)) throw new LoadErrors(file);
    expect(status.approvals).toEqual({
      digest: approvalsDigest(
        policy(STATUS_POLICY).contentDigest!,
        file.entries.map((e) => e.jws),
      ),
      approvals: [
        { approver: 'bif-legal-office', title: 'BIF legal office', signedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
        { approver: 'dpo', title: 'Data protection officer', signedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      ],
    });
  });

  it('refuse a policy that lacks an approval, naming the policy file, the approver and how to sign', async () => {
    await signPolicies(schemasDir, policiesDir, [legal]);
    const report = await checkApprovals(load(), options());
    expect(report.policies.get(STATUS_POLICY)!.complete).toBe(false);
    expect(report.policies.get(STATUS_POLICY)!.results.find((r) => r.approver === 'dpo')).toEqual({
      approver: 'dpo',
      title: 'Data protection officer',
      required: true,
      status: 'missing',
    });
    const [e] = report.errors.filter((x) => x.file.endsWith(`${STATUS_POLICY}.policy.yaml`));
    expect(e).toBeInstanceOf(LoadError);
    expect(e!.problem).toBe(
      `policy "${STATUS_POLICY}" (${e!.file}) version 1 lacks the approval of dpo (Data protection officer); ` +
        `have it signed: npx snitflade policy sign --policy ${STATUS_POLICY} --approver dpo --key <the approver's private key>`,
    );
    expect(report.errors).toHaveLength(2); // both policies lack the DPO
  });

  it('refuse a policy changed after signing, at its approvals file and line', async () => {
    await signPolicies(schemasDir, policiesDir, [legal, dpo]);
    editPolicy(STATUS_POLICY, 'version: 1', 'version: 2');
    const report = await checkApprovals(load(), options());
    expect(report.errors.map((e) => [path.basename(e.file), e.path, e.line])).toEqual([
      [`${STATUS_POLICY}.approvals.yaml`, '/approvals/0', 8],
      [`${STATUS_POLICY}.approvals.yaml`, '/approvals/1', 10],
    ]);
    expect(report.errors[0]!.problem).toMatch(
      new RegExp(`^policy "${STATUS_POLICY}" \\(.*\\) changed after signing: approver "bif-legal-office" signed version 1`),
    );
    expect(report.policies.get(STATUS_POLICY)!.approvals).toBeUndefined();
  });

  it('refuse an approval by an approver not configured, even beside the required ones', async () => {
    await signPolicies(schemasDir, policiesDir, [legal, dpo]);
    const mallory = makeApprover(path.join(dir, 'keys'), 'mallory', 'Not an approver');
    await signPolicies(schemasDir, policiesDir, [mallory], [STATUS_POLICY]);
    const report = await checkApprovals(load(), options());
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]!.problem).toBe(
      `an approval of policy "${STATUS_POLICY}" (${report.errors[0]!.problem.match(/\((.*?)\)/)![1]}) is signed by "mallory", an approver not configured (policies.approvers lists: bif-legal-office, dpo); remove it from the file, or configure the approver`,
    );
    expect(report.policies.get(STATUS_POLICY)!.results.map((r) => [r.approver, r.status, r.required])).toEqual([
      ['bif-legal-office', 'valid', true],
      ['dpo', 'valid', true],
      ['mallory', 'unknown-approver', false],
    ]);
  });

  it('refuse an entry whose signature names another approver than the entry', async () => {
    const p = signed(policy(STATUS_POLICY));
    writeApproval(policiesDir, STATUS_POLICY, 'dpo', await signApproval(p, legal.id, legal.privateKey), []);
    const report = await checkApprovals(load(), options({ settings: approvalSettings([legal, dpo], { required: ['dpo'] }) }));
    const result = report.policies.get(STATUS_POLICY)!.results[0]!;
    expect(result).toMatchObject({
      approver: 'dpo',
      status: 'invalid',
      problem: 'the entry says approver "dpo", but the signature names "bif-legal-office"',
    });
  });

  it('refuse an approvals file about another policy or with an approver twice', async () => {
    await signPolicies(schemasDir, policiesDir, [legal, dpo]);
    const file = approvalsPath(policiesDir, STATUS_POLICY);
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text.replace(`policy: ${STATUS_POLICY}`, `policy: ${SUMMARY_POLICY}`).replace('approver: dpo', 'approver: bif-legal-office'),
    );
    const report = await checkApprovals(load(), options());
    expect(report.errors.map((e) => e.problem)).toEqual([
      `this file holds the approvals of policy "${SUMMARY_POLICY}", but its name says "${STATUS_POLICY}"; approvals belong beside their own policy`,
      'approver "bif-legal-office" is listed twice (also at /approvals/0); keep one approval per approver',
    ]);
  });

  it('are warnings, not errors, when approvals are not enforced (the demo), and say so', async () => {
    const report = await checkApprovals(load(), options({ settings: approvalSettings([legal, dpo], { requireApprovals: false }) }));
    expect(report.errors).toEqual([]);
    expect(report.warnings.map((w) => w.problem)).toContain(
      'policy approvals are not enforced (policies.requireApprovals is false): 2 of 2 policies are in force without every approval they require; never run so outside development',
    );
    expect(report.warnings.filter((w) => /lacks the approval/.test(w.problem))).toHaveLength(4);
  });

  it('with no approver configured: an error where the gateway starts, a warning for the check, a warning when not required', async () => {
    const none = approvalSettings([], { required: [] });
    const strict = await checkApprovals(load(), options({ settings: none }));
    expect(strict.checked).toBe(false);
    expect(strict.errors.map((e) => e.message)).toEqual([
      'configuration at /policies: policies.requireApprovals is true but no approver is configured: configure policies.approvers and policies.required and have every policy signed (docs/POLICY-APPROVALS.md); ' +
        'to run unapproved policies in development only, set policies.requireApprovals false (SNITFLADE_REQUIRE_APPROVALS=false)',
    ]);
    const check = await checkApprovals(load(), options({ settings: none, strict: false }));
    expect(check.errors).toEqual([]);
    expect(check.warnings[0]!.problem).toMatch(/^the policies' approvals were not checked: no approver is configured/);
    const demo = await checkApprovals(load(), options({ settings: { ...none, requireApprovals: false } }));
    expect(demo.errors).toEqual([]);
    expect(demo.warnings[0]!.problem).toMatch(/^the policies are in force without approvals: policies.requireApprovals is false/);
  });

  it('require at least one approver of every policy in force', async () => {
    const report = await checkApprovals(
      load(),
      options({ settings: approvalSettings([legal, dpo], { required: [], requiredPerPolicy: { [STATUS_POLICY]: ['dpo'] } }) }),
    );
    expect(report.errors.map((e) => e.problem)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^no approval is required of policy "${SUMMARY_POLICY}"`))]),
    );
    expect(report.policies.get(STATUS_POLICY)!.required).toEqual(['dpo']);
  });

  it('refuse an approver whose key file is missing or holds a private key, at the setting', async () => {
    const settings = approvalSettings([legal, dpo]);
    const broken = {
      ...settings,
      approvers: [
        { ...settings.approvers[0]!, publicKeys: [{ file: 'approvers/nowhere.pub.pem' }] },
        { ...settings.approvers[1]!, publicKeys: [{ file: dpo.privateKeyFile }] },
      ],
    };
    const report = await checkApprovals(load(), options({ settings: broken }));
    expect(report.checked).toBe(false);
    expect(report.errors.map((e) => [e.file, e.path])).toEqual([
      ['configuration', '/policies/approvers/0/publicKeys/0/file'],
      ['configuration', '/policies/approvers/1/publicKeys/0/file'],
    ]);
    expect(report.errors[0]!.problem).toMatch(
      /nowhere\.pub\.pem does not exist; it should hold the public key of approver "bif-legal-office"/,
    );
    expect(report.errors[1]!.problem).toMatch(/is a PEM "PRIVATE KEY", not a public key; .*the private key stays with the approver/);
  });

  it('warn about the approvals of a policy that does not exist', async () => {
    await signPolicies(schemasDir, policiesDir, [legal, dpo]);
    writeFileSync(approvalsPath(policiesDir, 'gone-policy'), readFileSync(approvalsPath(policiesDir, STATUS_POLICY), 'utf8'));
    const report = await checkApprovals(load(), options());
    expect(report.errors).toEqual([]);
    expect(report.warnings.map((w) => w.problem)).toEqual([
      'approvals of policy "gone-policy", which does not exist; delete the file (or restore the policy)',
    ]);
  });
});

describe('the configuration of signed policies', () => {
  it('requires approvals unless told otherwise; SNITFLADE_REQUIRE_APPROVALS says true or false and nothing else', () => {
    expect(loadConfig({ root: ROOT, env: {} }).policies).toEqual({
      requireApprovals: true,
      approvers: [],
      required: [],
      requiredPerPolicy: {},
      revoked: [],
    });
    expect(loadConfig({ root: ROOT, env: { SNITFLADE_REQUIRE_APPROVALS: 'false' } }).policies.requireApprovals).toBe(false);
    expect(() => loadConfig({ root: ROOT, env: { SNITFLADE_REQUIRE_APPROVALS: 'no' } })).toThrow(
      'environment SNITFLADE_REQUIRE_APPROVALS: must be true or false, got "no"',
    );
  });

  it("is false only by the demo's own default, which an operator's setting overrides", () => {
    expect(loadConfig({ root: ROOT, env: {}, defaults: DEMO_DEFAULTS }).policies.requireApprovals).toBe(false);
    expect(
      loadConfig({ root: ROOT, env: { SNITFLADE_REQUIRE_APPROVALS: 'true' }, defaults: DEMO_DEFAULTS }).policies.requireApprovals,
    ).toBe(true);
  });

  it('refuses a required approver that is not configured, and an approver configured twice', () => {
    const one = { id: 'dpo', title: 'DPO', publicKeys: [{ file: 'approvers/dpo.pub.pem' }] };
    expect(() => loadConfig({ root: ROOT, overrides: { policies: { approvers: [one], required: ['dpo', 'legal'] } } })).toThrow(
      'configuration at /policies/required/1: "legal" is not a configured approver (policies.approvers lists: dpo); configure it or remove it here',
    );
    expect(() =>
      loadConfig({ root: ROOT, overrides: { policies: { approvers: [one], requiredPerPolicy: { 'some-policy': ['legal'] } } } }),
    ).toThrow(/at \/policies\/requiredPerPolicy\/some-policy\/0: "legal" is not a configured approver/);
    expect(() => loadConfig({ root: ROOT, overrides: { policies: { approvers: [one, one] } } })).toThrow(
      /at \/policies\/approvers\/1\/id: the approver "dpo" is configured twice/,
    );
  });
});
