import { CONSENT_DENIAL, DENY_REASON, type DenyReason } from '../audit/reasons.js';
import type { ContractRegistry } from '../contracts/types.js';
import { copenhagenDate, dayEnd, dayStart } from './dates.js';
import { legalBasisText } from './legal-basis.js';
import type {
  ConsentEvidence,
  ConsentStatus,
  Decision,
  DecisionRequest,
  Policy,
  PolicySet,
  RelationFact,
  RelationRequirement,
  SubjectRequirement,
} from './types.js';

/**
 * Asks whether the citizen's consent covers releasing `fields` under `policy`. Resolves the
 * evidence; a look-up that fails should resolve { status: 'unavailable' }, and one that throws
 * is treated the same way (fail closed).
 */
export type ConsentCheck = (policy: Policy, fields: readonly string[]) => Promise<ConsentEvidence>;

/**
 * The relations register's answer for the citizen: the relations in force on the request's day
 * that `administrations` hold. Asked at most once per decision, and only for a policy with a
 * `relation:` clause. A look-up that fails should throw: the request is then refused, not decided.
 */
export type RelationCheck = (administrations: readonly string[]) => Promise<readonly RelationFact[]>;

/** No relations are known (explain and policy cases without relations, and the default): a relation clause denies. */
export const NO_RELATIONS: RelationCheck = () => Promise.resolve([]);

/** The citizen of a policy test case or of `explain` that states no age: an adult of 40, in scope of every adult policy. */
export const DEFAULT_SUBJECT_AGE = 40;

/** The administration on the other side of `contract` (its provider, or the sender of a notification), for DecisionRequest.provider. */
export function otherSide(contracts: ContractRegistry, contract: string): { provider?: string } {
  const c = contracts.get(contract);
  return c === undefined ? {} : { provider: c.provider.administration };
}

/** A relation taken as in force without asking the register: a policy test case's, or one `explain` is told of. */
export interface AssumedRelation {
  readonly administration: string;
  readonly capacity: string;
  readonly caseworker?: string | null;
}

/**
 * The RelationCheck of relations assumed in force (policy test cases, `explain`, `impact`): each
 * gets a stand-in id (`assumed-relation-<n>`), so a decision's trace and citations read as for
 * real ones.
 */
export function assumedRelations(assumed: readonly AssumedRelation[]): RelationCheck {
  const facts: RelationFact[] = assumed.map((r, i) => ({
    id: `assumed-relation-${i + 1}`,
    version: 1,
    administration: r.administration,
    capacity: r.capacity,
    caseworker: r.caseworker ?? null,
    from: '0001-01-01',
    to: null,
  }));
  return (administrations) => Promise.resolve(facts.filter((r) => administrations.includes(r.administration)));
}

/** The deny reason of each consent status but active (typed here, so a new status without one does not compile). */
const CONSENT_DENIALS: Readonly<Record<Exclude<ConsentStatus, 'active'>, DenyReason>> = CONSENT_DENIAL;

/** What the evaluator precomputes per policy, once: sets for look-ups, validity as instants. */
interface Prepared {
  readonly fields: ReadonlySet<string>;
  /** First instant in force (start of `from` in Copenhagen). */
  readonly from: number;
  /** First instant no longer in force (start of the day after `to`), or +Infinity. */
  readonly to: number;
  /** "policy-id v3", for trace lines. */
  readonly label: string;
}

/** The policies of one (contract, administration, purpose), and the same by role. */
interface PurposeGroup {
  readonly policies: readonly Policy[];
  readonly byRole: ReadonlyMap<string, readonly Policy[]>;
}

const prepared = new WeakMap<Policy, Prepared>();
const groupCache = new WeakMap<readonly Policy[], ReadonlyMap<string, PurposeGroup>>();
const NONE: readonly Policy[] = Object.freeze([]);

function prepare(policy: Policy): Prepared {
  let p = prepared.get(policy);
  if (!p) {
    p = {
      fields: new Set(policy.fields),
      from: dayStart(policy.validity.from),
      to: policy.validity.to === undefined ? Number.POSITIVE_INFINITY : dayEnd(policy.validity.to),
      label: `${policy.id} v${policy.version}`,
    };
    prepared.set(policy, p);
  }
  return p;
}

/**
 * The candidates grouped by purpose and role, built once per candidate list (a PolicySet's
 * lists are frozen and stable), so a request costs a few Map look-ups however many policies
 * there are.
 */
