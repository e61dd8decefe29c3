import type { ContractRegistry } from '../contracts/types.js';
import { decide, otherSide } from './evaluate.js';
import type { ConsentStatus, PolicySet, RelationFact } from './types.js';

/**
 * `snitflade impact`: before a changed policy set goes live, replay the decisions recorded in
 * the audit trail over a period against it and list exactly what would now be decided
 * differently. The DPO reviews this list with the policy owner before the reload.
 *
 * The replay is pure evaluation: it takes the recorded decisions as plain data and reads no
 * store (the command, src/cli/commands/impact.ts, reads them from the trail).
 *
 * A decision record holds what the evaluator needs: the contract, the caller's system and
 * administration, the purpose, the fields asked for, the time, and the outcome (permit with the
 * released fields, or deny with reasons). The caller's roles are not in the record: they are
 * those the caller system holds in the client registry. The citizen's consent at the time is
 * not in the record either; it is inferred: a permit that relied on consent means it was
 * active, a deny for a consent reason gives that status, anything else is taken as "missing"
 * (and the change says so when the answer depends on it).
 */

/** What the replay needs of one recorded decision: an audit trail decision record has all of it. */
export interface RecordedDecision {
  /** Only 'decision' records are replayed; any other kind is passed over. */
  readonly kind: string;
  readonly auditId: string;
  /** ISO 8601: when the decision was made, and so the day the policies are evaluated for. */
  readonly time: string;
  readonly contract: string | null;
  readonly caller: { readonly system: string; readonly administration: string } | null;
  readonly purpose: string | null;
  readonly decision: 'permit' | 'deny' | null;
  readonly policy: { readonly id: string; readonly version: number } | null;
  /** Digest of the policy set the decision was made under. */
  readonly policySet: string | null;
  readonly reasons: readonly string[];
  readonly fields: { readonly requested: readonly string[]; readonly released: readonly string[] };
  /** The consent relied on (its receipt digest), if any. */
  readonly consent: string | null;
  /** The citizen's pseudonym, for the relations held on the day (ReplayInput.relations). */
  readonly subject: string | null;
  /** The token's caseworker (for a policy with `sameCaseworker`). */
  readonly caseworker: string | null;
}

export interface ReplayInput {
  /** Recorded decisions, in any order. */
  readonly records: AsyncIterable<RecordedDecision> | Iterable<RecordedDecision>;
  /** The changed policy set and the contracts it refers to. */
  readonly policies: PolicySet;
  readonly contracts: ContractRegistry;
  /** The roles a caller system holds (client registry), or undefined for an unknown system. */
  readonly rolesOf: (system: string) => readonly string[] | undefined;
  /**
   * The relations `administrations` held with the record's citizen on the day of the decision,
   * as the register holds them now (the command reads the register). Without it, none are known.
   */
  readonly relations?: (record: RecordedDecision, administrations: readonly string[]) => Promise<readonly RelationFact[]>;
}

export interface Outcome {
  readonly decision: 'permit' | 'deny';
  readonly policy: { readonly id: string; readonly version: number } | null;
  /** Released fields (empty on a deny). */
  readonly fields: readonly string[];
  /** Deny reasons (empty on a permit). */
  readonly reasons: readonly string[];
}

export type ChangeKind = 'permit-to-deny' | 'deny-to-permit' | 'fields-changed' | 'policy-changed';

export interface DecisionChange {
  readonly kind: ChangeKind;
  readonly auditId: string;
  readonly time: string;
  readonly caller: { readonly system: string; readonly administration: string };
  readonly contract: string;
  readonly purpose: string;
  readonly requested: readonly string[];
  readonly before: Outcome;
  readonly after: Outcome;
  /** Released now and not before (a permit either way, or deny-to-permit). */
  readonly fieldsAdded: readonly string[];
  /** Released before and not now. */
  readonly fieldsRemoved: readonly string[];
  /** What the replay had to assume, e.g. the consent state. */
  readonly assumptions: readonly string[];
}

