import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { population } from '../src/simulators/population.js';
import { postAs } from './support/calls.js';
import { startTestEnv, testCerts, type TestEnv } from './support/env.js';
import { SERVED_BY_BOTH, withRelations } from './support/relations.js';

jest.setTimeout(60_000);

/**
 * Reloading the rules while the gateway runs: POST /v1/admin/reload (role operations) and
 * SIGHUP. A valid set is switched to at once and audited; a broken one is refused, audited, and
 * the rules in force stay.
 */

const ROOT = process.cwd();
const RELOAD = '/v1/admin/reload';
const STATUS = '/v1/queries/employment.citizen-status.v1';
const citizen = population().find((c) => c.employment && c.social && !c.extras.employment)!;

let env: TestEnv;
let dir: string;
let policies: string;
const originals = new Map<string, string>();

function edit(file: string, from: string | RegExp, to: string): void {
  const p = path.join(policies, file);
  const text = readFileSync(p, 'utf8');
  if (!originals.has(file)) originals.set(file, text);
  const next = text.replace(from, to);
  if (next === text) throw new Error(`nothing to replace in ${file}`);
  writeFileSync(p, next);
}
function restore(): void {
  for (const [file, text] of originals) writeFileSync(path.join(policies, file), text);
  originals.clear();
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-reload-'));
  policies = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
  env = await startTestEnv({ name: 'reload', overrides: { paths: { certs: await testCerts(), data: dir, policies } } });
  // Need to know: both administrations serve the citizen asked about.
  await withRelations(env, citizen.cpr, SERVED_BY_BOTH);
});
afterAll(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(restore);

const post = (client: string, urlPath: string, bodyObj: unknown) => postAs(env.url, client, urlPath, bodyObj);
const reload = () => post('ops-console', RELOAD, {});
const askStatus = () => post('sof-case-system', STATUS, { cpr: citizen.cpr, fields: ['incomeSupport', 'sanctionInForceSince'] });

async function adminRecord(auditId: string) {
  const { records } = await env.gateway.store.audit.search({ auditId, kind: 'admin', limit: 10 });
  return records;
}

describe('POST /v1/admin/reload', () => {
  it('switches to a changed, valid rule set at once, and audits it with both digests traceable', async () => {
    const before = env.gateway.rules().policies.digest;
    const version = env.gateway.rules().policies.policies.find((p) => p.id === 'sof-reads-employment-status')!.version;
    const first = await askStatus();
    expect(first.status).toBe(200);
    expect(first.body.disclosure).toMatchObject({
      policy: { id: 'sof-reads-employment-status', version },
      released: ['incomeSupport', 'sanctionInForceSince'],
    });

    // The policy owner drops whether a sanction is in force (and says so in the policy's test cases).
    edit('sof-reads-employment-status.policy.yaml', `version: ${version}`, `version: ${version + 1}`);
    edit('sof-reads-employment-status.policy.yaml', 'nextMeetingDate, sanctionInForceSince]', 'nextMeetingDate]');
    edit(
      'sof-reads-employment-status.test.yaml',
      'policy: sof-reads-employment-status\n      fields: [targetGroup, incomeSupport, jobcentreUnit, caseworkerContact, nextMeetingDate, sanctionInForceSince]',
      'policy: sof-reads-employment-status\n      fields: [targetGroup, incomeSupport, jobcentreUnit, caseworkerContact, nextMeetingDate]',
    );
    edit('sof-reads-employment-status.test.yaml', 'fields: [incomeSupport, sanctionInForceSince] }', 'fields: [incomeSupport] }');
    edit(
      'sof-reads-employment-status.test.yaml',
      'expect: { decision: permit, policy: sof-reads-employment-status, fields: [sanctionInForceSince] }',
      'expect: { decision: deny, reasons: [NO_FIELDS_PERMITTED] }',
    );

    const res = await reload();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'reloaded', previousPolicySet: before, auditId: expect.any(String) });
    expect(res.body.policySet).not.toBe(before);
    expect(env.gateway.rules().policies.digest).toBe(res.body.policySet);

    const after = await askStatus();
    expect(after.status).toBe(200);
    expect(after.body.disclosure).toMatchObject({
      policy: { id: 'sof-reads-employment-status', version: version + 1 },
      released: ['incomeSupport'],
      withheld: ['sanctionInForceSince'],
    });
    expect(after.body.data).not.toHaveProperty('sanctionInForceSince');

    const [record] = await adminRecord(res.body.auditId);
    expect(record).toMatchObject({
      kind: 'admin',
      reasons: ['RULES_RELOADED'],
      policySet: res.body.policySet,
      caller: { system: 'ops-console', administration: 'OPS' },
      status: 200,
    });
    expect(record!.caseworker).toEqual(expect.any(String));
    expect(record!.tokenDigest).toEqual(expect.any(String));
    // Each decision record names the policy set it was made under.
    const decisionOf = async (auditId: string) =>
      (await env.gateway.store.audit.search({ auditId, kind: 'decision', limit: 1 })).records[0]!;
    expect((await decisionOf(first.body.disclosure.auditId)).policySet).toBe(before);
    expect((await decisionOf(after.body.disclosure.auditId)).policySet).toBe(res.body.policySet);

    restore();
    expect((await reload()).status).toBe(200);
    expect(env.gateway.rules().policies.digest).toBe(before);
  });

  it('refuses a broken set, lists the files and lines, keeps the rules in force, and audits the refusal', async () => {
    const before = env.gateway.rules().policies.digest;
    edit('bif-reads-social-coordination-summary.policy.yaml', 'purpose: plan-coordination', 'purpose: plan-cordination');
    edit('sof-reads-job-plan-summary.policy.yaml', 'requester:\n  administrations: [SOF]', 'requester:\n  administrations: [SOF\n  x');
    const res = await reload();
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'RULES_INVALID', auditId: expect.any(String) });
    const file = (name: string) => expect.stringMatching(new RegExp(`policies[\\\\/]${name.replaceAll('.', '\\.')}$`));
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: file('bif-reads-social-coordination-summary.policy.yaml'), message: 'line 13' },
        { path: file('sof-reads-job-plan-summary.policy.yaml'), message: expect.stringMatching(/^line \d+$/) },
      ]),
    );
    // file names and lines only: what is wrong is in the operator's log and `snitflade check`
    expect(JSON.stringify(res.body)).not.toContain('cordination');

    expect(env.gateway.rules().policies.digest).toBe(before);
    const still = await askStatus();
    expect(still.status).toBe(200);
    expect(still.body.disclosure.released).toEqual(['incomeSupport', 'sanctionInForceSince']);

    const [record] = await adminRecord(res.body.auditId);
    expect(record).toMatchObject({
      kind: 'admin',
      reasons: ['RULES_INVALID'],
      policySet: before,
      caller: { system: 'ops-console' },
      status: 422,
    });
  });

  it("refuses a set whose policy test cases fail (the lawyers' intent is checked before a switch)", async () => {
    const before = env.gateway.rules().policies.digest;
    edit('sof-reads-employment-status.policy.yaml', 'nextMeetingDate, sanctionInForceSince]', 'nextMeetingDate]');
    const res = await reload();
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: expect.stringMatching(/sof-reads-employment-status\.test\.yaml$/), message: expect.stringMatching(/^line \d+$/) },
      ]),
    );
    expect(env.gateway.rules().policies.digest).toBe(before);
  });

  it('is for the operators only (403 FORBIDDEN_ROLE, audited)', async () => {
    const res = await post('sof-case-system', RELOAD, {});
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN_ROLE');
    const { records } = await env.gateway.store.audit.search({ auditId: res.body.auditId, limit: 10 });
    expect(records.map((r) => [r.kind, r.reasons])).toEqual([['refusal', ['FORBIDDEN_ROLE']]]);
  });
});

// SIGHUP is tested on the built gateway process (`npm start`'s main) in test/cli-built.test.ts: a
// signal cannot be sent to jest's sandboxed process object.
