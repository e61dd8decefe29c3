import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../audit/types.js';
import { isGatewayError } from '../errors.js';
import { auditEntry } from '../audit/entry.js';
import { ADMIN_AUDIT } from '../audit/reasons.js';
import { writeAudit } from '../audit/write.js';
import type { Gateway } from '../gateway.js';
import { LoadError, loadErrorsIn } from '../lib/load-error.js';
import { newAuditId } from '../audit/id.js';
import { loadRules } from './load.js';
import { checkRollback } from './rollback.js';
import type { Rules } from './types.js';

/**
 * Reloading the rules (contracts, policies, purposes, clients) while the gateway runs: on SIGHUP
 * and on POST /v1/admin/reload. The new set is built as at start-up (loadRules: the loaders'
 * checks, the client registry's references and the policy test cases; frozen), then swapped in
 * whole; requests in flight keep the set they started with. A broken set is refused and the
 * rules in force stay. Either way the attempt is in the audit trail (kind "admin"): reason
 * RULES_RELOADED with the new policy set's digest, or RULES_INVALID with the digest still in
 * force. A successful reload is audited before the switch: if the trail cannot write, nothing
 * changes.
 */

/** What a reload works with: the gateway's rules, trail and log, and its switch. */
export type ReloadTarget = Pick<Gateway, 'config' | 'logger' | 'metrics' | 'trail' | 'rules' | 'reload' | 'store'>;

/** Who or what asked for the reload. */
export interface ReloadTrigger {
  readonly via: 'SIGHUP' | 'api';
  readonly requestId?: string;
  readonly caller?: { readonly system: string; readonly administration: string };
  readonly caseworker?: string;
  readonly tokenDigest?: string;
}

export type ReloadOutcome =
  | {
      readonly ok: true;
      readonly auditId: string;
      readonly policySet: string;
      readonly previousPolicySet: string;
      readonly contracts: number;
      readonly policies: number;
      readonly warnings: readonly LoadError[];
    }
  | {
      readonly ok: false;
      readonly auditId: string;
      /** The policy set still in force. */
      readonly policySet: string;
      readonly errors: readonly LoadError[];
    };

/** One reload at a time per gateway: a second waits for the first. */
const queues = new WeakMap<ReloadTarget, Promise<unknown>>();

/**
 * Loads, validates, audits and switches. Resolves with the outcome (a refused set is an
 * outcome, not an exception); rejects only if the audit trail cannot write (GatewayError
 * AUDIT_UNAVAILABLE) or on a programming mistake.
 *
 * @example
 *   const outcome = await reloadRules(gateway, { via: 'SIGHUP' });
 *   if (!outcome.ok) for (const e of outcome.errors) console.error(e.message);
 */
export function reloadRules(gateway: ReloadTarget, trigger: ReloadTrigger): Promise<ReloadOutcome> {
  const previous = queues.get(gateway) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => reloadNow(gateway, trigger));
  queues.set(gateway, run);
  return run;
}

async function reloadNow(gateway: ReloadTarget, trigger: ReloadTrigger): Promise<ReloadOutcome> {
  const started = performance.now();
  const inForce = gateway.rules().policies.digest;
  const { config, logger } = gateway;
  const auditId = newAuditId();
  const record = (reason: typeof ADMIN_AUDIT.rulesReloaded | typeof ADMIN_AUDIT.rulesInvalid, policySet: string): AuditEntry =>
    auditEntry('admin', {
      auditId,
      requestId: trigger.requestId ?? randomUUID(),
      caller: trigger.caller ?? null,
      caseworker: trigger.caseworker ?? null,
      tokenDigest: trigger.tokenDigest ?? null,
      policySet,
      reasons: [reason],
      status: trigger.via === 'api' ? (reason === ADMIN_AUDIT.rulesReloaded ? 200 : 422) : null,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
  const refuse = async (errors: readonly LoadError[]): Promise<ReloadOutcome> => {
    logger.error('reload refused; the previous rules stay in force', {
      via: trigger.via,
      requestId: trigger.requestId,
      problems: errors.length,
    });
    for (const e of errors) logger.error('reload problem', { via: trigger.via, requestId: trigger.requestId, problem: e.message });
    await writeAudit(gateway.trail, record(ADMIN_AUDIT.rulesInvalid, inForce), gateway.metrics);
    return { ok: false, auditId, policySet: inForce, errors };
  };

  const warnings: LoadError[] = [];
  let candidate: Rules;
  try {
    candidate = await loadRules(config, { warn: (w) => warnings.push(w) });
  } catch (err) {
    const errors = loadErrorsIn(err);
    if (!errors) throw err;
    return refuse(errors);
  }
  const policies = candidate.policies;
  // An older policy than one put in force (a rollback) is refused before anything is audited as
  // reloaded; gateway.reload checks again as it records, against another instance's reload in between.
  const rollback = await checkRollback(gateway.store.policyHistory, policies, {
    instance: config.instanceId,
    enforced: config.policies.requireApprovals,
  });
  if (rollback.errors.length > 0) return refuse(rollback.errors);

  try {
    await writeAudit(gateway.trail, record(ADMIN_AUDIT.rulesReloaded, policies.digest), gateway.metrics);
  } catch (err) {
    logger.error('reload not done: the audit trail cannot write', {
      via: trigger.via,
      requestId: trigger.requestId,
      code: isGatewayError(err) ? err.code : 'INTERNAL',
    });
    throw err;
  }
  try {
    await gateway.reload(candidate);
  } catch (err) {
    // e.g. the revocation list that is reloaded with the rules is broken
    const errors = loadErrorsIn(err) ?? [new LoadError('(reload)', '', (err as Error).message)];
    return refuse(errors);
  }
  for (const w of warnings) logger.warn('rules warning', { problem: w.message });
  return {
    ok: true,
    auditId,
    policySet: policies.digest,
    previousPolicySet: inForce,
    contracts: candidate.contracts.list().length,
    policies: policies.policies.length,
    warnings,
  };
}
