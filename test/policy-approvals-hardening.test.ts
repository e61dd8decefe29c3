import { existsSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import { loadConfig } from '../src/config/config.js';
import { loadContracts } from '../src/contracts/registry.js';
import { DEMO_DEFAULTS } from '../src/demo.js';
import { LoadErrors } from '../src/lib/load-error.js';
import { readApprovers } from '../src/policy/approvals/approvers.js';
import { checkApprovals } from '../src/policy/approvals/check.js';
import { policyContentDigest } from '../src/policy/approvals/digest.js';
import { approvalsPath, readApprovals, writeApproval } from '../src/policy/approvals/file.js';
import { APPROVAL_TYP } from '../src/policy/approvals/sign.js';
import { verifyApproval } from '../src/policy/approvals/verify.js';
import { loadPolicySet } from '../src/policy/loader.js';
import { approvalSettings, signedCopy, type TestApprover } from './support/approvers.js';

jest.setTimeout(120_000);

/**
 * Signed policies (docs/POLICY-APPROVALS.md, SECURITY.md threat 30) against someone who can write
 * to policies/ but not to the configuration, the certificate folder or an approver's private key:
 * the file means what its reader sees, the approvals file cannot stall a reload or write through a
 * symlink or the operator's terminal, an odd policy id is reported, and configured approvers are
 * enforced under npm start.
 */

const ROOT = process.cwd();
const STATUS_POLICY = 'sof-reads-employment-status';

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

beforeEach(async () => {
  ({ dir, policies, schemas, legal, dpo } = await signedCopy(ROOT, 'approvals-hardening'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the policy file as the approver reads it', () => {
  // With a "%YAML 1.1" directive the parser switches to YAML 1.1: 015 is octal (13), "n" is
  // false, 1:30 is 90. The approver reads "min: 015" as 15; the gateway applies 13, and the
  // digest the approver signs is of the 13. Signed files should be plain YAML 1.2, no tags.
  it('refuses a policy file that switches the YAML version (octal 015 read as 13)', () => {
    edit(policies, `${STATUS_POLICY}.policy.yaml`, /^# EXAMPLE/, '%YAML 1.1\n---\n# EXAMPLE');
    edit(policies, `${STATUS_POLICY}.policy.yaml`, 'age: { min: 18 }', 'age: { min: 015 }');
    // (a YAML 1.1 date would be a Date, which the schema refuses: quoted, it stays a string)
    edit(policies, `${STATUS_POLICY}.policy.yaml`, 'from: 2024-01-01', 'from: "2024-01-01"');
    const load = () => loadPolicySet({ dir: policies, contracts: loadContracts(schemas) });
    let min: number | undefined;
    try {
      min = load().policies.find((p) => p.id === STATUS_POLICY)!.subject?.age.min;
    } catch (err) {
      expect(err).toBeInstanceOf(LoadErrors);
      return;
    }
    throw new Error(`a YAML 1.1 policy file was loaded; "min: 015" came into force as ${min}`);
  });

  it('a content digest tells apart values the loader could get from YAML tags (a Date, a Map, a Set)', () => {
    // Today only the policy schema keeps these out of a content digest (yaml makes them from
    // !!timestamp, !!omap, !!set, or a %YAML 1.1 date); canonicalJson turns every one into {},
    // though it promises a TypeError for anything it cannot hash the same way twice.
    const distinguishes = (a: unknown, b: unknown): boolean => {
      try {
        return policyContentDigest(a) !== policyContentDigest(b);
      } catch (err) {
        return err instanceof TypeError;
      }
    };
    expect(distinguishes({ from: new Date(0) }, { from: new Date(1e12) })).toBe(true);
    expect(distinguishes({ a: new Map([['x', 1]]) }, { a: new Map([['y', 2]]) })).toBe(true);
    expect(distinguishes({ a: new Set(['x']) }, { a: new Set(['y']) })).toBe(true);
  });
});

describe('the approvals file', () => {
  // A legitimate file is at most 50 entries of about 4.5 kB. A few megabytes of tiny entries
  // take the YAML parser seconds and hundreds of megabytes, synchronously, on the gateway's one
  // thread during a reload: every request waits; at some tens of megabytes the process runs out
  // of memory, where a broken file would only have been refused with the rules in force kept.
  it('is refused by its size before it is parsed', () => {
    const entry = '  - approver: dpo\n    jws: a..b\n';
    writeFileSync(
      approvalsPath(policies, STATUS_POLICY),
      `policy: ${STATUS_POLICY}\napprovals:\n${entry.repeat(Math.floor((2 * 1024 * 1024) / entry.length))}`,
    );
    const read = readApprovals(policies, STATUS_POLICY);
    expect(Array.isArray(read)).toBe(true);
    expect(Array.isArray(read) && read.map((e) => e.problem)).toEqual([expect.stringMatching(/larger than 256 KiB/)]);
  });

  // The kid of an approval by someone not configured is echoed into the refusal, which
  // `snitflade check` and `policy approvals` print on the operator's terminal: control
  // characters there can rewrite the screen (hide the refusal, print a green tick).
  it('is refused without echoing control characters from a forged header', async () => {
    const { approvers } = readApprovers(approvalSettings([legal, dpo]), dir);
    const header = Buffer.from(
      JSON.stringify({
        alg: 'ES256',
        typ: APPROVAL_TYP,
        kid: '\u001b[1A\u001b[2K\r\u2714 all approved',
        policy: STATUS_POLICY,
        version: 1,
        digest: 'a'.repeat(64),
        iat: 1,
      }),
    ).toString('base64url');
    const signed = {
      id: STATUS_POLICY,
      version: 1,
      contract: 'employment.citizen-status.v1',
      purpose: 'plan-coordination',
      contentDigest: 'a'.repeat(64),
      components: { policy: 'b'.repeat(64), contract: 'c'.repeat(64), purpose: 'd'.repeat(64) },
    };
    const verdict = await verifyApproval(`${header}..AAAA`, signed, approvers);
    expect(verdict.status).not.toBe('valid');
    // eslint-disable-next-line no-control-regex -- looking for control characters on purpose
    expect(verdict.status !== 'valid' && verdict.problem).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  // `policy sign` runs on the approver's own machine, in a checkout of the repository whose
  // policies/ the writer controls. Its temporary file has a predictable name and is opened
  // following symlinks: a committed symlink makes the approver overwrite a file of theirs.
  it("is written without following a symlink planted at the temporary file's name", () => {
    const victim = path.join(dir, 'approver-home-file');
    writeFileSync(victim, 'the approver’s own file\n');
    const full = approvalsPath(policies, STATUS_POLICY);
    symlinkSync(victim, `${full}.${process.pid}.tmp`);
    try {
      writeApproval(policies, STATUS_POLICY, 'dpo', 'eyJ..sig', []);
    } catch {
      // refusing is fine too
    }
    expect(readFileSync(victim, 'utf8')).toBe('the approver’s own file\n');
  });
});

describe('the configuration of signed policies', () => {
  // A policy whose id is "constructor" finds Object.prototype.constructor in requiredPerPolicy
  // and the check throws a TypeError instead of reporting: start-up dies without naming a file,
  // and a reload is refused without its RULES_INVALID record.
  it('reports, rather than throws on, a policy whose id is an Object.prototype member', async () => {
    edit(policies, `${STATUS_POLICY}.policy.yaml`, `id: ${STATUS_POLICY}`, 'id: constructor');
    renameSync(path.join(policies, `${STATUS_POLICY}.policy.yaml`), path.join(policies, 'constructor.policy.yaml'));
    rmSync(path.join(policies, `${STATUS_POLICY}.test.yaml`));
    const set = loadPolicySet({ dir: policies, contracts: loadContracts(schemas) });
    const report = checkApprovals(set.policies, { dir: policies, settings: approvalSettings([legal, dpo]), certs: dir, strict: true });
    await expect(report).resolves.toMatchObject({ checked: true });
  });

  // The demo's default (requireApprovals false) is meant to give way to an operator's setting.
  // An operator whose SNITFLADE_CONFIG configures approvers and required approvals, but leaves
  // requireApprovals at what the docs call its default (true), gets no enforcement from npm start.
  it('enforces approvals under npm start when the configuration file configures approvers', () => {
    const file = path.join(dir, 'gateway.json');
    writeFileSync(
      file,
      JSON.stringify({
        policies: { approvers: [{ id: 'dpo', title: 'DPO', publicKeys: [{ file: dpo.publicKeyFile }] }], required: ['dpo'] },
      }),
    );
    expect(existsSync(file)).toBe(true);
    const config = loadConfig({ root: ROOT, env: { SNITFLADE_CONFIG: file }, defaults: DEMO_DEFAULTS });
    expect(config.policies.requireApprovals).toBe(true);
  });
});
