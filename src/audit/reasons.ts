/**
 * The reason codes of the audit trail: every code an audit record's `reasons` can hold, besides
 * an error code of the registry in src/errors.ts (the code a refused request got, or why a
 * release failed). The strings are in stored trails and are read by the DPO pages, the
 * citizen's report and the rollups: add codes, never change one.
 *
 * @example
 *   auditEntry('consent', { ...facts, reasons: [CONSENT_AUDIT.recorded], status: 201 })
 */

/** Why the policy evaluator denied an exchange: on decision and notification records, and in POLICY_DENIED's and CONSENT_REQUIRED's reasons. */
export const DENY_REASON = {
  noPolicy: 'NO_POLICY', // no policy for this contract and requesting administration
  purposeNotAllowed: 'PURPOSE_NOT_ALLOWED', // policies exist for contract + administration, none for this purpose
  roleNotAllowed: 'ROLE_NOT_ALLOWED', // the receiving system holds no role such a policy names
  policyNotInForce: 'POLICY_NOT_IN_FORCE', // outside the validity period
  noFieldsPermitted: 'NO_FIELDS_PERMITTED', // nothing asked for is permitted
  consentMissing: 'CONSENT_MISSING', // the policy requires consent and none is recorded
  consentWithdrawn: 'CONSENT_WITHDRAWN', // the citizen withdrew the consent
  consentExpired: 'CONSENT_EXPIRED', // the consent's validity ended
  consentScope: 'CONSENT_SCOPE', // the consent does not cover this recipient, purpose, contract or data
  consentEvidence: 'CONSENT_EVIDENCE_NOT_ACCEPTED', // a consent covers it, but on evidence the policy does not accept (e.g. the recipient's own record)
  consentSourceUnavailable: 'CONSENT_SOURCE_UNAVAILABLE', // consent could not be checked, so nothing is released (fail closed)
  relationMissing: 'RELATION_MISSING', // the policy requires a relation with the citizen (need to know) that is not in force
  subjectOutOfScope: 'SUBJECT_OUT_OF_SCOPE', // the citizen is outside the policy's age range, or their age cannot be determined
} as const;

/** Why a request was denied. Stable codes; the DPO pages and the audit trail use them. */
export type DenyReason = (typeof DENY_REASON)[keyof typeof DENY_REASON];

/** Every deny reason, in the order above (the policy test cases' schema lists them). */
export const DENY_REASONS: readonly DenyReason[] = Object.values(DENY_REASON);

/** The deny reason of each consent status that does not permit: the evaluator's, and the delivery worker's before it sends. */
export const CONSENT_DENIAL = {
  missing: DENY_REASON.consentMissing,
  withdrawn: DENY_REASON.consentWithdrawn,
  expired: DENY_REASON.consentExpired,
  scope: DENY_REASON.consentScope,
  evidence: DENY_REASON.consentEvidence,
  unavailable: DENY_REASON.consentSourceUnavailable,
} as const;

const CONSENT_REASONS: ReadonlySet<string> = new Set(Object.values(CONSENT_DENIAL));

/**
 * The refusal code of a policy's denial: CONSENT_REQUIRED when every reason is about the
 * citizen's consent (a policy permits the exchange, only the consent is not there), else
 * POLICY_DENIED.
 *
 * @example
 *   new GatewayError(denialCode(decision.reasons), { reasons: decision.reasons })
 */
export function denialCode(reasons: readonly string[]): 'CONSENT_REQUIRED' | 'POLICY_DENIED' {
  return reasons.length > 0 && reasons.every((r) => CONSENT_REASONS.has(r) || r === CONSENT_NOT_IN_FORCE)
    ? 'CONSENT_REQUIRED'
    : 'POLICY_DENIED';
}

/**
 * What a caller hears of a consent denial: CONSENT_NOT_IN_FORCE for every reason that would tell
 * it whether a consent exists or existed (withdrawn, expired, covering something else, or resting
 * on evidence the policy does not accept), since the caller may have no standing to see that
 * consent; CONSENT_SOURCE_UNAVAILABLE and the other reasons as they are. The audit record keeps
 * the precise reason.
 *
 * @example
 *   new GatewayError(denialCode(decision.reasons), { reasons: callerDenyReasons(decision.reasons) })
 */
