import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { loadConfig } from '../src/config/config.js';
import { LoadErrors } from '../src/lib/load-error.js';
import { loadRules } from '../src/rules/load.js';
import { startTestEnv, testCerts } from './support/env.js';

jest.setTimeout(60_000);

/**
 * Start-up and reload take one path (src/rules/load.ts) and run the same checks: a rule set
 * that a reload would refuse never comes into force at start-up either.
 */

const ROOT = process.cwd();
let dir: string;
let policies: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-rules-load-'));
  policies = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function edit(file: string, from: string, to: string): void {
  const p = path.join(policies, file);
  const text = readFileSync(p, 'utf8');
  if (!text.includes(from)) throw new Error(`nothing to replace in ${file}`);
  writeFileSync(p, text.replace(from, to));
}

async function config() {
  return loadConfig({
    root: ROOT,
    env: {},
    overrides: { paths: { certs: await testCerts(), data: dir, policies }, policies: { requireApprovals: false } },
  });
}

async function loadErrorsOf(load: Promise<unknown>): Promise<LoadErrors> {
  const err = await load.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LoadErrors);
  return err as LoadErrors;
}

describe('the rule set at start-up', () => {
  it('loads, checks and freezes the shipped rules', async () => {
    const rules = await loadRules(await config());
    expect(Object.isFrozen(rules)).toBe(true);
    expect(rules.policies.policies.length).toBeGreaterThan(0);
  });

  it('refuses a set whose policy test case fails, naming the cases file', async () => {
    // The lawyer's intent says "deny"; the policy permits: the set must not come into force.
    edit(
      'bif-notifies-sof-of-sanctions.test.yaml',
      'expect: { decision: permit, policy: bif-notifies-sof-of-sanctions, fields: [sanctionDate, sanctionType] }',
      'expect: { decision: deny }',
    );
    const err = await loadErrorsOf(loadRules(await config()));
    expect(err.errors.some((e) => e.file.endsWith('bif-notifies-sof-of-sanctions.test.yaml'))).toBe(true);
  });

  it('refuses a client that names an administration nobody registered', async () => {
    edit('clients.yaml', 'administration: SOF', 'administration: XYZ');
    const err = await loadErrorsOf(loadRules(await config()));
    expect(err.errors.some((e) => e.file.endsWith('clients.yaml') && /XYZ/.test(e.message))).toBe(true);
  });

  it('stops the gateway from starting with a set a reload would refuse', async () => {
    edit(
      'bif-notifies-sof-of-sanctions.test.yaml',
      'expect: { decision: permit, policy: bif-notifies-sof-of-sanctions, fields: [sanctionDate, sanctionType] }',
      'expect: { decision: deny }',
    );
    await loadErrorsOf(
      startTestEnv({
        name: 'rules-load',
        simulators: false,
        overrides: { paths: { certs: await testCerts(), data: dir, policies }, policies: { requireApprovals: false } },
      }),
    );
  });
});
