import type { DenyReason } from '../audit/reasons.js';
import type { ContractRegistry } from '../contracts/types.js';
import { dayEnd, dayStart } from './dates.js';
import {
  ageRangeText,
  assumedRelations,
  decide,
  DEFAULT_SUBJECT_AGE,
  otherSide,
  subjectInScope,
  type AssumedRelation,
} from './evaluate.js';
import { legalBasisText } from './legal-basis.js';
import type { ConsentStatus, Policy, PolicySet, RelationRequirement } from './types.js';

/**
 * `snitflade explain`: the decision the gateway would take for a request, and why, policy by
 * policy. The decision itself comes from the real evaluator (decide); the per-policy checks are
 * written out so a lawyer or the DPO can see which condition of which policy made the difference.
 */

export interface ExplainRequest {
  readonly contract: string;
  /** The administration that would receive the fields (the caller of a query). */
  readonly administration: string;
  readonly roles: readonly string[];
  readonly purpose: string;
  /** The fields asked for; default every field of the contract. */
  readonly fields?: readonly string[];
  readonly at: Date;
  /** What the consent registry would answer; default "missing". */
  readonly consent?: ConsentStatus;
  /** The token's caseworker (a policy with `sameCaseworker` compares it with the relation's); default none. */
  readonly caseworker?: string;
  /** The relations taken as in force with the citizen (need to know); default none. */
  readonly relations?: readonly AssumedRelation[];
  /** The citizen's age on the day (a policy's `subject:` clause); default 40, an adult. */
  readonly subjectAge?: number;
}

export type CheckName = 'administration' | 'role' | 'purpose' | 'validity' | 'fields' | 'subject' | 'relation' | 'consent';