function groups(candidates: readonly Policy[]): ReadonlyMap<string, PurposeGroup> {
  let m = groupCache.get(candidates);
  if (!m) {
    const built = new Map<string, { policies: Policy[]; byRole: Map<string, Policy[]> }>();
    for (const p of candidates) {
      let g = built.get(p.purpose);
      if (!g) built.set(p.purpose, (g = { policies: [], byRole: new Map() }));
      g.policies.push(p);
      for (const role of p.requester.roles) {
        const list = g.byRole.get(role);
        if (list) list.push(p);
        else g.byRole.set(role, [p]);
      }
    }
    m = built;
    groupCache.set(candidates, m);
  }
  return m;
}

/** The group's policies that name at least one of the caller's roles, in id order. */
function forRoles(group: PurposeGroup, roles: readonly string[]): readonly Policy[] {
  if (roles.length === 1) return group.byRole.get(roles[0]!) ?? NONE;
  let out: Policy[] | undefined;
  for (const role of roles) {
    const list = group.byRole.get(role);
    if (!list) continue;
    if (!out) out = [...list];
    else for (const p of list) if (!out.includes(p)) out.push(p);
  }
  if (!out) return NONE;
  return out.length > 1 ? out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) : out;
}

/** "a, b, c and 4 more": at most `max` names, without copying a long list. */
function list(names: Iterable<string>, max = 8): string {
  const shown: string[] = [];
  let more = 0;
  for (const n of names) {
    if (shown.length < max) shown.push(n);
    else more++;
  }
  return shown.length === 0 ? '(none)' : more === 0 ? shown.join(', ') : `${shown.join(', ')} and ${more} more`;
}

function deny(reasons: readonly DenyReason[], trace: string[], policy?: Policy, consent?: ConsentEvidence): Decision {
  const d: { decision: 'deny'; reasons: readonly DenyReason[]; trace: readonly string[]; policy?: Policy; consent?: ConsentEvidence } = {
    decision: 'deny',
    reasons,
    trace,
  };
  if (policy) d.policy = policy;
  if (consent) d.consent = consent;
  return d;
}

/**
 * Step 4, policy: default deny. Finds the policies for (contract, requesting administration)
 * through the set's index, then narrows by purpose, role and validity, intersects the fields,
 * checks whom the policy is about (the citizen's age, `subject:`), then consent where the policy
 * requires it, then need to know (`relation:`). Returns a permit with the releasable fields
 * (policy ∩ requested, in the contract's field order) or a deny with stable reason codes, and a
 * plain-English trace, one line per step and policy considered.
 *
 * Validity dates are inclusive and read as dates in Europe/Copenhagen: a policy valid to
 * 2025-12-31 is in force until midnight Danish time.
 *
 * When several policies remain (a caller holding several roles), the one releasing the most of
 * the requested fields is tried first, then one without consent, then by id; the first that
 * permits wins. The loader guarantees no two policies match the same (administration, role,
 * purpose, day).
 *
 * @example
 *   const decision = await decide(policies, contracts, {
 *     contract: 'employment.citizen-status.v1', administration: 'SOF', roles: ['caseworker-system'],
 *     purpose: 'plan-coordination', requestedFields: ['incomeSupport'], at: new Date(),
 *   }, (policy, fields) => consentSource.check({ ... }));
 */