export interface ImpactReport {
  readonly policySet: string;
  /** Decision records replayed. */
  readonly replayed: number;
  readonly unchanged: number;
  /** Records that could not be replayed, by reason. */
  readonly skipped: Readonly<Record<string, number>>;
  /** The policy sets the replayed decisions were made under (their digests), with counts. */
  readonly recordedUnder: Readonly<Record<string, number>>;
  readonly changes: readonly DecisionChange[];
  readonly summary: Readonly<Record<ChangeKind, number>>;
}

const CONSENT_REASONS: Readonly<Record<string, ConsentStatus>> = {
  CONSENT_MISSING: 'missing',
  CONSENT_WITHDRAWN: 'withdrawn',
  CONSENT_EXPIRED: 'expired',
  CONSENT_SCOPE: 'scope',
  CONSENT_SOURCE_UNAVAILABLE: 'unavailable',
};

/** The consent state at the time, as far as the record tells it. */
function consentAtTheTime(record: RecordedDecision): { status: ConsentStatus; known: boolean } {
  if (record.decision === 'permit' && record.consent !== null) return { status: 'active', known: true };
  const reason = record.reasons.find((r) => Object.hasOwn(CONSENT_REASONS, r));
  if (reason !== undefined) return { status: CONSENT_REASONS[reason]!, known: true };
  return { status: 'missing', known: false };
}

function recorded(record: RecordedDecision): Outcome {
  const permit = record.decision === 'permit';
  return {
    decision: permit ? 'permit' : 'deny',
    policy: record.policy ? { id: record.policy.id, version: record.policy.version } : null,
    fields: permit ? record.fields.released : [],
    reasons: permit ? [] : record.reasons,
  };
}

/**
 * Replays every decision record against the changed policy set and lists the decisions that
 * would now differ: permit to deny, deny to permit, other released fields, or the same fields
 * under another policy (another legal basis). A new version of the same policy releasing the
 * same fields is not a change.
 */
export async function replayDecisions(input: ReplayInput): Promise<ImpactReport> {
  const changes: DecisionChange[] = [];
  const skipped: Record<string, number> = {};
  const recordedUnder: Record<string, number> = {};
  let replayed = 0;
  let unchanged = 0;
  const skip = (why: string): void => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  for await (const record of input.records) {
    if (record.kind !== 'decision') continue;
    if (record.contract === null || record.caller === null || record.purpose === null || record.decision === null) {
      skip('incomplete decision record');
      continue;
    }
    const roles = input.rolesOf(record.caller.system);
    if (roles === undefined) {
      skip(`caller system no longer registered`);
      continue;
    }
    replayed++;
    if (record.policySet !== null) recordedUnder[record.policySet] = (recordedUnder[record.policySet] ?? 0) + 1;
    const consent = consentAtTheTime(record);
    let asked = false;
    let relationsAsked = false;
    const lookUp = input.relations;
    const d = await decide(
      input.policies,
      input.contracts,
      {
        contract: record.contract,
        administration: record.caller.administration,
        roles,
        purpose: record.purpose,
        requestedFields: record.fields.requested,
        at: new Date(record.time),
        ...otherSide(input.contracts, record.contract),
        caseworker: record.caseworker,
        // The record holds no age (nor anything to compute it from): an age condition is taken as met, and said so.
        subjectAssumedInScope: true,
      },
      async () => {
        asked = true;
        return consent.status === 'active' ? { status: 'active', consentId: 'replayed-consent' } : { status: consent.status };
      },
      async (administrations) => {
        relationsAsked = true;
        return lookUp === undefined ? [] : lookUp(record, administrations);
      },
    );
    const before = recorded(record);
    const after: Outcome =
      d.decision === 'permit'
        ? { decision: 'permit', policy: { id: d.policy.id, version: d.policy.version }, fields: d.fields, reasons: [] }
        : { decision: 'deny', policy: d.policy ? { id: d.policy.id, version: d.policy.version } : null, fields: [], reasons: d.reasons };
    const fieldsAdded = after.fields.filter((f) => !before.fields.includes(f));
    const fieldsRemoved = before.fields.filter((f) => !after.fields.includes(f));
    let kind: ChangeKind | undefined;
    if (before.decision === 'permit' && after.decision === 'deny') kind = 'permit-to-deny';
    else if (before.decision === 'deny' && after.decision === 'permit') kind = 'deny-to-permit';
    else if (before.decision === 'permit' && (fieldsAdded.length > 0 || fieldsRemoved.length > 0)) kind = 'fields-changed';
    else if (before.decision === 'permit' && before.policy?.id !== after.policy?.id) kind = 'policy-changed';
    if (kind === undefined) {
      unchanged++;
      continue;
    }
    const assumptions: string[] = [];
    if (asked && !consent.known) assumptions.push('the citizen\'s consent at the time is not in the record: replayed as "missing"');
    if (relationsAsked)
      assumptions.push(
        lookUp === undefined
          ? 'the relations with the citizen were not looked up: replayed as none'
          : "the relations with the citizen are the register's for the day of the decision, as it holds them now, under the record's pseudonym",
      );
    if (input.policies.candidates(record.contract, record.caller.administration).some((p) => p.subject !== undefined))
      assumptions.push(
        "the citizen's age is not in the record: replayed as within each policy's age range (a citizen outside it would be denied, SUBJECT_OUT_OF_SCOPE)",
      );
    changes.push({
      kind,
      auditId: record.auditId,
      time: record.time,
      caller: { system: record.caller.system, administration: record.caller.administration },
      contract: record.contract,
      purpose: record.purpose,
      requested: record.fields.requested,
      before,
      after,
      fieldsAdded,
      fieldsRemoved,
      assumptions,
    });
  }
  changes.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.auditId < b.auditId ? -1 : 1));
  const summary: Record<ChangeKind, number> = { 'permit-to-deny': 0, 'deny-to-permit': 0, 'fields-changed': 0, 'policy-changed': 0 };
  for (const c of changes) summary[c.kind]++;
  return { policySet: input.policies.digest, replayed, unchanged, skipped, recordedUnder, changes, summary };
}

