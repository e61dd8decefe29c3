import { displayPath } from '../../contracts/registry.js';
import { LoadError } from '../../lib/load-error.js';
import type { Policy, PolicyApprovals } from '../types.js';
import { certificateFolderExists, readApprovers, type ApprovalSettings, type Approvers } from './approvers.js';
import { approvalsDigest } from './digest.js';
import { approvalsFilesIn, approvalsPath, readApprovals, type ApprovalEntry, type ApprovalsOf } from './file.js';
import { isSignedRegistry, type SignedRegistry } from './registries.js';
import { withRevocations } from './revoked.js';
import { signedPolicy } from './sign.js';
import { verifyApproval, verifyRegistryApproval, type ApprovalVerdict } from './verify.js';

/**
 * The approvals of a whole policy set, as the rule set's load path (src/rules/check.ts), `snitflade
 * policy approvals` and `snitflade records` see them: for every policy, each approver it requires
 * (policies.required, and policies.requiredPerPolicy for it) with the state of their approval, and
 * every other approval in its file. With `policies.requireApprovals` a policy without every
 * required approval valid, or with anything wrong in its approvals file, is an error; without it,
 * a warning (the demo). See docs/POLICY-APPROVALS.md.
 */

export type ApprovalStatus = 'valid' | 'missing' | 'stale' | 'invalid' | 'unknown-approver';

/** One approver's approval of one policy, or its absence. */
export interface ApproverResult {
  /** The approver (for an approval that names none readably, the approver its entry names). */
  readonly approver: string;
  /** The approver's title, when configured. */
  readonly title?: string;
  /** The policy requires this approver. */
  readonly required: boolean;
  readonly status: ApprovalStatus;
  /** When it was signed (its `iat`), for a valid or stale approval. */
  readonly signedAt?: string;
  /** What is wrong, in words, unless valid. */
  readonly problem?: string;
}

export interface PolicyApprovalReport {
  readonly policy: string;
  readonly version: number;
  /** The policy file and its approvals file, as messages name them. */
  readonly file: string;
  readonly approvalsFile: string;
  readonly required: readonly string[];
  /** The required approvers in configured order, then any other approval in the file. */
  readonly results: readonly ApproverResult[];
  /** Every required approver approved the policy as it is, and nothing in its approvals file is wrong. */
  readonly complete: boolean;
  /** The valid approvals and their digest, when there is one. */
  readonly approvals?: PolicyApprovals;
}

/** A signed registry's approvals (registries.ts). */
export interface RegistryApprovalReport {
  readonly registry: string;
  /** The registry file and its approvals file, as messages name them. */
  readonly file: string;
  readonly contentDigest: string;
  readonly approvalsFile: string;
  readonly required: readonly string[];
  readonly results: readonly ApproverResult[];
  /** Every required approver approved the registry as it is, and nothing in its approvals file is wrong. */
  readonly complete: boolean;
}

export interface ApprovalsReport {
  /** Approvers are configured and their keys could be read: the approvals were checked. */
  readonly checked: boolean;
  /** `policies.requireApprovals`: problems are errors. */
  readonly enforced: boolean;
  /** By policy id; empty when not checked. */
  readonly policies: ReadonlyMap<string, PolicyApprovalReport>;
  /** By registry name; empty when not checked. */
  readonly registries: ReadonlyMap<string, RegistryApprovalReport>;
  readonly errors: readonly LoadError[];
  readonly warnings: readonly LoadError[];
}

export interface CheckApprovalsOptions {
  /** The policies folder, where the approvals files are. */
  readonly dir: string;
  readonly settings: ApprovalSettings;
  /** The certificate folder the approvers' key files are relative to. */
  readonly certs: string;
  /**
   * Start-up and reload: no approver configured while approvals are required is an error, and the
   * approvers' key files must be there. Otherwise (`snitflade check` on a fresh clone) those are
   * warnings that the approvals were not checked.
   */
  readonly strict: boolean;
  /** The signed registries as loaded (registries.ts), approved like a policy. */
  readonly registries?: readonly SignedRegistry[];
}

