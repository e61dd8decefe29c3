import { randomUUID } from 'node:crypto';
import type { Client } from '../auth/clients.js';
import type { RequestToken } from '../auth/token.js';
import { auditEntry, type ExchangeFacts } from '../audit/entry.js';
import { newAuditId } from '../audit/id.js';
import type { Pseudonymizer } from '../audit/pseudonym.js';
import { RELATION_AUDIT, relationReasons } from '../audit/reasons.js';
import type { AuditTrail } from '../audit/trail.js';
import { writeAudit, type AuditWriteObserver } from '../audit/write.js';
import { GatewayError, type ErrorCode } from '../errors.js';
import { copenhagenDate, isCalendarDate } from '../policy/dates.js';
import type { Rules } from '../rules/types.js';
import { validateRelationBody, type EndRelationBody, type RegisterRelationBody, type SearchRelationsBody } from './requests.js';
import type { Relation, RelationActor, RelationEndReason, RelationEvent, RelationStore, StoredRelation } from './types.js';

/** What the relations operations need from the gateway. */
export interface RelationsDeps {
  readonly relations: RelationStore;
  readonly trail: AuditTrail;
  readonly pseudonyms: Pseudonymizer;
  readonly rules: () => Rules;
  readonly observe?: AuditWriteObserver;
}

/** The authenticated caller of a relations operation. */
export interface RelationCaller {
  readonly requestId: string;
  readonly client: Client;
  readonly token: RequestToken;
}

/** Whether a relation is in force on the day asked about: not yet, in force, or over. */
export type RelationState = 'planned' | 'active' | 'ended';

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

/** The state of a relation on `day` (a Copenhagen date). */
export function relationState(r: Pick<Relation, 'from' | 'to'>, day: string): RelationState {
  if (day < r.from) return 'planned';
  if (r.to !== null && r.to < day) return 'ended';
  return 'active';
}

