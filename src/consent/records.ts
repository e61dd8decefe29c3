import { randomUUID } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { Gateway } from '../gateway.js';
import { durationText } from '../policy/records.js';
import { addDays, relationState } from '../relations/register.js';
import type { RelationStore } from '../relations/types.js';
import { artefactConsentId, verifyArtefact, type ArtefactClaims, type ConsentIssuer } from './artefact.js';
import { DEFAULT_CONSENT_MAX_DURATION, maxEnd } from './registry.js';
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
import { CASEWORKER_RECORD_REQUIRES, CITIZEN_SIGNED_TAKES, EVIDENCE_PROPERTIES, validateBody } from './requests.js';
import { consentHistory } from './status.js';
import {
  evidenceLevel,
  type ConsentActor,
  type ConsentEventRecord,
  type ConsentEvidenceRef,
  type ConsentGiver,
  type ConsentRecord,
  type ConsentScope,
  type ConsentView,
  type WithdrawalReason,
} from './types.js';
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
  /** The consent services the municipality trusts (their keys): a citizen-signed consent's artefact must verify under one. */
  readonly issuers: ReadonlyMap<string, ConsentIssuer>;
  /** The relations register: a consent may be tied to a case relation in force. */
  readonly relations: Pick<RelationStore, 'get'>;
  /** How many days before the day it was given a consent may start (a back-dated paper form); default 7. */
  readonly backdateGraceDays?: number;
}

/**
 * The consent operations' deps from a running gateway: one place, for the API's routes and the
 * DPO's pages.
 */
export function consentRegistryDeps(gateway: Gateway): ConsentRegistryDeps {
  return {
    consents: gateway.store.consents,
    trail: gateway.trail,
    pseudonyms: gateway.pseudonyms,
    signingKey: gateway.signingKey,
    gatewayId: gateway.config.gatewayId,
    rules: () => gateway.rules(),
    observe: gateway.metrics,
    issuers: gateway.consentIssuers,
    relations: gateway.store.relations,
    backdateGraceDays: gateway.config.consent.backdateGraceDays,
  };
}

/** The authenticated caller of a consent operation. */
export type ConsentCaller = TokenCaller;

export interface RecordConsentBody {
  readonly cpr: string;
  readonly recipients?: readonly string[];
  readonly sources?: readonly string[];
  readonly purposes?: readonly string[];
  readonly contracts?: readonly string[];
  readonly categories?: readonly DataCategory[];
  readonly validFrom?: string;
  readonly validTo?: string;
  readonly evidence:
    | { readonly kind: 'recorded-by-caseworker'; readonly reference: string; readonly form: 'paper' | 'verbal' }
    | { readonly kind: 'citizen-signed'; readonly artefact: string };
  readonly givenBy?: ConsentGiver;
  readonly relation?: string;
}

const CONSENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The default of `consent.backdateGraceDays`. */
export const DEFAULT_BACKDATE_GRACE_DAYS = 7;

function actorOf(caller: ConsentCaller): ConsentActor {
  return { system: caller.client.id, administration: caller.client.administration, caseworker: caller.token.caseworker };
}

function facts(deps: ConsentRegistryDeps, caller: ConsentCaller, auditId: string): ExchangeFacts {
  return callerFacts(caller, deps.rules().policies, auditId);
}

/**
 * Standing: a case system sees (and may withdraw) a consent only if its administration recorded
 * it or receives under it; the DPO sees every one. Anyone else is told nothing, not even that it
 * exists.
 */
export function hasStanding(caller: ConsentCaller, consent: ConsentRecord): boolean {
  const admin = caller.client.administration;
  return caller.client.roles.includes('dpo') || consent.recordedBy.administration === admin || consent.scope.recipients.includes(admin);
}

/** A consent as the API shows it, with its state and history on the day of `now`. */
export function consentView(stored: StoredConsent, now: Date): ConsentView {
  const c = stored.consent;
  const { state, events } = consentHistory(stored, now);
  return {
    id: c.id,
    state,
    level: evidenceLevel(c.evidence),
    recipients: c.scope.recipients,
    sources: c.scope.sources ?? null,
    purposes: c.scope.purposes,
    contracts: c.scope.contracts,
    categories: c.scope.categories,
    validFrom: c.scope.validFrom,
    validTo: c.scope.validTo,
    evidence: c.evidence,
    givenBy: c.givenBy ?? { role: 'citizen' },
    backdated: c.backdated === true,
    relation: c.relation ?? null,
    recordedBy: c.recordedBy,
    recordedAt: c.recordedAt,
    receipt: c.receipt,
    receiptDigest: c.receiptDigest,
    events,
  };
}