export interface PolicyCheck {
  readonly check: CheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface PolicyVerdict {
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly file: string;
  /** True when every check passes: this policy could release `fields`. */
  readonly applies: boolean;
  /** policy ∩ requested, in the contract's order. */
  readonly fields: readonly string[];
  readonly checks: readonly PolicyCheck[];
}

export interface Explanation {
  readonly request: Required<Omit<ExplainRequest, 'at' | 'caseworker'>> & { readonly at: string; readonly caseworker: string | null };
  readonly contractKnown: boolean;
  readonly decision: 'permit' | 'deny';
  readonly policy?: { readonly id: string; readonly version: number };
  readonly legalBasis?: string;
  /** Released fields on a permit; empty on a deny. */
  readonly released: readonly string[];
  /** Asked for and not released. */
  readonly withheld: readonly string[];
  readonly reasons: readonly DenyReason[];
  /** The evaluator's own trace. */
  readonly trace: readonly string[];
  /** Every policy about this contract, with each condition checked. */
  readonly policies: readonly PolicyVerdict[];
}

const CONSENT_OK: readonly ConsentStatus[] = ['active'];

/**
 * Explains a request against a policy set.
 *
 * @example
 *   const e = await explain(set, contracts, { contract: 'social.coordination-summary.v1', administration: 'BIF',
 *     roles: ['caseworker-system'], purpose: 'plan-coordination', at: new Date() });
 *   console.log(formatExplanation(e));
 */
export async function explain(set: PolicySet, contracts: ContractRegistry, req: ExplainRequest): Promise<Explanation> {
  const contract = contracts.get(req.contract);
  const fields = req.fields ?? contract?.fieldNames ?? [];
  const consent = req.consent ?? 'missing';
  const relations = req.relations ?? [];
  const age = req.subjectAge ?? DEFAULT_SUBJECT_AGE;
  const other = otherSide(contracts, req.contract);
  const decision = await decide(
    set,
    contracts,
    {
      contract: req.contract,
      administration: req.administration,
      roles: req.roles,
      purpose: req.purpose,
      requestedFields: fields,
      at: req.at,
      ...other,
      caseworker: req.caseworker ?? null,
      subjectAge: age,
    },
    async () => (consent === 'active' ? { status: 'active', consentId: 'explain-assumed-consent' } : { status: consent }),
    assumedRelations(relations),
  );
  const order = contract?.fieldNames ?? fields;
  const verdicts = set.policies
    .filter((p) => p.contract === req.contract)
    .map((p) => verdict(p, req, fields, order, consent, other.provider, age));
  const released = decision.decision === 'permit' ? decision.fields : [];
  return {
    request: {
      contract: req.contract,
      administration: req.administration,
      roles: req.roles,
      purpose: req.purpose,
      fields,
      consent,
      relations,
      subjectAge: age,
      caseworker: req.caseworker ?? null,
      at: req.at.toISOString(),
    },
    contractKnown: contract !== undefined,
    decision: decision.decision,
    ...(decision.decision === 'permit'
      ? { policy: { id: decision.policy.id, version: decision.policy.version }, legalBasis: legalBasisText(decision.policy) }
      : {}),
    released,
    withheld: fields.filter((f) => !released.includes(f)),
    reasons: decision.decision === 'deny' ? decision.reasons : [],
    trace: decision.trace,
    policies: verdicts,
  };
}

function verdict(
  p: Policy,
  req: ExplainRequest,
  fields: readonly string[],
  order: readonly string[],
  consent: ConsentStatus,
  provider: string | undefined,
  age: number,
): PolicyVerdict {
  const checks: PolicyCheck[] = [];
  const admins = p.requester.administrations;
  checks.push({
    check: 'administration',
    ok: admins.includes(req.administration),
    detail: admins.includes(req.administration)
      ? `${req.administration} is named`
      : `names ${admins.join(', ')}, not ${req.administration}`,
  });
  const roles = p.requester.roles.filter((r) => req.roles.includes(r));
  checks.push({
    check: 'role',
    ok: roles.length > 0,
    detail:
      roles.length > 0
        ? `the caller holds ${roles.join(', ')}`
        : `needs ${p.requester.roles.join(' or ')}; the caller holds ${req.roles.join(', ') || '(no role)'}`,
  });
  checks.push({
    check: 'purpose',
    ok: p.purpose === req.purpose,
    detail: p.purpose === req.purpose ? `for "${p.purpose}"` : `only for "${p.purpose}", not "${req.purpose}"`,
  });
  const at = req.at.getTime();
  const from = dayStart(p.validity.from);
  const to = p.validity.to === undefined ? Number.POSITIVE_INFINITY : dayEnd(p.validity.to);
  const inForce = at >= from && at < to;
  checks.push({
    check: 'validity',
    ok: inForce,
    detail: `valid ${p.validity.from} to ${p.validity.to ?? 'open end'} (Copenhagen dates)${inForce ? '' : ': not on this day'}`,
  });
  const allowed = new Set(p.fields);
  const releasable = order.filter((f) => allowed.has(f) && fields.includes(f));
  const refused = fields.filter((f) => !allowed.has(f));
  checks.push({
    check: 'fields',
    ok: releasable.length > 0,
    detail:
      releasable.length === 0
        ? `permits ${p.fields.join(', ')}; none of those asked for`
        : `would release ${releasable.join(', ')}${refused.length > 0 ? `; not ${refused.join(', ')}` : ''}`,
  });
  if (p.subject !== undefined) {
    const scope = subjectInScope(p.subject, age);
    checks.push({
      check: 'subject',
      ok: scope.ok,
      detail: `covers citizens ${ageRangeText(p.subject.age)}; the citizen is ${age}${scope.ok ? '' : ': out of scope'}`,
    });
  }
  if (p.relation !== undefined) checks.push(relationVerdict(p.relation, req, provider));
  if (p.consent.required) {
    const ok = CONSENT_OK.includes(consent);
    checks.push({
      check: 'consent',
      ok,
      detail: `requires the citizen's consent${p.consent.categories ? ` covering ${p.consent.categories.join(', ')}` : ''}, evidenced as ${p.consent.evidence.join(' or ')}; the registry answers "${consent}"`,
    });
  } else {
    checks.push({ check: 'consent', ok: true, detail: 'no consent required' });
  }
  return { id: p.id, version: p.version, title: p.title.en, file: p.file, applies: checks.every((c) => c.ok), fields: releasable, checks };
}

/** The `relation:` clause against the relations the request assumes, in words. */
function relationVerdict(clause: RelationRequirement, req: ExplainRequest, provider: string | undefined): PolicyCheck {
  const assumed = req.relations ?? [];
  const mine = assumed.filter((r) => r.administration === req.administration && clause.requester.includes(r.capacity));
  const ours = clause.sameCaseworker ? mine.filter((r) => r.caseworker != null && r.caseworker === req.caseworker) : mine;
  const wanted = clause.provider;
  const theirs =
    wanted === undefined
      ? undefined
      : assumed.filter((r) => r.administration === provider && (wanted === 'any' || wanted.includes(r.capacity)));
  const needs = [
    `${req.administration} as ${clause.requester.join(' or ')}${clause.sameCaseworker ? ", with the request's caseworker responsible" : ''}`,
    ...(wanted === undefined
      ? []
      : [`${provider ?? 'the other administration'} as ${wanted === 'any' ? 'any capacity' : wanted.join(' or ')}`]),
  ];
  const ok = ours.length > 0 && (theirs === undefined || theirs.length > 0);
  const have =
    assumed.length === 0 ? 'none is assumed' : `assumed: ${assumed.map((r) => `${r.administration} as ${r.capacity}`).join(', ')}`;
  return { check: 'relation', ok, detail: `needs relations with the citizen: ${needs.join('; ')}; ${have}` };
}

/** The explanation as text for a terminal. */
export function formatExplanation(e: Explanation): string {
  const r = e.request;
  const lines = [
    `Request: ${r.administration} (roles ${r.roles.join(', ') || 'none'}) asks ${r.contract} for purpose "${r.purpose}" on ${r.at.slice(0, 10)}`,
    `  fields asked for: ${r.fields.join(', ') || '(none)'}; consent registry answers: ${r.consent}; the citizen's age: ${r.subjectAge}`,
    `  relations in force: ${r.relations.length === 0 ? '(none)' : r.relations.map((x) => `${x.administration} as ${x.capacity}${x.caseworker ? ` (caseworker ${x.caseworker})` : ''}`).join(', ')}${r.caseworker ? `; caseworker of the request: ${r.caseworker}` : ''}`,
  ];
  if (!e.contractKnown) lines.push(`  note: there is no contract "${r.contract}" in the contracts folder`);
  lines.push('');
  if (e.decision === 'permit') {
    lines.push(`Decision: PERMIT under ${e.policy!.id} v${e.policy!.version}`);
    lines.push(`  released: ${e.released.join(', ')}`);
    if (e.withheld.length > 0) lines.push(`  withheld: ${e.withheld.join(', ')}`);
    lines.push(`  legal basis: ${e.legalBasis}`);
  } else {
    lines.push(`Decision: DENY (${e.reasons.join(', ')})`);
  }
  lines.push('', 'Why (the evaluator):', ...e.trace.map((t) => `  - ${t}`), '');
  if (e.policies.length === 0) {
    lines.push(`No policy names ${r.contract}: default deny.`);
  } else {
    lines.push(`Policy by policy (${e.policies.length} about ${r.contract}):`);
    for (const v of e.policies) {
      lines.push(`  ${v.applies ? '✔' : '✘'} ${v.id} v${v.version} (${v.file})`);
      for (const c of v.checks) lines.push(`      ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(14)} ${c.detail}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