const SETTING = 'configuration';
const HOW_TO_SIGN = (kind: ApprovalsOf, id: string, approver: string): string =>
  `npx snitflade policy sign --${kind} ${id} --approver ${approver} --key <the approver's private key>`;

/** The approvers policy `id` requires, in configured order, each once. */
export function requiredApprovers(settings: ApprovalSettings, id: string): string[] {
  const own = Object.hasOwn(settings.requiredPerPolicy, id) ? (settings.requiredPerPolicy[id] ?? []) : [];
  return [...new Set([...settings.required, ...own])];
}

/**
 * Checks the approvals of `policies` (as loaded by loadPolicySet, with their content digests).
 * Never throws for a problem in the files or the keys: those are the report's errors and warnings.
 *
 * @example
 *   const report = await checkApprovals(set.policies, { dir: 'policies', settings: config.policies, certs: 'certs', strict: true });
 *   const inForce = withApprovals(set, approvalsInForce(report));
 */
export async function checkApprovals(policies: readonly Policy[], options: CheckApprovalsOptions): Promise<ApprovalsReport> {
  const { settings, strict } = options;
  const enforced = settings.requireApprovals;
  const errors: LoadError[] = [];
  const warnings: LoadError[] = [];
  // Not checked at all: an error only where the gateway would start with approvals required.
  const notChecked = (why: LoadError[]): ApprovalsReport => ({
    checked: false,
    enforced,
    policies: new Map(),
    registries: new Map(),
    errors: enforced && strict ? why : [],
    warnings: enforced && strict ? [] : why,
  });

  if (settings.approvers.length === 0) {
    if (!enforced)
      return notChecked([
        new LoadError(
          SETTING,
          '/policies/requireApprovals',
          'the policies are in force without approvals: policies.requireApprovals is false and no approver is configured (policies.approvers); never run so outside development (docs/POLICY-APPROVALS.md)',
        ),
      ]);
    return notChecked([
      strict
        ? new LoadError(
            SETTING,
            '/policies',
            'policies.requireApprovals is true but no approver is configured: configure policies.approvers and policies.required and have every policy signed (docs/POLICY-APPROVALS.md); ' +
              'to run unapproved policies in development only, set policies.requireApprovals false (SNITFLADE_REQUIRE_APPROVALS=false)',
          )
        : new LoadError(
            SETTING,
            '/policies',
            "the policies' approvals were not checked: no approver is configured (policies.approvers); a gateway refuses to start with these policies until approvers are configured and every policy is signed, unless policies.requireApprovals is false",
          ),
    ]);
  }

  if (!strict && !certificateFolderExists(options.certs)) {
    return {
      checked: false,
      enforced,
      policies: new Map(),
      registries: new Map(),
      errors: [],
      warnings: [
        new LoadError(
          SETTING,
          '/policies/approvers',
          `the policies' approvals were not checked: the approvers' public keys are read from the certificate folder, and there is none at ${displayPath(options.certs)}`,
        ),
      ],
    };
  }
  const { approvers, errors: keyErrors } = readApprovers(settings, options.certs);
  if (keyErrors.length > 0)
    return { checked: false, enforced, policies: new Map(), registries: new Map(), errors: keyErrors, warnings: [] };

  const problems: LoadError[] = [];
  const reports = new Map<string, PolicyApprovalReport>();
  for (const policy of policies)
    reports.set(
      policy.id,
      withRevocations(await checkPolicy(policy, options.dir, settings, approvers, problems), policy, settings, problems),
    );
  const registries = new Map<string, RegistryApprovalReport>();
  for (const registry of options.registries ?? [])
    registries.set(registry.id, await checkRegistry(registry, options.dir, settings, approvers, problems));
  (enforced ? errors : warnings).push(...problems);

  const ids = new Set(policies.map((p) => p.id));
  for (const orphan of approvalsFilesIn(options.dir).filter((id) => !ids.has(id) && !isSignedRegistry(id))) {
    warnings.push(
      new LoadError(
        displayPath(approvalsPath(options.dir, orphan)),
        '',
        `approvals of policy "${orphan}", which does not exist; delete the file (or restore the policy)`,
      ),
    );
  }
  for (const id of Object.keys(settings.requiredPerPolicy).filter((id) => !ids.has(id) && !isSignedRegistry(id))) {
    warnings.push(
      new LoadError(SETTING, `/policies/requiredPerPolicy/${id}`, `names policy "${id}", which does not exist; remove it, or fix the id`),
    );
  }
  if (!enforced) {
    const lacking = [...reports.values()].filter((r) => !r.complete).length;
    warnings.push(
      new LoadError(
        SETTING,
        '/policies/requireApprovals',
        `policy approvals are not enforced (policies.requireApprovals is false): ${lacking} of ${reports.size} policies are in force without every approval they require; never run so outside development`,
      ),
    );
  }
  return { checked: true, enforced, policies: reports, registries, errors, warnings };
}

