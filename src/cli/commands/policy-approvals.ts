import type { Command } from 'commander';
import type { GatewayConfig } from '../../config/config.js';
import { displayPath } from '../../contracts/registry.js';
import {
  checkApprovals,
  type ApproverResult,
  type PolicyApprovalReport,
  type RegistryApprovalReport,
} from '../../policy/approvals/check.js';
import { readSignedRegistries } from '../../policy/approvals/registries.js';
import type { Policy } from '../../policy/types.js';
import {
  cliConfig,
  loadContractsAndPolicies,
  processIO,
  reportLoadErrors,
  rulePaths,
  withDirOptions,
  type CliIO,
  type DirOptions,
} from './shared.js';

export interface PolicyApprovalsOptions extends DirOptions {
  /** Only this policy. */
  readonly policy?: string;
  readonly json?: boolean;
}

const MARK: Readonly<Record<ApproverResult['status'], string>> = {
  valid: '✔',
  missing: '✘',
  stale: '✘',
  invalid: '✘',
  'unknown-approver': '✘',
};

/** One approver's line: mark, approver, title, and when it was signed or what is wrong. */
function resultLine(r: ApproverResult): string {
  const who = `${r.approver}${r.title !== undefined ? ` (${r.title})` : ''}${r.required ? '' : ', not required'}`;
  const what =
    r.status === 'valid'
      ? `signed ${r.signedAt}`
      : r.status === 'missing'
        ? 'missing'
        : `${r.status === 'unknown-approver' ? 'unknown approver' : r.status}: ${r.problem ?? ''}`;
  return `  ${MARK[r.status]} ${who}: ${what}`;
}

/** A policy's approvals as lines for a person: the policy, its content digest, then each approver. */
export function approvalReportText(r: PolicyApprovalReport, policy: Pick<Policy, 'contentDigest'>): string {
  const head = `${r.complete ? '✔' : '✘'} ${r.policy} version ${r.version}: ${r.complete ? 'approved' : 'not approved'} (content ${policy.contentDigest ?? '?'}; ${r.file})`;
  const none = r.results.length === 0 ? ['  (no approver is required of it)'] : [];
  return [head, ...r.results.map(resultLine), ...none].join('\n') + '\n';
}

/** A signed registry's approvals as lines for a person: the registry, its content digest, then each approver. */
export function registryReportText(r: RegistryApprovalReport): string {
  const head = `${r.complete ? '✔' : '✘'} registry ${r.registry}.yaml: ${r.complete ? 'approved' : 'not approved'} (content ${r.contentDigest}; ${r.file})`;
  return [head, ...r.results.map(resultLine)].join('\n') + '\n';
}

/**
 * `snitflade policy approvals`: each policy's approvals as the gateway checks them at start-up:
 * every approver it requires with the date signed, or missing, stale (changed after signing) or
 * invalid, and any other approval in its file. Exit code 0 when every policy listed carries every
 * approval it requires and nothing else is wrong; 1 otherwise, and when no approver is configured.
 */
export async function runPolicyApprovals(
  o: PolicyApprovalsOptions,
  io: CliIO = processIO,
  config: GatewayConfig = cliConfig(),
): Promise<number> {
  const paths = rulePaths(o, config);
  let loaded;
  try {
    loaded = loadContractsAndPolicies(paths);
  } catch (err) {
    return reportLoadErrors(io, err);
  }
  const all = loaded.policies.policies;
  const policies = o.policy === undefined ? all : all.filter((p) => p.id === o.policy);
  if (policies.length === 0) {
    io.stderr.write(
      `✘ there is no policy "${o.policy}" in ${displayPath(paths.policies)}; the policies are: ${all.map((p) => p.id).join(', ')}\n`,
    );
    return 1;
  }
  // Without --policy, the registries the policies depend on too (clients.yaml, capacities.yaml, administrations.yaml).
  const report = await checkApprovals(policies, {
    dir: paths.policies,
    settings: config.policies,
    certs: paths.certs,
    strict: true,
    registries: o.policy === undefined ? readSignedRegistries(paths.policies, paths.clients) : [],
  });
  if (!report.checked) {
    for (const e of [...report.errors, ...report.warnings]) io.stderr.write(`✘ ${e.message}\n`);
    if (config.policies.approvers.length === 0)
      io.stderr.write(
        'no approver is configured (policies.approvers), so no policy can be approved; docs/POLICY-APPROVALS.md says how to configure them\n',
      );
    return 1;
  }
  const reports = policies.map((p) => report.policies.get(p.id)!);
  const registries = [...report.registries.values()];
  const approved = reports.filter((r) => r.complete).length;
  const ok = approved === reports.length && registries.every((r) => r.complete);
  if (o.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          ok,
          enforced: report.enforced,
          policies: reports.map((r, i) => ({
            policy: r.policy,
            version: r.version,
            contentDigest: policies[i]!.contentDigest,
            components: policies[i]!.components,
            file: r.file,
            approvalsFile: r.approvalsFile,
            complete: r.complete,
            approvals: r.results,
            approvalsDigest: r.approvals?.digest ?? null,
          })),
          registries: registries.map((r) => ({
            registry: r.registry,
            contentDigest: r.contentDigest,
            file: r.file,
            approvalsFile: r.approvalsFile,
            complete: r.complete,
            approvals: r.results,
          })),
        },
        null,
        2,
      )}\n`,
    );
    return ok ? 0 : 1;
  }
  reports.forEach((r, i) => io.stdout.write(approvalReportText(r, policies[i]!)));
  for (const r of registries) io.stdout.write(registryReportText(r));
  io.stdout.write(
    `\n${approved} of ${reports.length} ${reports.length === 1 ? 'policy carries' : 'policies carry'} every approval ${reports.length === 1 ? 'it requires' : 'they require'}` +
      (registries.length > 0
        ? `; ${registries.filter((r) => r.complete).length} of ${registries.length} registries (${registries.map((r) => `${r.registry}.yaml`).join(', ')}) do`
        : '') +
      `${report.enforced ? '' : ' (not enforced: policies.requireApprovals is false)'}\n`,
  );
  return ok ? 0 : 1;
}

/** `approvals` under `snitflade policy`. */
export function registerPolicyApprovals(policy: Command, io: CliIO = processIO): void {
  withDirOptions(
    policy
      .command('approvals')
      .description("each policy's (and each registry's) approvals: who signed it and when, and which are missing, stale or invalid"),
  )
    .option('--policy <id>', 'only this policy')
    .option('--json', 'print the report as JSON')
    .action(async (o: PolicyApprovalsOptions) => {
      process.exitCode = await runPolicyApprovals(o, io);
    });
}
