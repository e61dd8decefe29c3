import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { verifyTrail } from '../src/audit/verify-trail.js';
import { loadConfig, type ConfigInput } from '../src/config/config.js';
import { LoadErrors } from '../src/lib/load-error.js';
import { approvalsPath } from '../src/policy/approvals/file.js';
import { reloadRules } from '../src/rules/reload.js';
import { loadRules } from '../src/rules/load.js';
import { emitNotification } from '../src/simulators/emit.js';
import { population } from '../src/simulators/population.js';
import { clientCreds, send } from './hardening/support.js';
import { approvalSettings, makeApprover, signPolicies, type TestApprover } from './support/approvers.js';
import { postAs, waitFor } from './support/calls.js';
import { startTestEnv, TEST_CERTS, testCerts, type TestEnv } from './support/env.js';
import { SERVED_BY_BOTH, withRelations } from './support/relations.js';

jest.setTimeout(120_000);

/**
 * Signed policies through the rule set's one load path (src/rules/load.ts): a gateway with
 * approvers configured starts only when every policy carries the approvals it requires, refuses a
 * reload of a policy changed after signing (the old rules stay), and names each decision's
 * approvals digest in its audit record, next to the policy version.
 */

const ROOT = process.cwd();
const SCHEMAS = path.join(ROOT, 'schemas');
const STATUS = '/v1/queries/employment.citizen-status.v1';
const POLICY = 'sof-reads-employment-status';
/** The policy's version in the repository: the tests sign it, then change it to the next. */
const V = Number(/^version: ([0-9]+)$/m.exec(readFileSync(path.join(ROOT, 'policies', `${POLICY}.policy.yaml`), 'utf8'))![1]);
const citizen = population().find((c) => c.employment && c.social && !c.extras.employment)!;

let dir: string;
let policies: string;
let legal: TestApprover;
let dpo: TestApprover;
let env: TestEnv | undefined;
const originals = new Map<string, string>();

function edit(file: string, from: string | RegExp, to: string): void {
  const p = path.join(policies, file);
  const text = readFileSync(p, 'utf8');
  if (!originals.has(file)) originals.set(file, text);
  const next = text.replace(from, to);
  if (next === text) throw new Error(`nothing to replace in ${file}`);
  writeFileSync(p, next);
}