/** The valid approvals of each policy that has some: what the rule set attaches to its policies. */
export function approvalsInForce(report: ApprovalsReport): Map<string, PolicyApprovals> {
  const out = new Map<string, PolicyApprovals>();
  for (const [id, r] of report.policies) if (r.approvals !== undefined) out.set(id, r.approvals);
  return out;
}

/** What one approvals file is about, for judge(): a policy or a signed registry. */
interface Subject {
  readonly kind: ApprovalsOf;
  readonly id: string;
  /** Its file, where a missing approval is reported. */
  readonly file: string;
  /** How messages name it, e.g. `policy "x" (policies/x.policy.yaml)`. */
  readonly name: string;
  /** How the message of a missing approval names it (with the version, for a policy). */
  readonly lacking: string;
  verify(jws: string, approvers: Approvers): Promise<ApprovalVerdict>;
}

/**
 * The approvals file of `subject` against the approvers it requires: each entry's verdict, each
 * required approver's result, and every problem (pushed onto `problems`).
 */
async function judge(
  subject: Subject,
  dir: string,
  settings: ApprovalSettings,
  approvers: Approvers,
  problems: LoadError[],
): Promise<{
  approvalsFile: string;
  required: string[];
  results: ApproverResult[];
  verdicts: Map<string, { entry: ApprovalEntry; verdict: ApprovalVerdict }>;
  complete: boolean;
}> {
  const { name } = subject;
  const required = requiredApprovers(settings, subject.id);
  const file = readApprovals(dir, subject.id, subject.kind);
  const approvalsFile = Array.isArray(file) ? (file[0]?.file ?? '') : file.file;
  const verdicts = new Map<string, { entry: ApprovalEntry; verdict: ApprovalVerdict }>();
  if (Array.isArray(file)) {
    problems.push(...file);
    const results = required.map((id) => ({
      approver: id,
      title: approvers.get(id)?.title,
      required: true,
      status: 'invalid' as const,
      problem: 'its approvals file cannot be read',
    }));
    return { approvalsFile, required, results: results.map(tidy), verdicts, complete: false };
  }
  if (required.length === 0)
    problems.push(
      new LoadError(
        subject.file,
        '',
        `no approval is required of ${name}: policies.required is empty and policies.requiredPerPolicy does not name it; every ${subject.kind} in force needs at least one approver`,
      ),
    );

  const results: ApproverResult[] = [];
  for (const entry of file.entries) {
    let verdict = await subject.verify(entry.jws, approvers);
    if (verdict.approver !== undefined && verdict.approver !== entry.approver)
      verdict = {
        status: 'invalid',
        approver: entry.approver,
        problem: `the entry says approver "${entry.approver}", but the signature names "${verdict.approver}"`,
      };
    verdicts.set(entry.approver, { entry, verdict });
    if (verdict.status === 'valid') continue;
    const at = (problem: string): void => void problems.push(new LoadError(file.file, entry.pointer, problem, entry.line));
    if (verdict.status === 'stale')
      at(`${name} ${verdict.problem}; have it signed again: ${HOW_TO_SIGN(subject.kind, subject.id, entry.approver)}`);
    else if (verdict.status === 'unknown-approver')
      at(`an approval of ${name} is ${verdict.problem}; remove it from the file, or configure the approver`);
    else
      at(
        `the approval of ${name} by "${entry.approver}" is refused: ${verdict.problem}; sign it again: ${HOW_TO_SIGN(subject.kind, subject.id, entry.approver)}`,
      );
  }
  for (const id of required) {
    const title = approvers.get(id)?.title;
    const found = verdicts.get(id);
    if (found === undefined) {
      problems.push(
        new LoadError(
          subject.file,
          '',
          `${subject.lacking} lacks the approval of ${id}${title !== undefined ? ` (${title})` : ''}; have it signed: ${HOW_TO_SIGN(subject.kind, subject.id, id)}`,
        ),
      );
      results.push(tidy({ approver: id, title, required: true, status: 'missing' }));
    } else results.push(resultOf(found.verdict, id, title, true));
  }
  for (const [id, { verdict }] of verdicts) {
    if (!required.includes(id)) results.push(resultOf(verdict, id, approvers.get(id)?.title, false));
  }
  const complete = required.length > 0 && results.every((r) => r.status === 'valid');
  return { approvalsFile, required, results, verdicts, complete };
}