export function callerDenyReasons(reasons: readonly string[]): string[] {
  return [
    ...new Set(reasons.map((r) => (CONSENT_REASONS.has(r) && r !== DENY_REASON.consentSourceUnavailable ? CONSENT_NOT_IN_FORCE : r))),
  ];
}

/** The one consent reason a caller hears (callerDenyReasons): no consent in force covers this exchange. */
export const CONSENT_NOT_IN_FORCE = 'CONSENT_NOT_IN_FORCE';

/** Notification records that are not a policy's denial: a delivery's course (kind notification). */
export const NOTIFICATION_AUDIT = {
  queued: 'QUEUED', // the recipient is permitted; its delivery is in the outbox
  delivered: 'DELIVERED', // the recipient acknowledged the delivery
  deadLetter: 'DEAD_LETTER', // the last attempt failed; followed by the DELIVERY_FAILURE code
  cancelled: 'DELIVERY_CANCELLED', // the consent lapsed before sending; follows the deny reason
  redriven: 'REDRIVEN', // operations or the DPO sent a dead letter back to pending
  noRecipient: 'NO_RECIPIENT', // policies exist, but no registered system may receive it
  alreadyAccepted: 'ALREADY_ACCEPTED', // sent again under the same Idempotency-Key: answered as the first time
  skipped: 'RECIPIENT_SKIPPED', // the recipient does not serve the citizen (need to know); followed by RELATION_MISSING; the sender is not told
} as const;

/** Why a delivery attempt failed: kept on the outbox row, and after DEAD_LETTER on the record of the last attempt. */
export const DELIVERY_FAILURE = {
  noEndpoint: 'NO_ENDPOINT', // the recipient system has no registered endpoint
  recipientStatus: 'RECIPIENT_STATUS', // the recipient answered with a status other than 2xx
  recipientTimeout: 'RECIPIENT_TIMEOUT', // the recipient did not answer in time
  recipientUnreachable: 'RECIPIENT_UNREACHABLE', // no connection to the recipient
  storeUnavailable: 'GATEWAY_STORE_UNAVAILABLE', // the outcome could not be recorded (trail or outbox)
  consentSourceUnavailable: DENY_REASON.consentSourceUnavailable, // the consent could not be checked again before sending
  relationRegisterUnavailable: 'RELATION_REGISTER_UNAVAILABLE', // the relations could not be checked again before sending
  payloadErased: 'PAYLOAD_ERASED', // nothing left to send (a cancellation, on the outbox row only)
} as const;

/** Consent records (kind consent). */
export const CONSENT_AUDIT = {
  recorded: 'CONSENT_RECORDED', // a consent was recorded
  withdrawn: 'CONSENT_WITHDRAWAL', // a consent was withdrawn; the record cites its receipt digest
  searched: 'CONSENT_SEARCH', // a citizen's consents were looked up
  backdated: 'CONSENT_BACKDATED', // a caseworker recorded a consent whose period starts before the day it was recorded
  representative: 'CONSENT_BY_REPRESENTATIVE', // a guardian, a holder of a power of attorney or a parent with custody gave it
} as const;

/** The relations register (kind relation): who serves which citizen. */
export const RELATION_AUDIT = {
  registered: 'RELATION_REGISTERED', // a case system registered that its administration serves the citizen
  changed: 'RELATION_CHANGED', // it changed the capacity, caseworker or period of its relation
  ended: 'RELATION_ENDED', // it recorded the end of its relation (or voided it: recorded-in-error); followed by the end reason
  unchanged: 'RELATION_UNCHANGED', // it sent a registration or end again that changed nothing
  searched: 'RELATION_SEARCH', // relations were looked up (by citizen and/or case reference)
} as const;

/** Follows RELATION_REGISTERED or RELATION_CHANGED when the relation (newly) starts before today: backdated. */
export const RELATION_BACKDATED = 'RELATION_BACKDATED';

