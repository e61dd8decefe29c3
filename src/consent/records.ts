import { randomUUID } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { Pseudonymizer } from '../audit/pseudonym.js';
import type { AuditTrail } from '../audit/trail.js';
import type { DataCategory } from '../contracts/types.js';
import { GatewayError } from '../errors.js';
import { mayHoldCpr } from '../lib/cpr.js';
import { auditEntry, callerFacts, type ExchangeFacts, type TokenCaller } from '../audit/entry.js';
import { CONSENT_AUDIT } from '../audit/reasons.js';
import { writeAudit, type AuditWriteObserver } from '../audit/write.js';
import type { Rules } from '../rules/types.js';
import { copenhagenDate, isCalendarDate } from '../policy/dates.js';
import type { ConsentStore, StoredConsent } from '../store/consents.js';
import { signReceipt } from './receipt.js';
import { validateBody } from './requests.js';
import { consentHistory } from './status.js';
import type { ConsentActor, ConsentEventRecord, ConsentRecord, ConsentView, EvidenceKind, WithdrawalReason } from './types.js';
import { newAuditId } from '../audit/id.js';

/** What the consent operations need from the gateway. */
export interface ConsentRegistryDeps {
  readonly consents: ConsentStore;
  readonly trail: AuditTrail;
  readonly pseudonyms: Pseudonymizer;
  /** The gateway's ES256 key: it signs the receipts. */
  readonly signingKey: CryptoKey;
  readonly gatewayId: string;
  readonly rules: () => Rules;
  readonly observe?: AuditWriteObserver;
}

/** The authenticated caller of a consent operation. */
export type ConsentCaller = TokenCaller;

export interface RecordConsentBody {
  readonly cpr: string;
  readonly recipients: readonly string[];
  readonly purposes: readonly string[];
  readonly contracts?: readonly string[];
  readonly categories?: readonly DataCategory[];
  readonly validFrom: string;
  readonly validTo: string;
  readonly evidence: { readonly kind: EvidenceKind; readonly reference: string };
}

const CONSENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function actorOf(caller: ConsentCaller): ConsentActor {
  return { system: caller.client.id, administration: caller.client.administration, caseworker: caller.token.caseworker };
}

function facts(deps: ConsentRegistryDeps, caller: ConsentCaller, auditId: string): ExchangeFacts {
  return callerFacts(caller, deps.rules().policies, auditId);
}

/** A consent as the API shows it, with its state and history on the day of `now`. */
export function consentView(stored: StoredConsent, now: Date): ConsentView {
  const c = stored.consent;
  const { state, events } = consentHistory(stored, now);
  return {
    id: c.id,
    state,
    recipients: c.scope.recipients,
    purposes: c.scope.purposes,
    contracts: c.scope.contracts,
    categories: c.scope.categories,
    validFrom: c.scope.validFrom,
    validTo: c.scope.validTo,
    evidence: c.evidence,
    recordedBy: c.recordedBy,
    recordedAt: c.recordedAt,
    receipt: c.receipt,
    receiptDigest: c.receiptDigest,
    events,
  };
}

/** The cross-checks the schema cannot do: known names, a sensible period, no CPR number in the evidence. */
function checkScope(deps: ConsentRegistryDeps, body: RecordConsentBody, now: Date): void {
  const rules = deps.rules();
  const errors: { path: string; message: string }[] = [];
  const administrations = (rules.policies as { administrations?: ReadonlyMap<string, unknown> }).administrations;
  const known = administrations ?? new Map(rules.clients.clients.map((c) => [c.administration, c]));
  body.recipients.forEach((a, i) => {
    if (!known.has(a)) errors.push({ path: `/recipients/${i}`, message: 'not an administration known to the gateway' });
  });
  body.purposes.forEach((p, i) => {
    if (!rules.policies.purposes.has(p)) errors.push({ path: `/purposes/${i}`, message: 'not a purpose in the purpose registry' });
  });
  (body.contracts ?? []).forEach((c, i) => {
    if (!rules.contracts.get(c)) errors.push({ path: `/contracts/${i}`, message: 'not a registered contract' });
  });
  if ((body.contracts ?? []).length === 0 && (body.categories ?? []).length === 0) {
    errors.push({ path: '/', message: 'name the data the consent covers: "contracts" and/or "categories"' });
  }
  if (!isCalendarDate(body.validFrom)) errors.push({ path: '/validFrom', message: 'must be a real calendar date, YYYY-MM-DD' });
  if (!isCalendarDate(body.validTo)) errors.push({ path: '/validTo', message: 'must be a real calendar date, YYYY-MM-DD' });
  else if (body.validTo < body.validFrom) errors.push({ path: '/validTo', message: 'the period ends before it starts' });
  else if (body.validTo < copenhagenDate(now)) errors.push({ path: '/validTo', message: 'the period has already ended' });
  if (mayHoldCpr(body.evidence.reference))
    errors.push({
      path: '/evidence/reference',
      message: "must not contain a CPR number; use the form's or the digital consent's own reference",
    });
  if (errors.length > 0) throw new GatewayError('REQUEST_INVALID', { errors });
}

/**
 * POST /v1/consents: records a consent the citizen gave (through a caseworker's system). Signs
 * a receipt, writes the audit record (kind consent, CONSENT_RECORDED, citing the receipt's
 * digest), then stores the consent under the citizen's pseudonym. The CPR number is not kept.
 */