export async function decide(
  set: PolicySet,
  contracts: ContractRegistry,
  req: DecisionRequest,
  consent: ConsentCheck,
  relations: RelationCheck = NO_RELATIONS,
): Promise<Decision> {
  const trace: string[] = [];
  const all = set.candidates(req.contract, req.administration);
  if (all.length === 0) {
    trace.push(`No policy lets ${req.administration} use ${req.contract}: default deny.`);
    return deny([DENY_REASON.noPolicy], trace);
  }
  const byPurpose = groups(all);
  const group = byPurpose.get(req.purpose);
  if (!group) {
    trace.push(
      `${all.length} ${all.length === 1 ? 'policy lets' : 'policies let'} ${req.administration} use ${req.contract}, but none for purpose "${req.purpose}" (purposes allowed: ${list(byPurpose.keys())}).`,
    );
    return deny([DENY_REASON.purposeNotAllowed], trace);
  }
  const matched = forRoles(group, req.roles);
  if (matched.length === 0) {
    trace.push(
      `${group.policies.length} ${group.policies.length === 1 ? 'policy lets' : 'policies let'} ${req.administration} use ${req.contract} for purpose "${req.purpose}", for role(s) ${list(group.byRole.keys())}; the caller has ${list(req.roles)}.`,
    );
    return deny([DENY_REASON.roleNotAllowed], trace, group.policies[0]);
  }
  trace.push(
    `Policies letting ${req.administration} use ${req.contract} for purpose "${req.purpose}" with the caller's role(s) ${list(req.roles)}: ${list(matched.map((p) => prepare(p).label))}.`,
  );

  // Validity, policy by policy.
  const inForce: Policy[] = [];
  const at = req.at.getTime();
  let day: string | undefined;
  for (const policy of matched) {
    const pp = prepare(policy);
    if (at >= pp.from && at < pp.to) {
      inForce.push(policy);
    } else {
      day ??= Number.isNaN(at) ? 'an invalid date' : copenhagenDate(req.at);
      trace.push(
        `${pp.label}: not in force on ${day} (valid ${policy.validity.from} to ${policy.validity.to ?? 'open end'}, Copenhagen dates).`,
      );
    }
  }
  if (inForce.length === 0) return deny([DENY_REASON.policyNotInForce], trace, matched[0]);

  // Fields: policy ∩ requested, in the contract's order.
  const requested = new Set(req.requestedFields);
  const order = contracts.get(req.contract)?.fieldNames;
  const releasable = (policy: Policy): string[] => {
    const allowed = prepare(policy).fields;
    return (order ?? policy.fields).filter((f) => allowed.has(f) && requested.has(f));
  };
  let ranked: { policy: Policy; fields: string[] }[] = inForce.map((policy) => ({ policy, fields: releasable(policy) }));
  if (ranked.length > 1) {
    ranked = ranked.sort(
      (a, b) =>
        b.fields.length - a.fields.length ||
        Number(a.policy.consent.required) - Number(b.policy.consent.required) ||
        (a.policy.id < b.policy.id ? -1 : a.policy.id > b.policy.id ? 1 : 0),
    );
  }

  const reasons: DenyReason[] = [];
  let firstEvidence: ConsentEvidence | undefined;
  let known: Promise<readonly RelationFact[]> | undefined;
  for (const { policy, fields } of ranked) {
    const label = prepare(policy).label;
    if (fields.length === 0) {
      trace.push(`${label}: permits ${list(policy.fields)}; none of the requested ${list(req.requestedFields)}.`);
      if (!reasons.includes(DENY_REASON.noFieldsPermitted)) reasons.push(DENY_REASON.noFieldsPermitted);
      continue;
    }
    // Whom the policy is about, before consent: a consent is never asked for a citizen out of scope.
    if (policy.subject !== undefined && req.subjectAssumedInScope !== true) {
      const scope = subjectInScope(policy.subject, req.subjectAge);
      if (!scope.ok) {
        trace.push(`${label}: ${scope.line}`);
        if (!reasons.includes(DENY_REASON.subjectOutOfScope)) reasons.push(DENY_REASON.subjectOutOfScope);
        continue;
      }
    }
    // Consent first, then need to know: what a caller hears about a policy that requires consent
    // does not depend on whether another administration serves the citizen.
    let evidence: ConsentEvidence | undefined;
    if (policy.consent.required) {
      const asked = await askConsent(consent, policy, fields);
      firstEvidence ??= asked.evidence;
      if (asked.evidence.status !== 'active') {
        const reason = CONSENT_DENIALS[asked.evidence.status];
        trace.push(
          asked.failed
            ? `${label}: requires the citizen's consent for ${fields.join(', ')}; the consent look-up failed, so deny (${reason}, fail closed).`
            : `${label}: requires the citizen's consent for ${fields.join(', ')}; the consent source answered "${asked.evidence.status}": deny (${reason}).`,
        );
        if (!reasons.includes(reason)) reasons.push(reason);
        continue;
      }
      evidence = asked.evidence;
    }
    // Need to know: one read of the register for the decision, whichever policies ask.
    let relied: readonly RelationFact[] | undefined;
    if (policy.relation !== undefined) {
      known ??= relations([...new Set([req.administration, ...(req.provider !== undefined ? [req.provider] : [])])]);
      const held = needToKnow(policy.relation, req, await known);
      trace.push(`${label}: ${held.line}`);
      if (held.relied === undefined) {
        if (!reasons.includes(DENY_REASON.relationMissing)) reasons.push(DENY_REASON.relationMissing);
        continue;
      }
      relied = held.relied;
    }
    trace.push(
      evidence !== undefined
        ? `${label}: the citizen's consent is active${evidence.consentId ? ` (consent ${evidence.consentId})` : ''}; releases ${fields.join(', ')} under ${legalBasisText(policy)}.`
        : `${label}: in force for role and purpose; releases ${fields.join(', ')} under ${legalBasisText(policy)}.`,
    );
    return {
      decision: 'permit',
      policy,
      fields,
      ...(evidence !== undefined ? { consent: evidence } : {}),
      ...(relied !== undefined ? { relations: relied } : {}),
      trace,
    };
  }
  return deny(reasons, trace, ranked[0]!.policy, firstEvidence);
}

