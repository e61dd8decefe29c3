import path from 'node:path';
import { loadContracts } from '../src/contracts/registry.js';
import { loadPolicySet } from '../src/policy/loader.js';
import { loadPolicyCases, runPolicyCase, runPolicyCases } from '../src/policy/testing.js';

/** Every policies/<id>.test.yaml, one test per case: the lawyers' intent, checked. */
const ROOT = process.cwd();
const POLICIES = path.join(ROOT, 'policies');
const contracts = loadContracts(path.join(ROOT, 'schemas'));
const set = loadPolicySet({ dir: POLICIES, contracts });
const cases = loadPolicyCases(POLICIES);
const files = [...new Set(cases.map((c) => c.file))];

describe.each(files)('%s', (file) => {
  it.each(cases.filter((c) => c.file === file).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const result = await runPolicyCase(set, contracts, c);
    if (!result.ok) {
      throw new Error(
        `${c.file}:${c.line ?? '?'} "${c.name}"\n  expected ${JSON.stringify(result.expected)}\n  actual   ${JSON.stringify(result.actual)}\n  trace:\n    ${result.trace.join('\n    ')}`,
      );
    }
  });
});

describe('policy case coverage', () => {
  it('has case files for the policies in the repository', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(cases.length).toBeGreaterThanOrEqual(2 * set.policies.length);
  });

  it('exercises every policy with a permit and a deny case, and every permitted field', async () => {
    const { results, coverage } = await runPolicyCases(set, contracts, cases);
    expect(results.filter((r) => !r.ok).map((r) => r.name)).toEqual([]);
    expect(coverage).toEqual({
      complete: true,
      policiesWithoutCases: [],
      policiesWithoutPermitCase: [],
      policiesWithoutDenyCase: [],
      fieldsNotExercised: [],
      unknownPolicies: [],
    });
  });
});
