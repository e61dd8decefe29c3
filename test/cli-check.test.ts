import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCheck } from '../src/cli/commands/check.js';
import { captureIO } from './support/cli-io.js';

const ROOT = process.cwd();
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'check');

/** The 1-based line of the first line of `file` (in the fixture) containing `text`. */
function lineOf(fixture: string, file: string, text: string): number {
  const lines = readFileSync(path.join(FIXTURES, fixture, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`${text} not in ${fixture}/${file}`);
  return i + 1;
}

async function check(fixture: string, extra: { cases?: boolean } = {}) {
  const io = captureIO();
  const code = await runCheck({ dir: path.join(FIXTURES, fixture), ...extra }, io);
  return { code, out: io.out(), err: io.err() };
}

describe('snitflade check on the repository', () => {
  it("passes on the repository's contracts, policies, purposes, policy tests and clients", async () => {
    const io = captureIO();
    const code = await runCheck({ certs: path.join(ROOT, 'test-output', 'no-certs-here') }, io);
    expect(io.err()).not.toContain('✘');
    expect(code).toBe(0);
    const counts = /check passed: (\d+) contracts, (\d+) policies, (\d+) purposes, (\d+) policy test cases, (\d+) clients/.exec(io.out());
    expect(counts).not.toBeNull();
    expect(Number(counts![1])).toBeGreaterThanOrEqual(10);
  });

  it('also passes with the policy test cases run (as a reload does)', async () => {
    const io = captureIO();
    expect(await runCheck({ cases: true, certs: path.join(ROOT, 'test-output', 'no-certs-here') }, io)).toBe(0);
  });

  it('reports as JSON for tools', async () => {
    const io = captureIO();
    expect(await runCheck({ json: true, dir: path.join(FIXTURES, 'unknown-purpose') }, io)).toBe(1);
    const report = JSON.parse(io.out()) as { ok: boolean; errors: { file: string; line: number; path: string; problem: string }[] };
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([
      {
        file: path.join('test', 'fixtures', 'check', 'unknown-purpose', 'policies', 'sof-reads-employment-status.policy.yaml'),
        line: lineOf('unknown-purpose', 'policies/sof-reads-employment-status.policy.yaml', 'purpose: plan-cordination'),
        path: '/purpose',
        problem: 'unknown purpose "plan-cordination"; the purposes in purposes.yaml are: plan-coordination, rehabilitation-team-assessment',
      },
    ]);
  });
});

describe('snitflade check on broken fixtures: fails with a precise message', () => {
  const at = (fixture: string, file: string) => path.join('test', 'fixtures', 'check', fixture, file);

  it('passes on the valid fixture (and says the keys were not checked)', async () => {
    const r = await check('valid');
    expect(r.code).toBe(0);
    expect(r.out).toContain('check passed: 2 contracts, 2 policies, 2 purposes, 10 policy test cases, 2 clients');
    expect(r.err).toContain('the signing-key files were not checked');
  });

  it('a contract schema with an unbounded string', async () => {
    const r = await check('bad-schema');
    expect(r.code).toBe(1);
    const file = 'schemas/employment.citizen-status.v1.json';
    expect(r.err).toContain(
      `✘ ${at('bad-schema', file)}:${lineOf('bad-schema', file, '"jobcentreUnit": {')} at /response/properties/jobcentreUnit: string without "maxLength"; add maxLength`,
    );
    expect(r.err).toContain('check failed: 1 error(s)');
  });

  it('an unknown field in a policy', async () => {
    const r = await check('unknown-field');
    expect(r.code).toBe(1);
    const file = 'policies/sof-reads-employment-status.policy.yaml';
    expect(r.err).toContain(
      `✘ ${at('unknown-field', file)}:${lineOf('unknown-field', file, 'benefits')} at /fields/1: "benefits" is not a field of employment.citizen-status.v1; its fields are: targetGroup, benefit, jobcentreUnit, caseworkerContact, nextMeeting, sanctions`,
    );
  });

  it('a special-category field without an Art. 9 basis', async () => {
    const r = await check('special-without-art9');
    expect(r.code).toBe(1);
    const file = 'policies/bif-reads-social-coordination-summary.policy.yaml';
    expect(r.err).toContain(
      `✘ ${at('special-without-art9', file)}:${lineOf('special-without-art9', file, 'fields:')} at /fields/3: "efforts" is health data, a special category (GDPR Art. 9); a policy that permits it needs legalBasis.gdprSpecial`,
    );
  });

  it('an unknown purpose', async () => {
    const r = await check('unknown-purpose');
    expect(r.code).toBe(1);
    const file = 'policies/sof-reads-employment-status.policy.yaml';
    expect(r.err).toContain(
      `✘ ${at('unknown-purpose', file)}:${lineOf('unknown-purpose', file, 'plan-cordination')} at /purpose: unknown purpose "plan-cordination"; the purposes in purposes.yaml are: plan-coordination, rehabilitation-team-assessment`,
    );
  });

  it('overlapping policies', async () => {
    const r = await check('overlapping');
    expect(r.code).toBe(1);
    const file = 'policies/sof-reads-employment-status-2025.policy.yaml';
    expect(r.err).toContain(
      `✘ ${at('overlapping', file)}:${lineOf('overlapping', file, 'validity:')} at /validity: policy "sof-reads-employment-status-2025" overlaps policy "sof-reads-employment-status"`,
    );
    expect(r.err).toContain('for administration SOF, role caseworker-system and purpose plan-coordination in overlapping periods');
    expect(r.err).toContain('Make them disjoint');
  });

  it('a YAML syntax error', async () => {
    const r = await check('yaml-syntax');
    expect(r.code).toBe(1);
    const file = 'policies/sof-reads-employment-status.policy.yaml';
    expect(r.err).toContain(
      `✘ ${at('yaml-syntax', file)}:${lineOf('yaml-syntax', file, 'roles: [caseworker-system]')}: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    );
  });

  it('a provider system that is not in the client registry', async () => {
    const r = await check('provider-unregistered');
    expect(r.code).toBe(1);
    const file = 'schemas/employment.citizen-status.v1.json';
    expect(r.err).toContain(
      `✘ ${at('provider-unregistered', file)}:${lineOf('provider-unregistered', file, '"provider"')} at /provider/system: the provider system "bif-jobcentre-system" is not registered in clients.yaml; register it`,
    );
    // and a warning, not an error: no BIF client can use the BIF policy
    expect(r.err).toContain('! warning: ');
    expect(r.err).toContain('no registered client of BIF holds the role caseworker-system');
    // (the third: the fixture's policies are unsigned and no approver is configured)
    expect(r.err).toContain("! warning: configuration at /policies: the policies' approvals were not checked: no approver is configured");
    expect(r.err).toContain('check failed: 1 error(s), 3 warning(s)');
  });

  it('a client holding a role the gateway does not know', async () => {
    const r = await check('unknown-role');
    expect(r.code).toBe(1);
    const file = 'policies/clients.yaml';
    expect(r.err).toContain(
      `✘ ${at('unknown-role', file)}:${lineOf('unknown-role', file, 'case-worker')} at /clients/0/roles/0: unknown role "case-worker"; the roles are: caseworker-system,`,
    );
  });

  it('a failing policy test case passes the file check, and fails it with --cases', async () => {
    expect((await check('failing-case')).code).toBe(0);
    const r = await check('failing-case', { cases: true });
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'policy test case "social caseworker system gets only the fields it asks for" fails: expected permit by sof-reads-employment-status of [benefit, sanctions, jobcentreUnit], the policies decide permit by sof-reads-employment-status of [benefit, sanctions]',
    );
  });
});
