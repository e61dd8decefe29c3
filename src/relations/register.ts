import { randomUUID } from 'node:crypto';
import { auditEntry, callerFacts, type ExchangeFacts, type TokenCaller } from '../audit/entry.js';
import { newAuditId } from '../audit/id.js';
import type { Pseudonymizer } from '../audit/pseudonym.js';
import { RELATION_AUDIT, RELATION_BACKDATED, relationReasons } from '../audit/reasons.js';
import type { AuditTrail } from '../audit/trail.js';
import { writeAudit, type AuditWriteObserver } from '../audit/write.js';
import { GatewayError, isGatewayError, type ErrorCode } from '../errors.js';
import { copenhagenDate, isCalendarDate } from '../policy/dates.js';
import type { Rules } from '../rules/types.js';
import { validateRelationBody, type EndRelationBody, type RegisterRelationBody, type SearchRelationsBody } from './requests.js';
import {
  VOIDING_END_REASON,
  type Relation,
  type RelationActor,
  type RelationEndReason,
  type RelationEvent,
  type RelationStore,
  type RelationWrite,
  type StoredRelation,
} from './types.js';

/** What the relations operations need from the gateway. */
export interface RelationsDeps {
  readonly relations: RelationStore;
  readonly trail: AuditTrail;
  readonly pseudonyms: Pseudonymizer;
  readonly rules: () => Rules;
  readonly observe?: AuditWriteObserver;
  /** config.relations: how far before today a relation may start (default DEFAULT_BACKDATE_DAYS). */
  readonly limits?: { readonly backdateDays: number };
}

/** The authenticated caller of a relations operation. */
export type RelationCaller = TokenCaller;

/** Whether a relation is in force on the day asked about: not yet, in force, over, or void (registered in error). */
export type RelationState = 'planned' | 'active' | 'ended' | 'voided';

/** A relation as the API shows it: no CPR number, no pseudonym. */
export interface RelationView {
  readonly id: string;
  readonly state: RelationState;
  readonly administration: string;
  readonly capacity: string;
  readonly caseRef: string;
  readonly caseworker: string | null;
  readonly from: string;
  readonly to: string | null;
  readonly endReason: RelationEndReason | null;
  readonly registeredAt: string;
  readonly updatedAt: string;
  readonly events: readonly RelationEvent[];
}

/** What a registration did: a new relation, a change of one, or nothing (the same body again). */
export type RegisterOutcome = 'registered' | 'changed' | 'unchanged';

const RELATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What a change can change; anything else (citizen, administration, case reference) is fixed. */
const CHANGEABLE = ['capacity', 'caseworker', 'from', 'to'] as const;
/** Default of config relations.backdateDays: how far before today a relation may start. */
export const DEFAULT_BACKDATE_DAYS = 365;
/** A relation starts at the latest this many days after today, and ends at the latest ten years after today. */
const MAX_START_AHEAD_DAYS = 366;
const MAX_END_AHEAD_YEARS = 10;

/** The last day worked out by todayAt, and the bounds of a relation's dates that follow from it. */
let memo:
  | {
      readonly minute: number;
      readonly day: string;
      readonly startLatest: string;
      readonly endLatest: string;
      readonly earliest: Map<number, string>;
    }
  | undefined;

/**
 * The Copenhagen day of `now` and the bounds on that day: the latest start, the latest end, and
 * (by backdateDays) the earliest new start. Remembered for the minute: the day changes only on a
 * whole minute (Copenhagen's offsets from UTC are whole hours), and working it out takes Intl's
 * time-zone arithmetic, which an import of many rows would pay on every row.
 */
