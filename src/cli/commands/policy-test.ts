import type { Command } from 'commander';
import { describeOutcome, loadPolicyCases, runPolicyCases, type PolicyCaseResult, type PolicyCoverage } from '../../policy/testing.js';
import { loadContractsAndPolicies, processIO, reportLoadErrors, rulePaths, withDirOptions, type CliIO, type DirOptions } from './shared.js';

export interface PolicyTestOptions extends DirOptions {
  readonly json?: boolean;
}

/** The coverage as figures: how many policies and permitted fields the cases exercise. */
export function coverageFigures(policies: readonly { id: string; fields: readonly string[] }[], coverage: PolicyCoverage) {
  const untested = new Set([...coverage.policiesWithoutCases, ...coverage.policiesWithoutPermitCase, ...coverage.policiesWithoutDenyCase]);
  const fields = policies.reduce((n, p) => n + p.fields.length, 0);
  const exercised = fields - coverage.fieldsNotExercised.length;
  return {
    policies: policies.length,
    policiesCovered: policies.length - untested.size,
    fields,
    fieldsExercised: exercised,
    percent: fields === 0 ? 100 : Math.floor((1000 * exercised) / fields) / 10,
  };
}

/**
 * `snitflade policy test`: runs every policies/<id>.test.yaml case through the real evaluator and
 * measures coverage: each policy needs a permit case and a deny case, and each field it permits
 * must be released by some permit case. Exit code 1 if a case fails or coverage is incomplete.
 */
export async function runPolicyTest(o: PolicyTestOptions, io: CliIO = processIO): Promise<number> {
  const paths = rulePaths(o);
  let loaded;
  let cases;
  try {
    loaded = loadContractsAndPolicies(paths);
    cases = loadPolicyCases(paths.policies);
  } catch (err) {
    return reportLoadErrors(io, err);
  }
  const { results, coverage } = await runPolicyCases(loaded.policies, loaded.contracts, cases);
  const failed = results.filter((r) => !r.ok);
  const figures = coverageFigures(loaded.policies.policies, coverage);
  if (o.json) {
    io.stdout.write(
      `${JSON.stringify({ ok: failed.length === 0 && coverage.complete, cases: results.length, failed: failed.map(plain), coverage, figures }, null, 2)}\n`,
    );
    return failed.length === 0 && coverage.complete ? 0 : 1;
  }
  for (const r of results) io.stdout.write(`${r.ok ? '✔' : '✘'} ${r.policy}: ${r.name}\n`);
  for (const r of failed) {
    io.stderr.write(
      `\n✘ ${r.file}:${r.line ?? '?'} "${r.name}"\n  expected ${describeOutcome(r.expected)}\n  actual   ${describeOutcome(r.actual)}\n  why:\n${r.trace.map((t) => `    ${t}`).join('\n')}\n`,
    );
  }
  io.stdout.write(`\n${results.length} case(s): ${results.length - failed.length} passed, ${failed.length} failed\n`);
  io.stdout.write(
    `coverage: ${figures.policiesCovered}/${figures.policies} policies have a permit and a deny case; ${figures.fieldsExercised}/${figures.fields} permitted fields are released by a case (${figures.percent}%)\n`,
  );
  const gaps: string[] = [
    ...coverage.policiesWithoutCases.map((p) => `policy ${p} has no test file: add policies/${p}.test.yaml`),
    ...coverage.policiesWithoutPermitCase
      .filter((p) => !coverage.policiesWithoutCases.includes(p))
      .map((p) => `policy ${p} has no permit case`),
    ...coverage.policiesWithoutDenyCase
      .filter((p) => !coverage.policiesWithoutCases.includes(p))
      .map((p) => `policy ${p} has no deny case`),
    ...coverage.fieldsNotExercised.map((f) => `field ${f.field} of policy ${f.policy} is released by no case`),
    ...coverage.unknownPolicies.map((p) => `cases about policy ${p}, which does not exist`),
  ];
  for (const g of gaps) io.stderr.write(`! ${g}\n`);
  return failed.length === 0 && coverage.complete ? 0 : 1;
}

function plain(r: PolicyCaseResult) {
  return { file: r.file, line: r.line ?? null, policy: r.policy, name: r.name, expected: r.expected, actual: r.actual, trace: r.trace };
}

/** `test` under `snitflade policy`. */
export function registerPolicyTest(policy: Command, io: CliIO = processIO): void {
  withDirOptions(policy.command('test').description('run the policy test cases with a coverage figure'))
    .option('--json', 'print the results as JSON')
    .action(async (o: PolicyTestOptions) => {
      process.exitCode = await runPolicyTest(o, io);
    });
}