/**
 * The operator's import and reconciliation of an administration's relations from its case system's
 * file (`snitflade relations import|reconcile`, kind relation, caller the import tool): one record
 * per run with its counts (see relationImportReasons); each row's registration, change or end has
 * its own record as through the API.
 */
export const RELATION_IMPORT_AUDIT = {
  imported: 'RELATION_IMPORT', // a run of `snitflade relations import`
  reconciled: 'RELATION_RECONCILE', // a run of `snitflade relations reconcile`
} as const;

/** Follows the end reason of a relation ended by reconciliation: the administration's file no longer lists its case reference. */
export const RELATION_NOT_LISTED = 'RELATION_NOT_LISTED';

/** The counts of an import or reconciliation run. */
export type RelationImportCounts = Readonly<Record<'added' | 'updated' | 'unchanged' | 'ended' | 'refused', number>>;

/**
 * The reasons of an import or reconciliation run's record: its code, then `file=sha256:<hex>` (the
 * file's digest), `added=`, `updated=`, `unchanged=`, `ended=`, `refused=` with their counts,
 * `refused:<code>=<count>` for each refusal code met, then `more`: `dry-run` if nothing was
 * written, `backdate-days=<n>` if the run widened the backdating bound, what stopped it if anything.
 */
export function relationImportReasons(
  code: (typeof RELATION_IMPORT_AUDIT)[keyof typeof RELATION_IMPORT_AUDIT],
  run: { readonly fileDigest: string; readonly counts: RelationImportCounts; readonly refusedBy: ReadonlyMap<string, number> },
  more: readonly string[] = [],
): string[] {
  const c = run.counts;
  return [
    code,
    `file=sha256:${run.fileDigest}`,
    `added=${c.added}`,
    `updated=${c.updated}`,
    `unchanged=${c.unchanged}`,
    `ended=${c.ended}`,
    `refused=${c.refused}`,
    ...[...run.refusedBy].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `refused:${k}=${n}`),
    ...more,
  ];
}

/** Why a relation ended (the body of POST /v1/relations/{id}/end); the code follows RELATION_ENDED in the record's reasons. */
export const RELATION_END_REASONS = ['case-closed', 'transferred', 'deceased-or-moved', 'recorded-in-error', 'other'] as const;

/**
 * The reasons of a relation record: the code, then `relation=<id>`, `capacity=<id>` and
 * `case=<the relation's case reference>` (ids and the administration's own reference, checked to
 * hold no CPR number; no data values), then for an end its reason, for a change the names of what
 * changed (`changed=caseworker`...). The record's own caseRef stays the token's case.
 */
export function relationReasons(
  code: (typeof RELATION_AUDIT)[keyof typeof RELATION_AUDIT],
  relation: { readonly id: string; readonly capacity: string; readonly caseRef: string },
  more: readonly string[] = [],
): string[] {
  return [code, `relation=${relation.id}`, `capacity=${relation.capacity}`, `case=${relation.caseRef}`, ...more];
}

/** The DPO's accesses to the trail (kind dpo-access). */
export const DPO_ACCESS = {
  search: 'AUDIT_SEARCH', // searched the trail
  verify: 'AUDIT_VERIFY', // verified the trail
  citizenReport: 'CITIZEN_REPORT', // made a citizen's access report
  relationHistory: 'RELATION_HISTORY', // looked up a citizen's relations with their history
} as const;

export type DpoAccess = (typeof DPO_ACCESS)[keyof typeof DPO_ACCESS];

/** Operations (kind admin). */
export const ADMIN_AUDIT = {
  rulesReloaded: 'RULES_RELOADED', // a reload switched to new rules; policySet is their digest
  rulesInvalid: 'RULES_INVALID', // a reload was refused and the rules in force stay; policySet is theirs
  retention: 'AUDIT_RETENTION', // records were deleted under the retention rule (see retentionReasons)
  erasure: 'AUDIT_ERASURE', // records' content was erased under their purposes' retention (see erasureReasons)
} as const;

