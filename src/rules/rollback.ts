import { LoadError, LoadErrors } from '../lib/load-error.js';
import type { Policy, PolicySet } from '../policy/types.js';
import { rollbacksOf, type PolicyHistoryStore, type PolicyRollback, type PolicyVersion } from '../store/policy-history.js';

/**
 * Versions only go forward (docs/POLICY-APPROVALS.md). An approval says "this content of this
 * policy may be used"; it cannot say "and no longer once a newer version is approved", so the
 * gateway remembers, in the store shared by its instances (src/store/policy-history.ts), the
 * highest version of each policy it put in force with its content digest, and the policies taken
 * out of force. With approvals required, a set is refused at start-up and on reload when one of
 * its policies
 * - has a lower version than the highest put in force (an older file and its once-valid
 *   approvals, restored from version control: a rollback),
 * - has that same version with another content, or
 * - was taken out of force (absent from a set an instance put in force in place of one that had
 *   it) and comes back without a higher version.
 * Without approvals required (the demo) those are warnings, and the set is still recorded.
 *
 * Several instances on one PostgreSQL store: each checks against what all of them put in force,
 * so an instance still running an older set is refused the older set on its next reload or
 * restart (it must be upgraded too), and never refuses a newer one: a policy is taken out of
 * force only by the instance whose own previous set had it, so an instance that never had a
 * policy added elsewhere does not take it out.
 */

export interface RollbackOptions {
  /** config.instanceId: whose set this is. */
  readonly instance: string;
  /** policies.requireApprovals: a rollback refuses the set; otherwise it is a warning. */
  readonly enforced: boolean;
  /** When the set is put in force; default now. */
  readonly at?: Date;
}

/**
 * The problems of putting `set` in force, against the history as it is now (a reload checks
 * before it writes its audit record): errors with approvals required, else warnings. Writes nothing.
 *
 * @example
 *   const { errors } = await checkRollback(gateway.store.policyHistory, candidate.policies, { instance, enforced: true });
 */
export async function checkRollback(
  history: PolicyHistoryStore,
  set: PolicySet,
  options: RollbackOptions,
): Promise<{ errors: LoadError[]; warnings: LoadError[] }> {
  const versions = versionsOf(set);
  const problems = messages(rollbacksOf(versions, await history.get(versions.map((p) => p.id))), set, options);
  return options.enforced ? { errors: problems, warnings: [] } : { errors: [], warnings: problems };
}

/**
 * Puts `set` in force in the history: checks and records in one transaction of the store. With
 * approvals required and a rollback found, records nothing and throws LoadErrors naming each
 * policy file and why; otherwise resolves with the warnings (the demo's rollbacks).
 *
 * @example
 *   for (const w of await putInForce(store.policyHistory, rules.policies, { instance: config.instanceId, enforced })) warn(w);
 */
export async function putInForce(history: PolicyHistoryStore, set: PolicySet, options: RollbackOptions): Promise<LoadError[]> {
  const at = (options.at ?? new Date()).toISOString();
  const found = await history.putInForce(
    { instance: options.instance, at, setDigest: set.digest, policies: versionsOf(set) },
    options.enforced,
  );
  const problems = messages(found, set, options);
  if (options.enforced && problems.length > 0) throw new LoadErrors(problems);
  return problems;
}

function versionsOf(set: PolicySet): PolicyVersion[] {
  return set.policies.map((p) => {
    if (p.contentDigest === undefined) throw new TypeError(`putInForce: policy "${p.id}" was not loaded from a file (no content digest)`);
    return { id: p.id, version: p.version, digest: p.contentDigest };
  });
}

function messages(rollbacks: readonly PolicyRollback[], set: PolicySet, options: RollbackOptions): LoadError[] {
  const byId = new Map<string, Policy>(set.policies.map((p) => [p.id, p]));
  const tail = options.enforced ? '' : ' (not refused: policies.requireApprovals is false)';
  return rollbacks.map((r) => {
    const policy = byId.get(r.policy.id)!;
    return new LoadError(policy.file, '/version', `${explain(r, options.instance)}${tail}`);
  });
}

function explain(r: PolicyRollback, self: string): string {
  const { policy, inForce } = r;
  const name = `policy "${policy.id}"`;
  const by = (instance: string): string => (instance === self ? '' : ` by gateway instance ${instance}`);
  const next = inForce.version + 1;
  const sign = `give the policy version ${next} or higher and have it signed`;
  const fix = `a policy's version never goes back: ${sign}`;
  switch (r.kind) {
    case 'older':
      return `${name} version ${policy.version} is older than version ${inForce.version} already put in force on ${inForce.since}${by(inForce.instance)}; restoring an older policy with its old approvals is refused (${fix}, or restore version ${inForce.version})`;
    case 'changed':
      return `${name} version ${policy.version} (content ${policy.digest.slice(0, 12)}) differs from the version ${inForce.version} put in force on ${inForce.since}${by(inForce.instance)} (content ${inForce.digest.slice(0, 12)}); one version cannot mean two texts (${fix})`;
    case 'returned':
      return `${name} version ${policy.version} was taken out of force on ${inForce.takenOut!.at}${by(inForce.takenOut!.instance)} and comes back without a new version; its old approvals do not bring it back (to put it in force again, ${sign})`;
  }
}