/** A policy's age range in words: "aged 18 or over", "aged 18 to 24", "aged under 30". */
export function ageRangeText(age: SubjectRequirement['age']): string {
  if (age.min !== undefined && age.max !== undefined) return `aged ${age.min} to ${age.max}`;
  if (age.min !== undefined) return `aged ${age.min} or over`;
  return `aged ${age.max!} or under`;
}

/**
 * A `subject:` clause against the citizen's age (completed years on the request's day, or
 * null/undefined when not determinable: out of scope, fail closed). The trace line says which
 * side of the range the citizen is on, never the age itself.
 */
export function subjectInScope(clause: SubjectRequirement, age: number | null | undefined): { ok: boolean; line: string } {
  const range = ageRangeText(clause.age);
  if (age === undefined || age === null || !Number.isInteger(age))
    return {
      ok: false,
      line: `covers citizens ${range}; the citizen's age cannot be determined from the CPR number: deny (${DENY_REASON.subjectOutOfScope}, fail closed).`,
    };
  const { min, max } = clause.age;
  if (min !== undefined && age < min)
    return { ok: false, line: `covers citizens ${range}; the citizen is younger: deny (${DENY_REASON.subjectOutOfScope}).` };
  if (max !== undefined && age > max)
    return { ok: false, line: `covers citizens ${range}; the citizen is older: deny (${DENY_REASON.subjectOutOfScope}).` };
  return { ok: true, line: `covers citizens ${range}; the citizen is in that range.` };
}

/**
 * A `relation:` clause against the relations in force (the evaluator's, and the delivery
 * worker's again before each attempt): the requester's in one of the
 * capacities named (with the token's caseworker as the responsible one, under `sameCaseworker`)
 * and, when `provider` is named, the other side's. The relations relied on (in id order), or
 * undefined and why not, in a trace line that names administrations and capacities, never the
 * citizen.
 */
export function needToKnow(
  clause: RelationRequirement,
  req: Pick<DecisionRequest, 'administration' | 'provider' | 'caseworker'>,
  inForce: readonly RelationFact[],
): { relied: readonly RelationFact[] | undefined; line: string } {
  const mine = inForce.filter((r) => r.administration === req.administration && clause.requester.includes(r.capacity));
  if (mine.length === 0)
    return {
      relied: undefined,
      line: `requires that ${req.administration} serves the citizen as ${list(clause.requester)}; no such relation is in force: deny (${DENY_REASON.relationMissing}).`,
    };
  const ours = clause.sameCaseworker ? mine.filter((r) => r.caseworker !== null && r.caseworker === req.caseworker) : mine;
  if (ours.length === 0)
    return {
      relied: undefined,
      line: `requires that the caseworker of the request is the one responsible on ${req.administration}'s relation as ${list(clause.requester)}; ${req.caseworker ? 'it names another' : 'the request names no caseworker'}: deny (${DENY_REASON.relationMissing}).`,
    };
  let theirs: readonly RelationFact[] = [];
  if (clause.provider !== undefined) {
    const wanted = clause.provider;
    theirs =
      req.provider === undefined
        ? []
        : inForce.filter((r) => r.administration === req.provider && (wanted === 'any' || wanted.includes(r.capacity)));
    if (theirs.length === 0)
      return {
        relied: undefined,
        line: `requires that ${req.provider ?? 'the other administration'} serves the citizen too${wanted === 'any' ? '' : ` as ${list(wanted)}`}; no such relation is in force: deny (${DENY_REASON.relationMissing}).`,
      };
  }
  const relied = [...ours, ...theirs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    relied,
    line: `need to know: ${relied.map((r) => `${r.administration} as ${r.capacity} (relation ${r.id})`).join(', ')} in force.`,
  };
}

/** Calls the consent check, failing closed: a throw or an answer with an unknown status is "unavailable". */
async function askConsent(
  consent: ConsentCheck,
  policy: Policy,
  fields: readonly string[],
): Promise<{ evidence: ConsentEvidence; failed: boolean }> {
  try {
    const evidence = await consent(policy, fields);
    const status = (evidence as Partial<ConsentEvidence> | null | undefined)?.status;
    if (status === 'active' || (typeof status === 'string' && Object.hasOwn(CONSENT_DENIALS, status))) return { evidence, failed: false };
  } catch {
    // The error may describe the citizen: it stays out of the trace and the decision.
  }
  return { evidence: UNAVAILABLE, failed: true };
}

const UNAVAILABLE: ConsentEvidence = Object.freeze({ status: 'unavailable' });