async function overrides(): Promise<ConfigInput> {
  return { paths: { certs: await testCerts(), data: dir, policies }, policies: approvalSettings([legal, dpo]) };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-approvals-e2e-'));
  policies = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
  legal = makeApprover(path.join(dir, 'keys'), 'bif-legal-office', 'BIF legal office');
  dpo = makeApprover(path.join(dir, 'keys'), 'dpo', 'Data protection officer', 'ed25519');
  await signPolicies(SCHEMAS, policies, [legal, dpo]);
});
afterAll(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('at start-up', () => {
  it('refuses a policy without the approvals it requires, naming the policy file and the approver', async () => {
    const file = approvalsPath(policies, POLICY);
    const signed = readFileSync(file, 'utf8');
    unlinkSync(file);
    try {
      const err = await loadRules(loadConfig({ root: ROOT, env: {}, overrides: await overrides() })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LoadErrors);
      const errors = (err as LoadErrors).errors;
      expect(errors.map((e) => path.basename(e.file))).toEqual([`${POLICY}.policy.yaml`, `${POLICY}.policy.yaml`]);
      expect(errors.map((e) => e.problem)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^policy "${POLICY}" \\(.*${POLICY}\\.policy\\.yaml\\) version ${V} lacks the approval of bif-legal-office \\(BIF legal office\\)`,
          ),
        ),
        expect.stringMatching(/lacks the approval of dpo \(Data protection officer\)/),
      ]);
      // The gateway itself does not start with it.
      await expect(startTestEnv({ name: 'approvals-start', simulators: false, overrides: await overrides() })).rejects.toThrow(
        new RegExp(`${POLICY}\\.policy\\.yaml: policy "${POLICY}" .* lacks the approval of dpo`),
      );
    } finally {
      writeFileSync(file, signed);
    }
  });

  it('refuses unsigned policies when approvals are required and no approver is configured', async () => {
    const err = await loadRules(
      loadConfig({
        root: ROOT,
        env: {},
        overrides: { paths: { certs: await testCerts(), data: dir, policies: path.join(ROOT, 'policies') } },
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoadErrors);
    expect((err as LoadErrors).errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^configuration at \/policies: policies.requireApprovals is true but no approver is configured/),
    ]);
  });
});

describe('a gateway whose policies are all approved', () => {
  const askStatus = () =>
    postAs(env!.url, 'sof-case-system', STATUS, { cpr: citizen.cpr, fields: ['incomeSupport', 'sanctionInForceSince'] });
  const records = async (auditId: string) => (await env!.gateway.store.audit.search({ auditId, limit: 10 })).records;
  /** A DPO page, signed in (in English) as the DPO's console. */
  const dpoPage = async (urlPath: string) => {
    const dpo = clientCreds('dpo-console');
    const form = await send(env!.url, { method: 'GET', path: '/dpo/sign-in', creds: dpo });
    const token = /name="_signin" value="([^"]+)"/.exec(form.text)![1]!;
    const signedIn = await send(env!.url, {
      method: 'POST',
      path: '/dpo/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: String(form.headers['set-cookie']).split(';')[0]! },
      body: new URLSearchParams({ _signin: token, lang: 'en' }).toString(),
      creds: dpo,
    });
    const cookie = (signedIn.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]).join('; ');
    return send(env!.url, { method: 'GET', path: urlPath, headers: { cookie }, creds: dpo });
  };

  beforeAll(async () => {
    env = await startTestEnv({ name: 'approvals', overrides: await overrides() });
    await withRelations(env, citizen.cpr, SERVED_BY_BOTH);
  });

  it('names the approvals digest in the decision and release records, next to the policy version', async () => {
    const policy = env!.gateway.rules().policies.policies.find((p) => p.id === POLICY)!;
    expect(policy.approvals).toEqual({
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      approvals: [
        { approver: 'bif-legal-office', title: 'BIF legal office', signedAt: expect.any(String) },
        { approver: 'dpo', title: 'Data protection officer', signedAt: expect.any(String) },
      ],
    });
    const res = await askStatus();
    expect(res.status).toBe(200);
    const written = await records(res.body.disclosure.auditId);
    expect(written.map((r) => [r.kind, r.policy]).sort()).toEqual([
      ['decision', { id: POLICY, version: V, approvals: policy.approvals!.digest }],
      ['release', { id: POLICY, version: V, approvals: policy.approvals!.digest }],
    ]);
    // Records with and without the member verify alike (the relations' records have no policy).
    expect((await verifyTrail({ store: env!.gateway.store, verifier: env!.gateway.audit.verifier })).ok).toBe(true);

    // The DPO's page of the decision record shows the approvals: the digest, who signed and when.
    const decision = written.find((r) => r.kind === 'decision')!;
    const page = await dpoPage(`/dpo/records/${decision.id}`);
    expect(page.status).toBe(200);
    const shown = /<dd id="policy-approvals">([\s\S]*?)<\/dd>/.exec(page.text)![1]!;
    expect(shown).toContain(`<code>${policy.approvals!.digest}</code>`);
    expect(shown).toMatch(/BIF legal office <code>bif-legal-office<\/code> .*; Data protection officer <code>dpo<\/code> /);
  });

  it('names the approvals digest in the records of a notification, queued and delivered', async () => {
    const c = population().filter((x) => x.employment !== null && x.cpr !== citizen.cpr)[900]!;
    await withRelations(env!, c.cpr, [{ administration: 'SOF', capacity: 'social-case' }]);
    const res = await emitNotification('sanction-notice', c.cpr, { gatewayUrl: env!.url, certsDir: TEST_CERTS });
    expect(res.status).toBe(202);
    const auditId = (res.body as { auditId: string }).auditId;
    const written = await waitFor('the notice is delivered', async () => {
      const found = await records(auditId);
      return found.some((r) => r.reasons.includes('DELIVERED')) && found;
    });
    const approvals = env!.gateway.rules().policies.policies.find((p) => p.id === 'bif-notifies-sof-of-sanctions')!.approvals!.digest;
    expect(written.map((r) => r.reasons[0]).sort()).toEqual(['DELIVERED', 'QUEUED']);
    for (const r of written) expect(r.policy).toEqual({ id: 'bif-notifies-sof-of-sanctions', version: expect.any(Number), approvals });
  });

  it('refuses a reload of a policy changed after signing, says why, and keeps the approved rules in force', async () => {
    const before = env!.gateway.rules();
    edit(`${POLICY}.policy.yaml`, `version: ${V}`, `version: ${V + 1}`);
    edit(`${POLICY}.policy.yaml`, 'nextMeetingDate, sanctionInForceSince]', 'nextMeetingDate]');
    edit(
      `${POLICY}.test.yaml`,
      `policy: ${POLICY}\n      fields: [targetGroup, incomeSupport, jobcentreUnit, caseworkerContact, nextMeetingDate, sanctionInForceSince]`,
      `policy: ${POLICY}\n      fields: [targetGroup, incomeSupport, jobcentreUnit, caseworkerContact, nextMeetingDate]`,
    );
    edit(`${POLICY}.test.yaml`, 'fields: [incomeSupport, sanctionInForceSince] }', 'fields: [incomeSupport] }');
    edit(
      `${POLICY}.test.yaml`,
      `expect: { decision: permit, policy: ${POLICY}, fields: [sanctionInForceSince] }`,
      'expect: { decision: deny, reasons: [NO_FIELDS_PERMITTED] }',
    );

    const api = await postAs(env!.url, 'ops-console', '/v1/admin/reload', {});
    expect(api.status).toBe(422);
    expect(api.body.code).toBe('RULES_INVALID');
    expect(api.body.errors).toEqual([
      { path: expect.stringMatching(new RegExp(`${POLICY}\\.approvals\\.yaml$`)), message: 'line 8' },
      { path: expect.stringMatching(new RegExp(`${POLICY}\\.approvals\\.yaml$`)), message: 'line 10' },
    ]);
    // What the operator's log and SIGHUP are told: the policy, and that it changed after signing.
    const outcome = await reloadRules(env!.gateway, { via: 'SIGHUP' });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.errors.map((e) => e.problem)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^policy "${POLICY}" \\(.*\\) changed after signing: approver "bif-legal-office" signed version ${V} .*now version ${V + 1}`,
        ),
      ),
      expect.stringMatching(new RegExp(`^policy "${POLICY}" \\(.*\\) changed after signing: approver "dpo" signed version ${V}`)),
    ]);
    expect(env!.gateway.rules()).toBe(before);
    const still = await askStatus();
    expect(still.status).toBe(200);
    expect(still.body.disclosure).toMatchObject({
      policy: { id: POLICY, version: V },
      released: ['incomeSupport', 'sanctionInForceSince'],
    });

    // Signed again, the change comes into force, and its records name the new approvals.
    await signPolicies(SCHEMAS, policies, [legal, dpo], [POLICY]);
    const reloaded = await postAs(env!.url, 'ops-console', '/v1/admin/reload', {});
    expect(reloaded.status).toBe(200);
    const now = env!.gateway.rules().policies.policies.find((p) => p.id === POLICY)!;
    expect(now.version).toBe(V + 1);
    const after = await askStatus();
    expect(after.status).toBe(200);
    const decision = (await records(after.body.disclosure.auditId)).find((r) => r.kind === 'decision');
    expect(decision!.policy).toEqual({ id: POLICY, version: V + 1, approvals: now.approvals!.digest });
    expect(now.approvals!.digest).not.toBe(before.policies.policies.find((p) => p.id === POLICY)!.approvals!.digest);
  });
});
