import type { Command } from 'commander';
import type { GatewayConfig } from '../../config/config.js';
import { checkRules } from '../../rules/check.js';
import { cliConfig, processIO, rulePaths, withDirOptions, type CliIO, type DirOptions } from './shared.js';

export interface CheckCommandOptions extends DirOptions {
  readonly json?: boolean;
  /** Also run the policy test cases. */
  readonly cases?: boolean;
}

/**
 * `snitflade check`: every contract, policy, purpose, policy-test and client file, the references
 * between them, and the policies' approvals as the configuration requires them (policies.*).
 * Prints every problem as "file:line at /path: what is wrong and what to do"; exit code 1 if there
 * is any error (warnings do not fail the check). As with the signing keys, approvals that cannot
 * be checked here (no approver configured, no certificate folder) are a warning, where start-up
 * would refuse.
 */
export async function runCheck(o: CheckCommandOptions, io: CliIO = processIO, config: GatewayConfig = cliConfig()): Promise<number> {
  const paths = rulePaths(o, config);
  const report = await checkRules({ ...paths, approvals: config.policies }, { runCases: o.cases === true });
  if (o.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          ok: report.errors.length === 0,
          counts: report.counts,
          errors: report.errors.map((e) => ({ file: e.file, line: e.line ?? null, path: e.path, problem: e.problem })),
          warnings: report.warnings.map((e) => ({ file: e.file, line: e.line ?? null, path: e.path, problem: e.problem })),
          policySet: report.policies?.digest ?? null,
        },
        null,
        2,
      )}\n`,
    );
    return report.errors.length === 0 ? 0 : 1;
  }
  for (const e of report.errors) io.stderr.write(`✘ ${e.message}\n`);
  for (const w of report.warnings) io.stderr.write(`! warning: ${w.message}\n`);
  const c = report.counts;
  const what = `${c.contracts} contracts, ${c.policies} policies, ${c.purposes} purposes, ${c.cases} policy test cases, ${c.clients} clients`;
  if (report.errors.length > 0) {
    io.stderr.write(
      `check failed: ${report.errors.length} error(s)${report.warnings.length > 0 ? `, ${report.warnings.length} warning(s)` : ''}. Fix each file at the line shown and run the check again.\n`,
    );
    return 1;
  }
  io.stdout.write(
    `check passed: ${what}${report.warnings.length > 0 ? ` (${report.warnings.length} warning(s))` : ''}; policy set ${report.policies!.digest.slice(0, 12)}\n`,
  );
  return 0;
}

export function registerCheck(program: Command, io: CliIO = processIO): void {
  withDirOptions(
    program
      .command('check')
      .description('validate every contract, policy, purpose, policy test and client file and the references between them'),
  )
    .option('--cases', 'also run the policy test cases (as start-up and a reload do)')
    .option('--json', 'print the report as JSON')
    .action(async (o: CheckCommandOptions) => {
      process.exitCode = await runCheck(o, io);
    });
}