/**
 * The consent's id: random for a caseworker's record; for a citizen-signed one derived from the
 * artefact's issuer and id (artefactConsentId), so that an artefact is recorded at most once.
 */
function consentIdOf(artefact: { readonly iss: string; readonly jti: string } | undefined): string {
  return artefact === undefined ? randomUUID() : artefactConsentId(artefact.iss, artefact.jti);
}

/** The cross-checks the schema cannot do: known names, a sensible period, no CPR number in the evidence. */
function checkScope(deps: ConsentRegistryDeps, scope: ConsentScope, reference: string | undefined, now: Date): void {
  const rules = deps.rules();
  const errors: { path: string; message: string }[] = [];
  const administrations = (rules.policies as { administrations?: ReadonlyMap<string, unknown> }).administrations;
  const known = administrations ?? new Map(rules.clients.clients.map((c) => [c.administration, c]));
  scope.recipients.forEach((a, i) => {
    if (!known.has(a)) errors.push({ path: `/recipients/${i}`, message: 'not an administration known to the gateway' });
  });
  (scope.sources ?? []).forEach((a, i) => {
    if (!known.has(a)) errors.push({ path: `/sources/${i}`, message: 'not an administration known to the gateway' });
  });
  scope.purposes.forEach((p, i) => {
    if (!rules.policies.purposes.has(p)) errors.push({ path: `/purposes/${i}`, message: 'not a purpose in the purpose registry' });
  });
  scope.contracts.forEach((c, i) => {
    if (!rules.contracts.get(c)) errors.push({ path: `/contracts/${i}`, message: 'not a registered contract' });
  });
  if (scope.contracts.length === 0 && scope.categories.length === 0) {
    errors.push({ path: '/', message: 'name the data the consent covers: "contracts" and/or "categories"' });
  }
  if (!isCalendarDate(scope.validFrom)) errors.push({ path: '/validFrom', message: 'must be a real calendar date, YYYY-MM-DD' });
  if (!isCalendarDate(scope.validTo)) errors.push({ path: '/validTo', message: 'must be a real calendar date, YYYY-MM-DD' });
  else if (scope.validTo < scope.validFrom) errors.push({ path: '/validTo', message: 'the period ends before it starts' });
  else if (scope.validTo < copenhagenDate(now)) errors.push({ path: '/validTo', message: 'the period has already ended' });
  if (reference !== undefined && mayHoldCpr(reference))
    errors.push({
      path: '/evidence/reference',
      message: "must not contain a CPR number; use the form's own reference",
    });
  if (errors.length > 0) throw new GatewayError('REQUEST_INVALID', { errors });
}

/**
 * The bounds of a consent's period: it starts no earlier than the day it was given (today for a
 * caseworker's record, the artefact's givenAt for a citizen-signed one) less the grace for
 * back-dated paper forms, and ends no later than every one of its purposes' consentMaxDuration
 * allows, counted from the day it was given (so a later start does not stretch it). Resolves
 * whether it is back-dated (starts before the day it was given).
 */
function checkBounds(deps: ConsentRegistryDeps, scope: ConsentScope, givenOn: string): { backdated: boolean } {
  const grace = deps.backdateGraceDays ?? DEFAULT_BACKDATE_GRACE_DAYS;
  const earliest = addDays(givenOn, -grace);
  const errors: { path: string; message: string }[] = [];
  if (scope.validFrom < earliest) {
    errors.push({
      path: '/validFrom',
      message: `may start no earlier than ${earliest}: the day the consent was given less the ${grace}-day grace for back-dated paper forms`,
    });
  }
  const purposes = deps.rules().policies.purposes;
  for (const p of scope.purposes) {
    const latest = maxEnd(givenOn, p, { purposes: () => purposes });
    if (scope.validTo > latest) {
      const duration = purposes.get(p)?.consentMaxDuration ?? DEFAULT_CONSENT_MAX_DURATION;
      errors.push({
        path: '/validTo',
        message: `may end no later than ${latest}: a consent for purpose ${p} runs at most ${durationText(duration)} from the day it was given (consentMaxDuration)`,
      });
    }
  }
  if (errors.length > 0) throw new GatewayError('CONSENT_PERIOD_NOT_ALLOWED', { errors });
  return { backdated: scope.validFrom < givenOn };
}