async function checkRegistry(
  registry: SignedRegistry,
  dir: string,
  settings: ApprovalSettings,
  approvers: Approvers,
  problems: LoadError[],
): Promise<RegistryApprovalReport> {
  const name = `registry ${registry.id}.yaml (${registry.file})`;
  const { approvalsFile, required, results, complete } = await judge(
    {
      kind: 'registry',
      id: registry.id,
      file: registry.file,
      name,
      lacking: name,
      verify: (jws, approvers) => verifyRegistryApproval(jws, registry, approvers),
    },
    dir,
    settings,
    approvers,
    problems,
  );
  return { registry: registry.id, file: registry.file, contentDigest: registry.contentDigest, approvalsFile, required, results, complete };
}

async function checkPolicy(
  policy: Policy,
  dir: string,
  settings: ApprovalSettings,
  approvers: Approvers,
  problems: LoadError[],
): Promise<PolicyApprovalReport> {
  const signed = signedPolicy(policy);
  const name = `policy "${policy.id}" (${policy.file})`;
  const { approvalsFile, required, results, verdicts, complete } = await judge(
    {
      kind: 'policy',
      id: policy.id,
      file: policy.file,
      name,
      lacking: `${name} version ${policy.version}`,
      verify: (jws, approvers) => verifyApproval(jws, signed, approvers),
    },
    dir,
    settings,
    approvers,
    problems,
  );
  const base = { policy: policy.id, version: policy.version, file: policy.file, approvalsFile, required };

  const valid = [...verdicts.values()]
    .filter(({ verdict }) => verdict.status === 'valid')
    .sort((a, b) => (a.entry.approver < b.entry.approver ? -1 : a.entry.approver > b.entry.approver ? 1 : 0));
  const approvals: PolicyApprovals | undefined =
    valid.length === 0
      ? undefined
      : {
          digest: approvalsDigest(
            signed.contentDigest,
            valid.map(({ entry }) => entry.jws),
          ),
          approvals: valid.map(({ entry, verdict }) => ({
            approver: entry.approver,
            title: approvers.get(entry.approver)?.title ?? entry.approver,
            signedAt: (verdict as Extract<ApprovalVerdict, { status: 'valid' }>).signedAt,
          })),
        };
  return { ...base, results, complete, ...(approvals !== undefined ? { approvals } : {}) };
}

function resultOf(verdict: ApprovalVerdict, approver: string, title: string | undefined, required: boolean): ApproverResult {
  return tidy({
    approver,
    title,
    required,
    status: verdict.status,
    signedAt: verdict.status === 'valid' || verdict.status === 'stale' ? verdict.signedAt : undefined,
    problem: verdict.status === 'valid' ? undefined : verdict.problem,
  });
}

/** A result without its undefined members (it is printed as JSON). */
function tidy(r: { [K in keyof ApproverResult]: ApproverResult[K] | undefined }): ApproverResult {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as ApproverResult;
}