export async function recordConsent(
  deps: ConsentRegistryDeps,
  caller: ConsentCaller,
  rawBody: unknown,
  now: Date = new Date(),
): Promise<{ consent: ConsentView; auditId: string }> {
  const body = validateBody<RecordConsentBody>('record', rawBody);
  checkScope(deps, body, now);
  const subject = deps.pseudonyms.pseudonym(body.cpr);
  const id = randomUUID();
  const recordedAt = now.toISOString();
  const recordedBy = actorOf(caller);
  const scope = {
    recipients: [...body.recipients],
    purposes: [...body.purposes],
    contracts: [...(body.contracts ?? [])],
    categories: [...(body.categories ?? [])],
    validFrom: body.validFrom,
    validTo: body.validTo,
  };
  const evidence = { kind: body.evidence.kind, reference: body.evidence.reference };
  const { receipt, digest } = await signReceipt(deps.signingKey, {
    v: 1,
    iss: deps.gatewayId,
    consentId: id,
    subject,
    scope,
    evidence,
    recordedBy,
    recordedAt,
  });
  const consent: ConsentRecord = { id, subject, scope, evidence, recordedBy, recordedAt, receipt, receiptDigest: digest };

  const auditId = newAuditId();
  const f = { ...facts(deps, caller, auditId), subject, consent: digest };
  await writeAudit(deps.trail, auditEntry('consent', { ...f, reasons: [CONSENT_AUDIT.recorded], status: 201 }), deps.observe);
  const given: ConsentEventRecord = { type: 'given', at: recordedAt, actor: recordedBy, auditId, reason: null };
  try {
    await deps.consents.add(consent, given);
  } catch (err) {
    throw await registryFailure(deps, f, err);
  }
  return { consent: consentView({ consent, state: 'active', events: [given] }, now), auditId };
}

/**
 * POST /v1/consents/search: the citizen's consents with their history. The search itself is
 * audited (kind consent, CONSENT_SEARCH): it tells the caller what the citizen agreed to.
 */
export async function searchConsents(
  deps: ConsentRegistryDeps,
  caller: ConsentCaller,
  rawBody: unknown,
  now: Date = new Date(),
): Promise<{ consents: ConsentView[]; auditId: string }> {
  const body = validateBody<{ cpr: string }>('search', rawBody);
  const subjects = deps.pseudonyms.all(body.cpr);
  const auditId = newAuditId();
  const f = { ...facts(deps, caller, auditId), subject: subjects[0]! };
  let stored: StoredConsent[];
  try {
    stored = await deps.consents.bySubject(subjects);
  } catch (err) {
    throw await registryFailure(deps, f, err);
  }
  await writeAudit(deps.trail, auditEntry('consent', { ...f, reasons: [CONSENT_AUDIT.searched], status: 200 }), deps.observe);
  return { consents: stored.map((s) => consentView(s, now)), auditId };
}

/**
 * POST /v1/consents/{id}/withdraw: the citizen withdraws a consent. The body names the citizen
 * (cpr), so a wrong id cannot withdraw another citizen's consent. The withdrawal is audited
 * (kind consent, CONSENT_WITHDRAWAL), then stored; from the next request on, on every gateway
 * instance, the consent no longer permits anything.
 */
export async function withdrawConsent(
  deps: ConsentRegistryDeps,
  caller: ConsentCaller,
  id: string,
  rawBody: unknown,
  now: Date = new Date(),
): Promise<{ consent: ConsentView; auditId: string }> {
  const body = validateBody<{ cpr: string; reason?: WithdrawalReason }>('withdraw', rawBody);
  const subjects = deps.pseudonyms.all(body.cpr);
  const auditId = newAuditId();
  const f = { ...facts(deps, caller, auditId), subject: subjects[0]! };
  if (!CONSENT_ID.test(id)) throw new GatewayError('CONSENT_NOT_FOUND');
  let stored: StoredConsent | undefined;
  try {
    stored = await deps.consents.get(id);
  } catch (err) {
    throw await registryFailure(deps, f, err);
  }
  if (!stored || !subjects.includes(stored.consent.subject)) throw new GatewayError('CONSENT_NOT_FOUND');
  if (stored.state === 'withdrawn') throw new GatewayError('CONSENT_ALREADY_WITHDRAWN');

  const withFacts = { ...f, subject: stored.consent.subject, consent: stored.consent.receiptDigest };
  await writeAudit(deps.trail, auditEntry('consent', { ...withFacts, reasons: [CONSENT_AUDIT.withdrawn], status: 200 }), deps.observe);
  const event: ConsentEventRecord = {
    type: 'withdrawn',
    at: now.toISOString(),
    actor: actorOf(caller),
    auditId,
    reason: body.reason ?? 'citizen-request',
  };
  let outcome: Awaited<ReturnType<ConsentStore['withdraw']>>;
  try {
    outcome = await deps.consents.withdraw(id, event);
  } catch (err) {
    throw await registryFailure(deps, withFacts, err);
  }
  if (outcome === 'already-withdrawn') throw Object.assign(new GatewayError('CONSENT_ALREADY_WITHDRAWN'), { auditId });
  if (outcome === 'not-found') throw Object.assign(new GatewayError('CONSENT_NOT_FOUND'), { auditId });
  return { consent: consentView({ ...stored, state: 'withdrawn', events: [...stored.events, event] }, now), auditId };
}

/**
 * The registry could not read or write: the refusal is audited (best effort: the trail may be
 * what failed) and the caller gets 503 CONSENT_REGISTRY_UNAVAILABLE.
 */
async function registryFailure(deps: ConsentRegistryDeps, f: ExchangeFacts, cause: unknown): Promise<GatewayError> {
  const err = new GatewayError('CONSENT_REGISTRY_UNAVAILABLE', {}, { cause });
  try {
    const auditId = newAuditId();
    await writeAudit(deps.trail, auditEntry('refusal', { ...f, auditId, reasons: [err.code], status: err.status }), deps.observe);
    err.auditId = auditId;
  } catch {
    // The trail is down too; the 503 stands on its own.
  }
  return err;
}