const LABELS: Readonly<Record<ChangeKind, string>> = {
  'permit-to-deny': 'permit → deny',
  'deny-to-permit': 'deny → permit',
  'fields-changed': 'other fields',
  'policy-changed': 'other policy',
};

function describe(o: Outcome): string {
  return o.decision === 'permit'
    ? `permit${o.policy ? ` (${o.policy.id} v${o.policy.version})` : ''} [${o.fields.join(', ')}]`
    : `deny (${o.reasons.join(', ')})`;
}

/** The report as text for a terminal: the summary, then each change. */
export function formatImpact(report: ImpactReport, period: { from?: string; to?: string }): string {
  const lines = [
    `Impact of policy set ${report.policySet.slice(0, 12)} on the decisions ${period.from ? `from ${period.from}` : 'since the start'}${period.to ? ` to ${period.to}` : ''}`,
    `  replayed ${report.replayed} decision(s): ${report.changes.length} would now be decided differently, ${report.unchanged} the same`,
    `  ${Object.entries(report.summary)
      .map(([k, n]) => `${LABELS[k as ChangeKind]}: ${n}`)
      .join('; ')}`,
  ];
  for (const [why, n] of Object.entries(report.skipped)) lines.push(`  not replayed: ${n} (${why})`);
  if (report.changes.length > 0) lines.push('');
  for (const c of report.changes) {
    lines.push(`${LABELS[c.kind].padEnd(14)} ${c.time}  audit ${c.auditId}`);
    lines.push(
      `    ${c.caller.system} (${c.caller.administration}) → ${c.contract}, purpose ${c.purpose}, asked [${c.requested.join(', ')}]`,
    );
    lines.push(`    was ${describe(c.before)}`);
    lines.push(`    now ${describe(c.after)}`);
    if (c.fieldsAdded.length > 0) lines.push(`    fields added: ${c.fieldsAdded.join(', ')}`);
    if (c.fieldsRemoved.length > 0) lines.push(`    fields removed: ${c.fieldsRemoved.join(', ')}`);
    for (const a of c.assumptions) lines.push(`    note: ${a}`);
  }
  return `${lines.join('\n')}\n`;
}
