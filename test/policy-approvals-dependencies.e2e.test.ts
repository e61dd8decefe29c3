import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { reloadRules } from '../src/rules/reload.js';
import { population } from '../src/simulators/population.js';
import { approvalSettings, makeApprover, signPolicies, type TestApprover } from './support/approvers.js';
import { postAs } from './support/calls.js';
import { startTestEnv, testCerts, type TestEnv } from './support/env.js';
import { SERVED_BY_BOTH, withRelations } from './support/relations.js';

jest.setTimeout(180_000);

/**
 * The client registry against a running gateway, from the side of someone who can write to
 * policies/ but not to the configuration, the certificate folder or an approver's key: it says
 * which system is "SOF, role caseworker-system", so it is approved like a policy.
 */

const ROOT = process.cwd();
const SCHEMAS = path.join(ROOT, 'schemas');
const STATUS = '/v1/queries/employment.citizen-status.v1';
const citizen = population().find((c) => c.employment && c.social && !c.extras.employment)!;

let dir: string;
let policies: string;
let legal: TestApprover;
let dpo: TestApprover;
let env: TestEnv | undefined;

function edit(file: string, from: string | RegExp, to: string): void {
  const p = path.join(policies, file);
  const text = readFileSync(p, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`nothing to replace in ${file}`);
  writeFileSync(p, next);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-approvals-deps-e2e-'));
  policies = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
  legal = makeApprover(path.join(dir, 'keys'), 'bif-legal-office', 'BIF legal office');
  dpo = makeApprover(path.join(dir, 'keys'), 'dpo', 'Data protection officer', 'ed25519');
  await signPolicies(SCHEMAS, policies, [legal, dpo]);
  env = await startTestEnv({
    name: 'approvals-deps',
    overrides: { paths: { certs: await testCerts(), data: dir, policies }, policies: approvalSettings([legal, dpo]) },
  });
  await withRelations(env, citizen.cpr, SERVED_BY_BOTH);
});
afterAll(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the client registry', () => {
  // The operations console (administration OPS: reloads, no citizen data) is relabelled; the
  // signed policy "social services' case system may read employment status" would answer it.
  it("does not let another system receive what a signed policy grants SOF's case system: the reload is refused", async () => {
    const ask = () => postAs(env!.url, 'ops-console', STATUS, { cpr: citizen.cpr, fields: ['incomeSupport', 'sanctionInForceSince'] });
    const before = await ask();
    expect(before.status).toBe(403);
    const rules = env!.gateway.rules();
    edit(
      'clients.yaml',
      /administration: OPS\n(\s+)roles: \[operations\]/,
      'administration: SOF\n$1roles: [operations, caseworker-system]',
    );
    const outcome = await reloadRules(env!.gateway, { via: 'SIGHUP' });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.errors.map((e) => e.problem)).toEqual([
      expect.stringMatching(/^registry clients\.yaml \(.*\) changed after signing: approver "bif-legal-office" signed it as content /),
      expect.stringMatching(/^registry clients\.yaml \(.*\) changed after signing: approver "dpo" signed it as content /),
    ]);
    expect(env!.gateway.rules()).toBe(rules);
    const res = await ask();
    expect({ status: res.status, released: res.body.disclosure?.released }).toEqual({ status: 403, released: undefined });
  });
});