/** The reasons of a retention record: the code, the chain, the last seq deleted and the export that holds them. */
export function retentionReasons(chain: string, throughSeq: number, exportId: string): string[] {
  return [ADMIN_AUDIT.retention, `chain=${chain}`, `through=${throughSeq}`, `export=${exportId}`];
}

/** Whether these reasons are those of the retention record that deleted records 1..throughSeq of the chain. */
export function documentsRetention(reasons: readonly string[], chain: string, throughSeq: number): boolean {
  return reasons.includes(ADMIN_AUDIT.retention) && reasons.includes(`chain=${chain}`) && reasons.includes(`through=${throughSeq}`);
}

/**
 * What the admin record of an erasure under the purposes' retention documents (src/audit/erasure.ts):
 * the chain, how many records of it were erased and the digest of their erasure entries
 * (erasureListDigest), the export that holds them whole, and per purpose the retention in force
 * and the cutoff it gave: records of the purpose written before `before` were past it.
 */
export interface ErasureDocument {
  readonly chain: string;
  readonly erased: number;
  readonly digest: string;
  readonly exportId: string;
  readonly cutoffs: ReadonlyMap<string, { readonly retention: string; readonly before: string }>;
}

/**
 * The reasons of an erasure record: the code, `chain=`, `erased=<count>`, `digest=<hex>`,
 * `export=<export id>`, then `cutoff=<purpose>:<retention>:<ISO time>` for each purpose with
 * records erased, by purpose id.
 */
export function erasureReasons(d: ErasureDocument): string[] {
  return [
    ADMIN_AUDIT.erasure,
    `chain=${d.chain}`,
    `erased=${d.erased}`,
    `digest=${d.digest}`,
    `export=${d.exportId}`,
    ...[...d.cutoffs]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([purpose, c]) => `cutoff=${purpose}:${c.retention}:${c.before}`),
  ];
}

const NAMED_VALUE = /^([a-z]+)=(.*)$/s;
const CUTOFF = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*):(P[0-9YMWD]+):(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/;

/** The erasure an admin record's reasons document, or undefined when they are not those of an erasure record (erasureReasons). */
export function parseErasureReasons(reasons: readonly string[]): ErasureDocument | undefined {
  if (reasons[0] !== ADMIN_AUDIT.erasure) return undefined;
  const named = new Map<string, string>();
  const cutoffs = new Map<string, { retention: string; before: string }>();
  for (const r of reasons.slice(1)) {
    const m = NAMED_VALUE.exec(r);
    if (m === null) return undefined;
    const [, name, value] = m as unknown as [string, string, string];
    if (name === 'cutoff') {
      const c = CUTOFF.exec(value);
      if (c === null || cutoffs.has(c[1] as string)) return undefined;
      cutoffs.set(c[1] as string, { retention: c[2] as string, before: c[3] as string });
    } else {
      if (named.has(name)) return undefined;
      named.set(name, value);
    }
  }
  const chain = named.get('chain');
  const erased = Number(named.get('erased'));
  const digest = named.get('digest');
  const exportId = named.get('export');
  if (chain === undefined || exportId === undefined || digest === undefined || !/^[0-9a-f]{64}$/.test(digest)) return undefined;
  if (!Number.isSafeInteger(erased) || erased < 1 || String(erased) !== named.get('erased')) return undefined;
  return { chain, erased, digest, exportId, cutoffs };
}

/** The codes the DPO rollups recognise in other modules' records (see store/dpo-rollup.ts). */
export const ROLLUP_REASONS = {
  consentWithdrawal: CONSENT_AUDIT.withdrawn, // counts a withdrawal of the consent the record cites
  notificationQueued: NOTIFICATION_AUDIT.queued, // a notification decided for a recipient (permitted)
  deliveryCancelled: NOTIFICATION_AUDIT.cancelled, // a deny that is a cancelled delivery, not a decision
  recipientSkipped: NOTIFICATION_AUDIT.skipped, // a deny that is a recipient without need to know, not a refusal of the sender
} as const;