/** A relation as the API shows it, with its state on the day of `now`. */
export function relationView(stored: StoredRelation, now: Date): RelationView {
  const r = stored.relation;
  return {
    id: r.id,
    state: relationState(r, copenhagenDate(now)),
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

function actorOf(caller: RelationCaller): RelationActor {
  return { system: caller.client.id, administration: caller.client.administration, caseworker: caller.token.caseworker };
}

function facts(deps: RelationsDeps, caller: RelationCaller, auditId: string): ExchangeFacts {
  const rules = deps.rules();
  return {
    auditId,
    requestId: caller.requestId,
    caller: { system: caller.client.id, administration: caller.client.administration },
    caseworker: caller.token.caseworker,
    caseRef: caller.token.caseRef,
    purpose: rules.policies.purposes.has(caller.token.purpose) ? caller.token.purpose : null,
    tokenDigest: caller.token.digest,
    policySet: rules.policies.digest,
  };
}

function checkDates(from: string, to: string | undefined): void {
  const errors: { path: string; message: string }[] = [];
  if (!isCalendarDate(from)) errors.push({ path: '/from', message: 'must be a real calendar date, YYYY-MM-DD' });
  if (to !== undefined && !isCalendarDate(to)) errors.push({ path: '/to', message: 'must be a real calendar date, YYYY-MM-DD' });
  if (errors.length > 0) throw new GatewayError('REQUEST_INVALID', { errors });
  if (to !== undefined && to < from) throw new GatewayError('RELATION_PERIOD_INVALID');
}

/**
 * POST /v1/relations: the caller's case system declares that its own administration serves the
 * citizen, in a capacity of the capacities registry, under its own case reference, for a period.
 * Registering a case reference again updates that relation (idempotent: the same body changes
 * nothing and answers the same relation; an end recorded through endRelation stays unless the
 * body names a new `to`). Checks, in order, so that nothing is learnt about other administrations
 * before the caller's own input is right: the body, the administration (403), the capacity, the
 * period; then the case reference (409 if another administration or another citizen holds it).
 * The change is audited (kind relation) before it is stored; the CPR number is not kept.
 */
export async function registerRelation(
  deps: RelationsDeps,
  caller: RelationCaller,
  rawBody: unknown,
  now: Date = new Date(),
): Promise<{ relation: RelationView; auditId: string; outcome: RegisterOutcome }> {
  const body = validateRelationBody<RegisterRelationBody>('register', rawBody);
  const administration = caller.client.administration;
  if (body.administration !== undefined && body.administration !== administration)
    throw new GatewayError('RELATION_ADMINISTRATION_FORBIDDEN');
  const capacities = deps.rules().capacities;
  if (!capacities.capacities.has(body.capacity)) throw new GatewayError('RELATION_CAPACITY_UNKNOWN');
  if (!capacities.allows(body.capacity, administration)) throw new GatewayError('RELATION_CAPACITY_NOT_YOURS');
  checkDates(body.from, body.to);

  const subjects = deps.pseudonyms.all(body.cpr);
  const base = facts(deps, caller, newAuditId());
  const existing = await read(deps, { ...base, caseRef: body.caseRef }, () => deps.relations.byCaseRef(body.caseRef));
  if (existing !== undefined && existing.relation.administration !== administration) throw new GatewayError('RELATION_CASE_REF_TAKEN');
  if (existing !== undefined && !subjects.includes(existing.relation.subject)) throw new GatewayError('RELATION_CASE_REF_OTHER_CITIZEN');

  const at = now.toISOString();
  const old = existing?.relation;
  const wanted = {
    capacity: body.capacity,
    caseworker: body.caseworker ?? null,
    from: body.from,
    to: body.to ?? (old !== undefined && old.endReason !== null ? old.to : null),
  };
  const changed = old === undefined ? [] : CHANGEABLE.filter((k) => old[k] !== wanted[k]);
  if (existing !== undefined && changed.length === 0) {
    const last = existing.events[existing.events.length - 1];
    return { relation: relationView(existing, now), auditId: last?.auditId ?? '', outcome: 'unchanged' };
  }
  const relation: Relation =
    old === undefined
      ? {
          id: randomUUID(),
          subject: deps.pseudonyms.pseudonym(body.cpr),
          administration,
          caseRef: body.caseRef,
          ...wanted,
          endReason: null,
          version: 1,
          registeredAt: at,
          updatedAt: at,
        }
      : { ...old, ...wanted, version: old.version + 1, updatedAt: at };
  const code = old === undefined ? RELATION_AUDIT.registered : RELATION_AUDIT.changed;
  const event: RelationEvent = {
    type: old === undefined ? 'registered' : 'changed',
    at,
    actor: actorOf(caller),
    auditId: base.auditId,
    changed,
    reason: null,
  };
  const reasons = relationReasons(
    code,
    relation,
    changed.map((c) => `changed=${c}`),
  );
  await store(deps, base, relation, event, old?.version ?? 0, reasons, old === undefined ? 201 : 200);
  return {
    relation: relationView({ relation, events: [...(existing?.events ?? []), event] }, now),
    auditId: base.auditId,
    outcome: old === undefined ? 'registered' : 'changed',
  };
}

/**
 * POST /v1/relations/{id}/end: the caller's administration no longer serves the citizen after
 * `to`. Only the administration's own relation can be ended: any other id, whoever holds it, is
 * RELATION_NOT_FOUND, so that nothing is learnt about other administrations. The same end again
 * changes nothing; another end of an ended relation is RELATION_ALREADY_ENDED. Audited before it
 * is stored; from the next request on, at every gateway instance, the relation is not in force
 * after `to`.
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
  const stored = await read(deps, base, () => deps.relations.get(id));
  if (stored === undefined || stored.relation.administration !== caller.client.administration) throw new GatewayError('RELATION_NOT_FOUND');
  const old = stored.relation;
  checkDates(old.from, body.to);
  const reason = body.reason ?? 'case-closed';
  if (old.endReason !== null) {
    if (old.to === body.to && old.endReason === reason) {
      const last = stored.events[stored.events.length - 1];
      return { relation: relationView(stored, now), auditId: last?.auditId ?? '', outcome: 'unchanged' };
    }
    throw new GatewayError('RELATION_ALREADY_ENDED');
  }
  const at = now.toISOString();
  const relation: Relation = { ...old, to: body.to, endReason: reason, version: old.version + 1, updatedAt: at };
  const event: RelationEvent = { type: 'ended', at, actor: actorOf(caller), auditId: base.auditId, changed: [], reason };
  await store(
    deps,
    { ...base, caseRef: old.caseRef },
    relation,
    event,
    old.version,
    relationReasons(RELATION_AUDIT.ended, relation, [reason]),
    200,
  );
  return { relation: relationView({ relation, events: [...stored.events, event] }, now), auditId: base.auditId, outcome: 'ended' };
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
  const base = { ...facts(deps, caller, newAuditId()), ...(body.caseRef !== undefined ? { caseRef: body.caseRef } : {}) };
  const found = await read(deps, base, () =>
    deps.relations.search({
      ...(subjects !== undefined ? { subjects } : {}),
      ...(body.caseRef !== undefined ? { caseRef: body.caseRef } : {}),
      ...(dpo ? {} : { administrations: [caller.client.administration] }),
    }),
  );
  const subject = subjects?.[0] ?? found[0]?.relation.subject ?? null;
  await writeAudit(deps.trail, auditEntry('relation', { ...base, subject, reasons: [RELATION_AUDIT.searched], status: 200 }), deps.observe);
  return { relations: found.map((s) => relationView(s, now)), auditId: base.auditId };
}

/** Audits the change (before anything is stored), then stores it; a concurrent change wins and this one is refused. */
async function store(
  deps: RelationsDeps,
  base: ExchangeFacts,
  relation: Relation,
  event: RelationEvent,
  expectedVersion: number,
  reasons: string[],
  status: number,
): Promise<void> {
  const f = { ...base, subject: relation.subject, caseRef: relation.caseRef };
  await writeAudit(deps.trail, auditEntry('relation', { ...f, reasons, status }), deps.observe);
  let outcome: Awaited<ReturnType<RelationStore['save']>>;
  try {
    outcome = await deps.relations.save(relation, event, expectedVersion);
  } catch (err) {
    throw await registerFailure(deps, f, err);
  }
  if (outcome === 'conflict') throw Object.assign(new GatewayError('RELATION_CHANGED_MEANWHILE'), { auditId: base.auditId });
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