function dayOf(now: Date): {
  readonly day: string;
  readonly startLatest: string;
  readonly endLatest: string;
  earliest(backdateDays: number): string;
} {
  const minute = Math.floor(now.getTime() / 60_000);
  if (memo?.minute !== minute) {
    const day = copenhagenDate(now);
    memo =
      memo?.day === day
        ? { ...memo, minute }
        : {
            minute,
            day,
            startLatest: addDays(day, MAX_START_AHEAD_DAYS),
            endLatest: addDays(day, 0, MAX_END_AHEAD_YEARS),
            earliest: new Map(),
          };
  }
  const m = memo;
  return {
    day: m.day,
    startLatest: m.startLatest,
    endLatest: m.endLatest,
    earliest(backdateDays) {
      let e = m.earliest.get(backdateDays);
      if (e === undefined) m.earliest.set(backdateDays, (e = addDays(m.day, -backdateDays)));
      return e;
    },
  };
}

/** The state of a relation on `day` (a Copenhagen date). A relation that ends before it starts is never in force. */
export function relationState(r: Pick<Relation, 'from' | 'to' | 'endReason'>, day: string): RelationState {
  if (r.endReason === VOIDING_END_REASON) return 'voided';
  if (r.to !== null && r.to < r.from) return 'ended';
  if (day < r.from) return 'planned';
  if (r.to !== null && r.to < day) return 'ended';
  return 'active';
}

/** A relation as the API shows it, with its state on the day of `now`. */
export function relationView(stored: StoredRelation, now: Date): RelationView {
  const r = stored.relation;
  return {
    id: r.id,
    state: relationState(r, dayOf(now).day),
    administration: r.administration,
    capacity: r.capacity,
    caseRef: r.caseRef,
    caseworker: r.caseworker,
    from: r.from,
    to: r.to,
    endReason: r.endReason,
    registeredAt: r.registeredAt,
    updatedAt: r.updatedAt,
    events: stored.events,
  };
}

/**
 * Who registers or ends a relation: the administration it is for, the roles of the system acting
 * (a capacity may require some), and the actor its events record. The API's is the calling case
 * system (registrantOf); the import tool's is its own system id (src/relations/import.ts).
 */
export interface RelationRegistrant {
  readonly administration: string;
  readonly roles: readonly string[];
  readonly actor: RelationActor;
}

/** The calling case system as the registrant: its administration and roles, and the token's caseworker. */
export function registrantOf(caller: RelationCaller): RelationRegistrant {
  return {
    administration: caller.client.administration,
    roles: caller.client.roles,
    actor: { system: caller.client.id, administration: caller.client.administration, caseworker: caller.token.caseworker },
  };
}

/**
 * What a registration or an end does, as the register's checks decide it: nothing (the same body
 * again), or one write with the reasons and status of its audit record. `stored` is the relation
 * with its history as it is (unchanged) or will be once the write is made.
 */
export type RelationPlan<Outcome extends string> =
  | { readonly outcome: 'unchanged'; readonly stored: StoredRelation }
  | {
      readonly outcome: Outcome;
      readonly stored: StoredRelation;
      readonly write: RelationWrite;
      readonly reasons: string[];
      readonly status: 200 | 201;
    };

/** What every record of the request holds; `caseRef` is the token's case (the relation's own is in the reasons as `case=`). */
function facts(deps: RelationsDeps, caller: RelationCaller, auditId: string): ExchangeFacts {
  return callerFacts(caller, deps.rules().policies, auditId);
}

/** A Copenhagen date `days` days (or `years` years) after `day`; both YYYY-MM-DD. */
export function addDays(day: string, days: number, years = 0): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y + years, m - 1, d + days)).toISOString().slice(0, 10);
}

function checkDates(from: string, to: string | undefined): void {
  const errors: { path: string; message: string }[] = [];
  if (!isCalendarDate(from)) errors.push({ path: '/from', message: 'must be a real calendar date, YYYY-MM-DD' });
  if (to !== undefined && !isCalendarDate(to)) errors.push({ path: '/to', message: 'must be a real calendar date, YYYY-MM-DD' });
  if (errors.length > 0) throw new GatewayError('REQUEST_INVALID', { errors: errors.slice(0, 1) });
}

