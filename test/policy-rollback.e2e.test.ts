/**
 * Versions only go forward, against a running gateway with signed policies on each store: a
 * writer of policies/ who restores an older version, or a policy taken out of force, with the
 * approvals files it once had (version control keeps them), brings neither back, at a reload or
 * at start-up; an approval the configuration revokes no longer counts. The first two cases are
 * the attacker review's (test/policy-approvals.review.e2e.test.ts on branch review-sign).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import type { GatewayConfig, RevokedPolicy } from '../src/config/config.js';
import { createGateway } from '../src/gateway.js';
import { loadErrorsIn } from '../src/lib/load-error.js';
import { approvalsPath } from '../src/policy/approvals/file.js';
import { reloadRules } from '../src/rules/reload.js';
import { approvalSettings, makeApprover, signPolicies, type TestApprover } from './support/approvers.js';
import { DATABASES, type TestDatabase } from './support/databases.js';
import { startTestEnv, testCerts, type TestEnv } from './support/env.js';

jest.setTimeout(180_000);

const ROOT = process.cwd();
const SCHEMAS = path.join(ROOT, 'schemas');
const POLICY = 'sof-reads-employment-status';
const SUMMARY = 'bif-reads-social-coordination-summary';
const V = Number(/^version: ([0-9]+)$/m.exec(readFileSync(path.join(ROOT, 'policies', `${POLICY}.policy.yaml`), 'utf8'))![1]);

describe.each(DATABASES)('signed policies on %s: versions only go forward', (name, makeDatabase) => {
  let dir: string;
  let policies: string;
  let legal: TestApprover;
  let dpo: TestApprover;
  let db: TestDatabase;
  let env: TestEnv | undefined;

  const read = (file: string): string => readFileSync(path.join(policies, file), 'utf8');
  const write = (file: string, text: string): void => writeFileSync(path.join(policies, file), text);
  const edit = (file: string, from: string, to: string): void => {
    const text = read(file);
    if (!text.includes(from)) throw new Error(`nothing to replace in ${file}`);
    write(file, text.replace(from, to));
  };
  const snapshot = (id: string) => ({
    policy: read(`${id}.policy.yaml`),
    cases: read(`${id}.test.yaml`),
    approvals: readFileSync(approvalsPath(policies, id), 'utf8'),
  });
  const restore = (id: string, s: ReturnType<typeof snapshot>): void => {
    write(`${id}.policy.yaml`, s.policy);
    write(`${id}.test.yaml`, s.cases);
    writeFileSync(approvalsPath(policies, id), s.approvals);
  };
  const inForce = (id: string) => env!.gateway.rules().policies.policies.find((p) => p.id === id);
  /**
   * The problems a start-up with `config` is refused with ([] when it starts; the gateway is
   * closed again): as a second instance on the store, beside the running one (which holds its chain).
   */
  const startProblems = async (config: GatewayConfig): Promise<string[]> => {
    try {
      await (await createGateway({ ...config, instanceId: 'gw-second' }, { logger: env!.gateway.logger })).close();
      return [];
    } catch (err) {
      const errors = loadErrorsIn(err);
      if (errors === undefined) throw err;
      return errors.map((e) => e.message);
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-rollback-e2e-'));
    policies = path.join(dir, 'policies');
    cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
    legal = makeApprover(path.join(dir, 'keys'), 'bif-legal-office', 'BIF legal office');
    dpo = makeApprover(path.join(dir, 'keys'), 'dpo', 'Data protection officer', 'ed25519');
    await signPolicies(SCHEMAS, policies, [legal, dpo]);
    db = await makeDatabase(`rollback_e2e_${name.toLowerCase()}`);
    env = await startTestEnv({
      name: `rollback-${name.toLowerCase()}`,
      overrides: {
        paths: { certs: await testCerts(), data: dir, policies },
        store: db.storeConfig,
        policies: approvalSettings([legal, dpo]),
      },
    });
  });
  afterAll(async () => {
    await env?.close();
    await db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to reload an older version with its once-valid approvals after a newer one was put in force (rollback)', async () => {
    const old = snapshot(POLICY);
    edit(`${POLICY}.policy.yaml`, `version: ${V}`, `version: ${V + 1}`);
    edit(`${POLICY}.policy.yaml`, 'to coordinate plans"', 'to coordinate the plans"');
    await signPolicies(SCHEMAS, policies, [legal, dpo], [POLICY]);
    expect((await reloadRules(env!.gateway, { via: 'SIGHUP' })).ok).toBe(true);
    expect(inForce(POLICY)!.version).toBe(V + 1);

    // The writer restores the old, once-approved files: every signature holds.
    const newer = snapshot(POLICY);
    restore(POLICY, old);
    const outcome = await reloadRules(env!.gateway, { via: 'SIGHUP' });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `/${POLICY}\\.policy\\.yaml at /version: policy "${POLICY}" version ${V} is older than version ${V + 1} already put in force on 20[0-9-]+T`,
        ),
      ),
    ]);
    expect(inForce(POLICY)!.version).toBe(V + 1);
    restore(POLICY, newer);
  });

  it('refuses to start with the older version too', async () => {
    const newer = snapshot(POLICY);
    edit(`${POLICY}.policy.yaml`, `version: ${V + 1}`, `version: ${V}`);
    edit(`${POLICY}.policy.yaml`, 'to coordinate the plans"', 'to coordinate plans"');
    await signPolicies(SCHEMAS, policies, [legal, dpo], [POLICY]);
    expect(await startProblems(env!.config)).toEqual([
      expect.stringContaining(`version ${V} is older than version ${V + 1} already put in force`),
    ]);
    restore(POLICY, newer);
    expect(await startProblems(env!.config)).toEqual([]);
  });

  it('refuses the same version with another content, even signed', async () => {
    const newer = snapshot(POLICY);
    edit(`${POLICY}.policy.yaml`, 'to coordinate the plans"', 'to coordinate their plans"');
    await signPolicies(SCHEMAS, policies, [legal, dpo], [POLICY]);
    const outcome = await reloadRules(env!.gateway, { via: 'SIGHUP' });
    expect(!outcome.ok && outcome.errors.map((e) => e.message)).toEqual([expect.stringContaining('one version cannot mean two texts')]);
    restore(POLICY, newer);
  });

  it('does not bring back a policy that was taken out of force at its old version, and does at a higher one', async () => {
    const old = snapshot(SUMMARY);
    rmSync(path.join(policies, `${SUMMARY}.policy.yaml`));
    rmSync(path.join(policies, `${SUMMARY}.test.yaml`));
    expect((await reloadRules(env!.gateway, { via: 'SIGHUP' })).ok).toBe(true);
    expect(inForce(SUMMARY)).toBeUndefined();

    restore(SUMMARY, old);
    const outcome = await reloadRules(env!.gateway, { via: 'SIGHUP' });
    expect(!outcome.ok && outcome.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        new RegExp(`policy "${SUMMARY}" version [0-9]+ was taken out of force on .* its old approvals do not bring it back`),
      ),
    ]);
    expect(inForce(SUMMARY)?.id).toBeUndefined();
    // Nor at a restart.
    expect(await startProblems(env!.config)).toEqual([expect.stringContaining('was taken out of force')]);

    const version = Number(/^version: ([0-9]+)$/m.exec(old.policy)![1]);
    edit(`${SUMMARY}.policy.yaml`, `version: ${version}`, `version: ${version + 1}`);
    await signPolicies(SCHEMAS, policies, [legal, dpo], [SUMMARY]);
    expect((await reloadRules(env!.gateway, { via: 'SIGHUP' })).ok).toBe(true);
    expect(inForce(SUMMARY)?.version).toBe(version + 1);
  });

  it('no longer counts an approval the configuration revokes, by version or by content digest', async () => {
    const policy = inForce(POLICY)!;
    const entries: [RevokedPolicy, string][] = [
      [{ policy: POLICY, version: policy.version }, `version ${policy.version}`],
      [{ digest: policy.contentDigest! }, `content ${policy.contentDigest!.slice(0, 12)}`],
    ];
    for (const [revoked, by] of entries) {
      const config = { ...env!.config, policies: { ...env!.config.policies, revoked: [revoked] } };
      const problems = await startProblems(config);
      expect(problems).toContain(
        `${policy.file}: policy "${POLICY}" (${policy.file}) version ${policy.version} is revoked by the configuration (policies.revoked/0: ${by}): its approvals no longer count; give the policy a new version and have it signed, or take it out of force`,
      );
    }
    // Another version of it is not revoked.
    const config = { ...env!.config, policies: { ...env!.config.policies, revoked: [{ policy: POLICY, version: policy.version - 1 }] } };
    expect(await startProblems(config)).toEqual([]);
  });

  it("records the demo's sets but refuses nothing without approvals required", async () => {
    const demo = { ...env!.config, policies: { ...env!.config.policies, requireApprovals: false } };
    const newer = snapshot(POLICY);
    edit(`${POLICY}.policy.yaml`, `version: ${V + 1}`, `version: ${V}`);
    expect(await startProblems(demo)).toEqual([]);
    const [history] = await (await db.open()).policyHistory.get([POLICY]);
    expect(history).toMatchObject({ version: V + 1 });
    restore(POLICY, newer);
  });
});
