/**
 * The capacities registry (policies/capacities.yaml) is part of the rule set: loaded, checked
 * and frozen by the one path start-up and reload take, and checked by `snitflade check`; a broken
 * file names the file and the line.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { loadConfig } from '../src/config/config.js';
import { LoadErrors } from '../src/lib/load-error.js';
import { loadCapacities } from '../src/relations/capacities.js';
import { checkRules } from '../src/rules/check.js';
import { loadRules } from '../src/rules/load.js';
import { testCerts } from './support/env.js';

jest.setTimeout(60_000);

const ROOT = process.cwd();
let dir: string;
let policies: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-capacities-'));
  policies = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function edit(from: string, to: string): void {
  const p = path.join(policies, 'capacities.yaml');
  const text = readFileSync(p, 'utf8');
  if (!text.includes(from)) throw new Error('nothing to replace in capacities.yaml');
  writeFileSync(p, text.replace(from, to));
}

const lineOf = (needle: string): number =>
  readFileSync(path.join(policies, 'capacities.yaml'), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(needle)) + 1;

async function config() {
  return loadConfig({
    root: ROOT,
    env: {},
    overrides: { paths: { certs: await testCerts(), data: dir, policies }, policies: { requireApprovals: false } },
  });
}

describe('the capacities registry', () => {
  it('is part of the frozen rule set: the seeded capacities, each with its administrations', async () => {
    const rules = await loadRules(await config());
    const { capacities } = rules;
    expect([...capacities.capacities.keys()].sort()).toEqual(
      [
        'cash-benefit',
        'sickness-benefit',
        'rehabilitation-case',
        'social-case',
        'housing-support',
        'support-contact-person',
        'coordinating-caseworker',
      ].sort(),
    );
    const system = ['caseworker-system'];
    const coordinator = ['caseworker-system', 'coordinating-caseworker'];
    expect(capacities.allows('cash-benefit', 'BIF', system)).toBe(true);
    expect(capacities.allows('cash-benefit', 'SOF', coordinator)).toBe(false);
    // The coordinating caseworker: listed administrations only, and only a system holding that role.
    expect(capacities.allows('coordinating-caseworker', 'SOF', coordinator)).toBe(true);
    expect(capacities.allows('coordinating-caseworker', 'SOF', system)).toBe(false);
    for (const other of ['SUF', 'DPO', 'OPS']) expect(capacities.allows('coordinating-caseworker', other, coordinator)).toBe(false);
    expect(capacities.allows('gossip', 'BIF', coordinator)).toBe(false);
    expect(Object.isFrozen(capacities.capacities.get('social-case'))).toBe(true);
  });

  it('refuses an administration nobody registered, naming the file and the line', async () => {
    edit('administrations: [SOF]\n    title:\n      da: Bostøtte', 'administrations: [XYZ]\n    title:\n      da: Bostøtte');
    const err = await loadRules(await config()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoadErrors);
    const [e] = (err as LoadErrors).errors;
    expect(e).toMatchObject({ path: '/capacities/4/administrations/0', line: lineOf('[XYZ]') });
    expect(e?.file).toMatch(/capacities\.yaml$/);
    expect(e?.problem).toContain('unknown administration "XYZ"');
  });

  it('refuses a capacity listed twice and a schema violation, in snitflade check too', async () => {
    edit('id: sickness-benefit', 'id: cash-benefit');
    edit('administrations: [BIF, SOF]\n', 'administrations: any\n');
    const report = await checkRules({ schemas: path.join(ROOT, 'schemas'), policies, certs: await testCerts() });
    const mine = report.errors.filter((e) => e.file.endsWith('capacities.yaml'));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.line !== undefined)).toBe(true);
    expect(mine.some((e) => e.path.startsWith('/capacities/6/administrations'))).toBe(true);
  });

  it('refuses a role nobody knows in a capacity, naming the file and the line', () => {
    edit('roles: [coordinating-caseworker]', 'roles: [coordinator]');
    try {
      loadCapacities(policies);
      throw new Error('loaded');
    } catch (err) {
      expect(err).toBeInstanceOf(LoadErrors);
      expect((err as LoadErrors).errors.map((e) => [e.path.startsWith('/capacities/6/roles'), e.line])).toContainEqual([
        true,
        lineOf('roles: [coordinator]'),
      ]);
    }
  });

  it('reports a capacity listed twice at its line', () => {
    edit('id: sickness-benefit', 'id: cash-benefit');
    expect(() => loadCapacities(policies)).toThrow(LoadErrors);
    try {
      loadCapacities(policies);
    } catch (err) {
      expect((err as LoadErrors).errors.map((e) => [e.path, e.problem])).toEqual([['/capacities/1/id', '"cash-benefit" is listed twice']]);
    }
  });

  it('a rule folder without the file has no capacities, and the register refuses every registration', () => {
    rmSync(path.join(policies, 'capacities.yaml'));
    const none = loadCapacities(policies);
    expect(none.capacities.size).toBe(0);
    expect(none.allows('cash-benefit', 'BIF', ['caseworker-system'])).toBe(false);
  });
});