/**
 * Audits a refusal of a relations request (kind refusal, without the citizen) with its context:
 * the code, then `relation=<id>` and `case=<the body's or relation's case reference>` once they
 * are known and checked; the record's caseRef stays the token's. The refusal is rethrown with its
 * audit id. A refusal already audited (the 503s) or AUDIT_UNAVAILABLE passes through.
 */
async function audited<T>(deps: RelationsDeps, base: ExchangeFacts, context: string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isGatewayError(err) && err.auditId === undefined && err.code !== 'AUDIT_UNAVAILABLE') {
      const auditId = newAuditId();
      await writeAudit(
        deps.trail,
        auditEntry('refusal', { ...base, auditId, subject: null, reasons: [err.code, ...context], status: err.status }),
        deps.observe,
      );
      err.auditId = auditId;
    }
    throw err;
  }
}

/**
 * POST /v1/relations: the caller's case system declares that its own administration serves the
 * citizen, in a capacity of the capacities registry open to its administration and roles, under
 * its own case reference, for a period. Registering a case reference again updates that relation
 * (idempotent: the same body changes nothing, and is audited as RELATION_UNCHANGED); a relation
 * ended or voided through endRelation cannot be changed or revived this way (RELATION_ENDED).
 * Checks, in order: the body, the administration (403), the capacity, the period and its bounds;
 * then the case reference within the caller's administration (409 if it names another citizen or
 * is spelt in other letter case). The change, with its version check, and its audit record (kind
 * relation) are one commit: see `storeRelation`. The CPR number is not kept.
 */
export async function registerRelation(
  deps: RelationsDeps,
  caller: RelationCaller,
  rawBody: unknown,
  now: Date = new Date(),
): Promise<{ relation: RelationView; auditId: string; outcome: RegisterOutcome }> {
  const body = validateRelationBody<RegisterRelationBody>('register', rawBody);
  const base = facts(deps, caller, newAuditId());
  return audited(deps, base, [`case=${body.caseRef}`], async () => {
    const who = registrantOf(caller);
    checkRegistration(deps.rules(), who, body, now);
    const existing = await read(deps, base, () => deps.relations.byCaseRef(who.administration, body.caseRef));
    const plan = planRegistration(deps, who, body, existing, now, base.auditId);
    if (plan.outcome === 'unchanged') return { ...(await unchanged(deps, base, plan.stored, now)), outcome: 'unchanged' };
    await storeRelation(deps, base, plan.write, plan.reasons, plan.status);
    return { relation: relationView(plan.stored, now), auditId: base.auditId, outcome: plan.outcome };
  });
}

/**
 * The checks of a registration that need no store read, in order: the administration (a body
 * naming another one), the capacity (known, open to the administration and the registrant's
 * roles), the dates (real, in order, within the bounds ahead). Throws the refusal.
 */
export function checkRegistration(rules: Rules, who: RelationRegistrant, body: RegisterRelationBody, now: Date): void {
  if (body.administration !== undefined && body.administration !== who.administration)
    throw new GatewayError('RELATION_ADMINISTRATION_FORBIDDEN');
  const capacities = rules.capacities;
  if (!capacities.capacities.has(body.capacity)) throw new GatewayError('RELATION_CAPACITY_UNKNOWN');
  if (!capacities.allows(body.capacity, who.administration, who.roles)) throw new GatewayError('RELATION_CAPACITY_NOT_YOURS');
  checkDates(body.from, body.to);
  if (body.to !== undefined && body.to < body.from) throw new GatewayError('RELATION_PERIOD_INVALID');
  const bounds = dayOf(now);
  if (body.from > bounds.startLatest || (body.to !== undefined && body.to > bounds.endLatest))
    throw new GatewayError('RELATION_DATE_OUT_OF_RANGE');
}