/** The body's fields that depend on the evidence: a caseworker states the scope; an artefact states it and who gave it. */
function checkEvidenceFields(body: RecordConsentBody): void {
  const ev = body.evidence as unknown as Record<string, unknown> & { kind: keyof typeof EVIDENCE_PROPERTIES };
  const { required, forbidden } = EVIDENCE_PROPERTIES[ev.kind];
  const errors = [
    ...required.filter((k) => ev[k] === undefined).map((k) => ({ path: `/evidence/${k}`, message: `required for ${ev.kind} evidence` })),
    ...forbidden
      .filter((k) => ev[k] !== undefined)
      .map((k) => ({ path: `/evidence/${k}`, message: `not allowed for ${ev.kind} evidence` })),
    ...(ev.kind === 'recorded-by-caseworker'
      ? CASEWORKER_RECORD_REQUIRES.filter((k) => body[k] === undefined).map((k) => ({
          path: `/${k}`,
          message: "required for a caseworker's record of the consent",
        }))
      : CITIZEN_SIGNED_TAKES.filter((k) => body[k] !== undefined).map((k) => ({
          path: `/${k}`,
          message: 'a citizen-signed consent is recorded as the citizen gave it: its artefact says this; leave it out',
        }))),
  ];
  if (errors.length > 0) throw new GatewayError('REQUEST_INVALID', { errors });
}

/** What the request would record: from the body for a caseworker's record; the artefact's own for a citizen-signed one. */
function scopeOf(body: RecordConsentBody, artefact: ArtefactClaims | undefined): ConsentScope {
  const source = artefact ?? body;
  return {
    recipients: [...(source.recipients ?? [])],
    sources: [...(source.sources ?? [])],
    purposes: [...(source.purposes ?? [])],
    contracts: [...(source.contracts ?? [])],
    categories: [...(source.categories ?? [])],
    validFrom: source.validFrom ?? '',
    validTo: source.validTo ?? '',
  };
}

/** The relation a consent is tied to: in force today, the citizen's, and the recorder's or a recipient's. */
async function checkRelation(
  deps: ConsentRegistryDeps,
  id: string,
  subjects: readonly string[],
  scope: ConsentScope,
  caller: ConsentCaller,
  now: Date,
): Promise<void> {
  const stored = await deps.relations.get(id);
  const r = stored?.relation;
  const usable =
    r !== undefined &&
    subjects.includes(r.subject) &&
    relationState(r, copenhagenDate(now)) === 'active' &&
    (r.administration === caller.client.administration || scope.recipients.includes(r.administration));
  if (!usable) throw new GatewayError('CONSENT_RELATION_INVALID');
}

/**
 * POST /v1/consents: records a consent the citizen gave. Evidence is either an artefact signed
 * by a trusted consent service (citizen-signed: verified, and its CPR number checked against the
 * body's, before anything is recorded) or a caseworker's record of a paper or verbal consent
 * (recorded-by-caseworker: the form's reference and the token's caseworker). The period is held
 * to its bounds (checkBounds); a consent may be tied to a case relation. Signs a receipt, writes
 * the audit record (kind consent, CONSENT_RECORDED, citing the receipt's digest; the artefact's
 * digest as `artefact-sha256=`), then stores the consent under the citizen's pseudonym. The CPR
 * number is not kept.
 */
