import { LoadError } from '../../lib/load-error.js';
import type { Policy } from '../types.js';
import type { ApprovalSettings } from './approvers.js';
import type { PolicyApprovalReport } from './check.js';

/**
 * Withdrawing an approval (docs/POLICY-APPROVALS.md, "Withdrawing an approval"): the
 * configuration's `policies.revoked` lists policy versions, by policy id and version or by
 * content digest, whose approvals no longer count. A signature cannot be taken back from a file
 * that someone has a copy of; the list is in the operators' hands, as the approvers are, so a
 * revoked version does not come into force with its approvals, whoever restores its files.
 */

/** The entry of `policies.revoked` that revokes this policy as it is, with its place in the list. */
export function revocationOf(settings: ApprovalSettings, policy: Policy): { index: number; by: string } | undefined {
  const index = settings.revoked.findIndex((r) =>
    'digest' in r ? r.digest === policy.contentDigest : r.policy === policy.id && r.version === policy.version,
  );
  if (index < 0) return undefined;
  const entry = settings.revoked[index]!;
  return { index, by: 'digest' in entry ? `content ${entry.digest.slice(0, 12)}` : `version ${entry.version}` };
}

/**
 * The report of a revoked policy: none of its approvals counts (each valid one becomes invalid,
 * "revoked"), it is not complete, and one problem says so. Any other report is returned as it is.
 */
export function withRevocations(
  report: PolicyApprovalReport,
  policy: Policy,
  settings: ApprovalSettings,
  problems: LoadError[],
): PolicyApprovalReport {
  const revoked = revocationOf(settings, policy);
  if (revoked === undefined) return report;
  const why = `revoked by the configuration (policies.revoked/${revoked.index}: ${revoked.by})`;
  problems.push(
    new LoadError(
      policy.file,
      '',
      `policy "${policy.id}" (${policy.file}) version ${policy.version} is ${why}: its approvals no longer count; give the policy a new version and have it signed, or take it out of force`,
    ),
  );
  const results = report.results.map((r) => (r.status === 'valid' ? { ...r, status: 'invalid' as const, problem: why } : r));
  const { approvals: _dropped, ...rest } = report;
  return { ...rest, results, complete: false };
}