/**
 * Decides a registration that passed checkRegistration against what the registrant's
 * administration holds under the case reference (`existing`, from RelationStore.byCaseRef):
 * refused if it is spelt in other letter case or names another citizen; unchanged if nothing
 * changes; refused if the relation was ended through /end; otherwise a new relation or a change
 * (the backdating bound holds for a start that is new or moved), with its event under `auditId`.
 */
export function planRegistration(
  deps: Pick<RelationsDeps, 'pseudonyms' | 'limits'>,
  who: RelationRegistrant,
  body: RegisterRelationBody,
  existing: StoredRelation | undefined,
  now: Date,
  auditId: string,
): RelationPlan<'registered' | 'changed'> {
  // The citizen under every pseudonym key, the current one first (Pseudonymizer.all).
  const subjects = deps.pseudonyms.all(body.cpr);
  const subject = subjects[0]!;
  if (existing !== undefined && existing.relation.caseRef !== body.caseRef) throw new GatewayError('RELATION_CASE_REF_SPELLING');
  if (existing !== undefined && !subjects.includes(existing.relation.subject)) throw new GatewayError('RELATION_CASE_REF_OTHER_CITIZEN');

  const bounds = dayOf(now);
  const today = bounds.day;
  const at = now.toISOString();
  const old = existing?.relation;
  const wanted = {
    capacity: body.capacity,
    caseworker: body.caseworker ?? null,
    from: body.from,
    to: body.to ?? (old !== undefined && old.endReason !== null ? old.to : null),
  };
  const changed = old === undefined ? [] : CHANGEABLE.filter((k) => old[k] !== wanted[k]);
  if (existing !== undefined && changed.length === 0) return { outcome: 'unchanged', stored: existing };
  // Ended or voided through /end: not changed, not revived; a new case reference is a new relation.
  if (old !== undefined && old.endReason !== null) throw new GatewayError('RELATION_ENDED');
  // The backdating bound holds for a start that is new; a stored one stays as it was accepted.
  const backdated = (old === undefined || changed.includes('from')) && body.from < today;
  if (backdated && body.from < bounds.earliest(deps.limits?.backdateDays ?? DEFAULT_BACKDATE_DAYS))
    throw new GatewayError('RELATION_DATE_OUT_OF_RANGE');

  const relation: Relation =
    old === undefined
      ? {
          id: randomUUID(),
          subject,
          administration: who.administration,
          caseRef: body.caseRef,
          ...wanted,
          endReason: null,
          version: 1,
          registeredAt: at,
          updatedAt: at,
        }
      : // Re-keyed to the current pseudonym (the stored one may be under a key rotated since).
        { ...old, ...wanted, subject, version: old.version + 1, updatedAt: at };
  const code = old === undefined ? RELATION_AUDIT.registered : RELATION_AUDIT.changed;
  const event: RelationEvent = {
    type: old === undefined ? 'registered' : 'changed',
    at,
    actor: who.actor,
    auditId,
    changed,
    reason: null,
  };
  return {
    outcome: old === undefined ? 'registered' : 'changed',
    stored: { relation, events: [...(existing?.events ?? []), event] },
    write: { relation, event, expectedVersion: old?.version ?? 0, priorSubjects: subjects },
    reasons: relationReasons(code, relation, [...changed.map((c) => `changed=${c}`), ...(backdated ? [RELATION_BACKDATED] : [])]),
    status: old === undefined ? 201 : 200,
  };
}

/**
 * POST /v1/relations/{id}/end: the caller's administration no longer serves the citizen after
 * `to`. Only the administration's own relation can be ended: any other id, whoever holds it, is
 * RELATION_NOT_FOUND, so that nothing is learnt about other administrations. An end only shortens
 * the period: `to` at the latest the current end (RELATION_END_LATER), at the earliest the day
 * before the start (never in force; RELATION_PERIOD_INVALID). Reason `recorded-in-error` voids the
 * relation: never in force, whatever its dates (`to` then defaults to the day before the start);
 * an ended relation can still be voided. The same end again changes nothing (audited as
 * RELATION_UNCHANGED); another end of an ended relation is RELATION_ALREADY_ENDED. Stored and
 * audited in one commit; from the next request on, at every gateway instance, the relation is not in force after
 * `to` (if voided, not at all).
 */