export async function recordConsent(
  deps: ConsentRegistryDeps,
  caller: ConsentCaller,
  rawBody: unknown,
  now: Date = new Date(),
): Promise<{ consent: ConsentView; auditId: string }> {
  const body = validateBody<RecordConsentBody>('record', rawBody);
  checkEvidenceFields(body);
  const signed =
    body.evidence.kind === 'citizen-signed' ? await verifyArtefact(body.evidence.artefact, deps.issuers, body.cpr, now) : undefined;
  const scope = scopeOf(body, signed?.claims);
  checkScope(deps, scope, body.evidence.kind === 'recorded-by-caseworker' ? body.evidence.reference : undefined, now);
  // Only a party to the consent records it (a recipient or a source): an outsider's record would
  // be one the parties had not made, and would give the outsider standing over it.
  const admin = caller.client.administration;
  if (!scope.recipients.includes(admin) && !scope.sources!.includes(admin)) throw new GatewayError('CONSENT_NOT_A_PARTY');
  const givenOn = signed ? copenhagenDate(new Date(signed.claims.givenAt)) : copenhagenDate(now);
  const { backdated } = checkBounds(deps, scope, givenOn);
  const subjects = deps.pseudonyms.all(body.cpr);
  const subject = subjects[0]!;
  const id = consentIdOf(signed?.claims);

  const recordedAt = now.toISOString();
  const recordedBy = actorOf(caller);
  const ev = body.evidence;
  const evidence: ConsentEvidenceRef =
    ev.kind === 'recorded-by-caseworker'
      ? { kind: 'recorded-by-caseworker', reference: ev.reference, form: ev.form }
      : {
          kind: 'citizen-signed',
          reference: `${signed!.claims.iss}/${signed!.claims.jti}`,
          artefact: {
            issuer: signed!.claims.iss,
            id: signed!.claims.jti,
            kid: signed!.kid,
            digest: signed!.digest,
            text: signed!.claims.text,
            givenAt: signed!.claims.givenAt,
          },
        };
  const givenBy: ConsentGiver = signed?.claims.givenBy ?? body.givenBy ?? { role: 'citizen' };

  const auditId = newAuditId();
  const f = { ...facts(deps, caller, auditId), subject };
  try {
    if (body.relation !== undefined) await checkRelation(deps, body.relation, subjects, scope, caller, now);
    if (signed && (await deps.consents.get(id)) !== undefined) throw new GatewayError('CONSENT_ARTEFACT_ALREADY_RECORDED');
  } catch (err) {
    throw err instanceof GatewayError ? await refusal(deps, f, err) : await registryFailure(deps, f, err);
  }
  const { receipt, digest } = await signReceipt(deps.signingKey, {
    v: 2,
    iss: deps.gatewayId,
    consentId: id,
    subject,
    scope,
    evidence,
    givenBy,
    ...(backdated ? { backdated } : {}),
    ...(body.relation !== undefined ? { relation: body.relation } : {}),
    recordedBy,
    recordedAt,
  });
  const consent: ConsentRecord = {
    id,
    subject,
    scope,
    evidence,
    recordedBy,
    givenBy,
    ...(backdated ? { backdated } : {}),
    ...(body.relation !== undefined ? { relation: body.relation } : {}),
    recordedAt,
    receipt,
    receiptDigest: digest,
  };

  const reasons = [
    CONSENT_AUDIT.recorded,
    ...(backdated ? [CONSENT_AUDIT.backdated] : []),
    ...(givenBy.role !== 'citizen' ? [CONSENT_AUDIT.representative] : []),
    ...(signed ? [`artefact-sha256=${signed.digest}`] : []),
    ...(body.relation !== undefined ? [`relation=${body.relation}`] : []),
  ];
  const withFacts = { ...f, consent: digest };
  await writeAudit(deps.trail, auditEntry('consent', { ...withFacts, reasons, status: 201 }), deps.observe);
  const given: ConsentEventRecord = { type: 'given', at: recordedAt, actor: recordedBy, auditId, reason: null };
  try {
    await deps.consents.add(consent, given);
  } catch (err) {
    // Two recordings of one artefact at once: the second loses on the primary key.
    const recordedMeanwhile = signed !== undefined && (await deps.consents.get(id).catch(() => undefined)) !== undefined;
    if (recordedMeanwhile) throw await refusal(deps, withFacts, new GatewayError('CONSENT_ARTEFACT_ALREADY_RECORDED'));
    throw await registryFailure(deps, withFacts, err);
  }
  return { consent: consentView({ consent, state: 'active', events: [given] }, now), auditId };
}

/**
 * POST /v1/consents/search: the citizen's consents the caller has standing for (hasStanding),
 * with their history. The search itself is audited (kind consent, CONSENT_SEARCH): it tells the
 * caller what the citizen agreed to.
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
  return { consents: stored.filter((s) => hasStanding(caller, s.consent)).map((s) => consentView(s, now)), auditId };
}

/**
 * POST /v1/consents/{id}/withdraw: the citizen withdraws a consent, through the administration
 * that recorded it or one that receives under it, or the DPO (hasStanding); for anyone else the
 * consent does not exist. The body names the citizen (cpr), so a wrong id cannot withdraw
 * another citizen's consent. A citizen-signed consent is also withdrawn by the citizen at the
 * consent service; the decision then sees it gone. The withdrawal is audited
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
  if (!stored || !subjects.includes(stored.consent.subject) || !hasStanding(caller, stored.consent))
    throw new GatewayError('CONSENT_NOT_FOUND');
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
  return refusal(deps, f, new GatewayError('CONSENT_REGISTRY_UNAVAILABLE', {}, { cause }));
}

/** Audits a refusal (best effort: the trail may be what failed) and hands it back to throw. */
async function refusal(deps: ConsentRegistryDeps, f: ExchangeFacts, err: GatewayError): Promise<GatewayError> {
  try {
    const auditId = newAuditId();
    await writeAudit(deps.trail, auditEntry('refusal', { ...f, auditId, reasons: [err.code], status: err.status }), deps.observe);
    err.auditId = auditId;
  } catch {
    // The trail is down too; the 503 stands on its own.
  }
  return err;
}