export async function endRelation(
  deps: RelationsDeps,
  caller: RelationCaller,
  id: string,
  rawBody: unknown,
  now: Date = new Date(),
): Promise<{ relation: RelationView; auditId: string; outcome: 'ended' | 'unchanged' }> {
  const body = validateRelationBody<EndRelationBody>('end', rawBody);
  if (!RELATION_ID.test(id)) throw new GatewayError('RELATION_NOT_FOUND');
  const base = facts(deps, caller, newAuditId());
  const context = [`relation=${id}`];
  return audited(deps, base, context, async () => {
    const who = registrantOf(caller);
    const stored = await read(deps, base, () => deps.relations.get(id));
    if (stored === undefined || stored.relation.administration !== who.administration) throw new GatewayError('RELATION_NOT_FOUND');
    context.push(`case=${stored.relation.caseRef}`);
    const plan = planEnd(who, stored, body, now, base.auditId);
    if (plan.outcome === 'unchanged') return { ...(await unchanged(deps, base, plan.stored, now)), outcome: 'unchanged' as const };
    await storeRelation(deps, base, plan.write, plan.reasons, plan.status);
    return { relation: relationView(plan.stored, now), auditId: base.auditId, outcome: 'ended' as const };
  });
}

/**
 * Decides an end of `stored`, a relation of the registrant's administration (any other is
 * RELATION_NOT_FOUND): unchanged if the same end was recorded before; refused if another end was
 * (unless this one voids an ended relation), if `to` is before the day before the start, after
 * the current end, or beyond the bound ahead; otherwise the end, with its event under `auditId`
 * and `more` after the end reason in its record's reasons.
 */
export function planEnd(
  who: RelationRegistrant,
  stored: StoredRelation,
  body: EndRelationBody,
  now: Date,
  auditId: string,
  more: readonly string[] = [],
): RelationPlan<'ended'> {
  const old = stored.relation;
  if (old.administration !== who.administration) throw new GatewayError('RELATION_NOT_FOUND');
  const reason = body.reason ?? 'case-closed';
  const to = body.to ?? addDays(old.from, -1);
  checkDates(old.from, to);
  if (old.endReason !== null) {
    if (old.to === to && old.endReason === reason) return { outcome: 'unchanged', stored };
    // An ended relation can still be voided; a voided one stays as it is.
    if (old.endReason === VOIDING_END_REASON || reason !== VOIDING_END_REASON) throw new GatewayError('RELATION_ALREADY_ENDED');
  }
  if (to < addDays(old.from, -1)) throw new GatewayError('RELATION_PERIOD_INVALID');
  if (old.to !== null && to > old.to) throw new GatewayError('RELATION_END_LATER');
  if (to > dayOf(now).endLatest) throw new GatewayError('RELATION_DATE_OUT_OF_RANGE');
  const at = now.toISOString();
  const relation: Relation = { ...old, to, endReason: reason, version: old.version + 1, updatedAt: at };
  const event: RelationEvent = { type: 'ended', at, actor: who.actor, auditId, changed: [], reason };
  return {
    outcome: 'ended',
    stored: { relation, events: [...stored.events, event] },
    write: { relation, event, expectedVersion: old.version, priorSubjects: [old.subject] },
    reasons: relationReasons(RELATION_AUDIT.ended, relation, [reason, ...more]),
    status: 200,
  };
}

/** The same registration or end again: nothing changes, and that it was sent again is audited (RELATION_UNCHANGED). */
async function unchanged(
  deps: RelationsDeps,
  base: ExchangeFacts,
  stored: StoredRelation,
  now: Date,
): Promise<{ relation: RelationView; auditId: string }> {
  const r = stored.relation;
  await writeAudit(
    deps.trail,
    auditEntry('relation', { ...base, subject: r.subject, reasons: relationReasons(RELATION_AUDIT.unchanged, r), status: 200 }),
    deps.observe,
  );
  return { relation: relationView(stored, now), auditId: base.auditId };
}

/**
 * POST /v1/relations/search: relations by citizen and/or case reference. A case system sees only
 * its own administration's relations (another administration's are never returned, nor counted);
 * a client with the role `dpo` sees all. The search is audited (kind relation, RELATION_SEARCH)
 * before the answer.
 */
export async function searchRelations(
  deps: RelationsDeps,
  caller: RelationCaller,
  rawBody: unknown,
  now: Date = new Date(),
): Promise<{ relations: RelationView[]; auditId: string }> {
  const body = validateRelationBody<SearchRelationsBody>('search', rawBody);
  if (body.cpr === undefined && body.caseRef === undefined)
    throw new GatewayError('REQUEST_INVALID', { errors: [{ path: '/', message: 'give "cpr" and/or "caseRef"' }] });
  const subjects = body.cpr === undefined ? undefined : deps.pseudonyms.all(body.cpr);
  const dpo = caller.client.roles.includes('dpo');
  const base = facts(deps, caller, newAuditId());
  const found = await read(deps, base, () =>
    deps.relations.search({
      ...(subjects !== undefined ? { subjects } : {}),
      ...(body.caseRef !== undefined ? { caseRef: body.caseRef } : {}),
      ...(dpo ? {} : { administrations: [caller.client.administration] }),
    }),
  );
  const subject = subjects?.[0] ?? found[0]?.relation.subject ?? null;
  const reasons = [RELATION_AUDIT.searched, ...(body.caseRef !== undefined ? [`case=${body.caseRef}`] : [])];
  await writeAudit(deps.trail, auditEntry('relation', { ...base, subject, reasons, status: 200 }), deps.observe);
  return { relations: found.map((s) => relationView(s, now)), auditId: base.auditId };
}

/**
 * Stores the change and its audit record (kind relation) in one commit, before the answer: the
 * relation write rides on the audit append (AppendOptions.relation). The write carries the
 * version check, so the trail says "registered", "changed" or "ended" only for the write that
 * won: a concurrent request that lost writes nothing, neither relation nor record, and is refused
 * with RELATION_CHANGED_MEANWHILE (audited as a refusal by `audited`). If the commit fails,
 * nothing of it is stored and the caller gets 503 AUDIT_UNAVAILABLE.
 */
export async function storeRelation(
  deps: Pick<RelationsDeps, 'trail' | 'observe'>,
  base: ExchangeFacts,
  write: RelationWrite,
  reasons: string[],
  status: number,
): Promise<void> {
  await writeAudit(deps.trail, auditEntry('relation', { ...base, subject: write.relation.subject, reasons, status }), deps.observe, {
    relation: write,
  });
}

async function read<T>(deps: RelationsDeps, f: ExchangeFacts, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw await registerFailure(deps, f, err);
  }
}

/**
 * The register could not read or write: the refusal is audited (best effort: the trail may be
 * what failed) and the caller gets 503 RELATION_REGISTER_UNAVAILABLE.
 */
async function registerFailure(deps: RelationsDeps, f: ExchangeFacts, cause: unknown): Promise<GatewayError> {
  const code: ErrorCode = 'RELATION_REGISTER_UNAVAILABLE';
  const err = new GatewayError(code, {}, { cause });
  try {
    const auditId = newAuditId();
    await writeAudit(deps.trail, auditEntry('refusal', { ...f, auditId, reasons: [code], status: err.status }), deps.observe);
    err.auditId = auditId;
  } catch {
    // The trail is down too; the 503 stands on its own.
  }
  return err;
}
