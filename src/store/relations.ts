import {
  MAX_RELATIONS_PER_SEARCH,
  type AdministrationCombination,
  type Relation,
  type RelationEvent,
  type RelationWrite,
  type ShortLivedQuery,
  type StoredRelation,
} from '../relations/types.js';
import { PSEUDONYM } from '../audit/pseudonym.js';
import { canonicalJson } from '../lib/digest.js';

/** The relation columns, as both dialects store them. */
export interface RelationRow {
  readonly id: string;
  readonly subject: string;
  readonly administration: string;
  readonly capacity: string;
  readonly case_ref: string;
  readonly caseworker: string | null;
  readonly valid_from: string;
  readonly valid_to: string | null;
  readonly end_reason: string | null;
  readonly version: number;
  readonly registered_at: string;
  readonly updated_at: string;
}

export interface RelationEventRow {
  readonly relation_id: string;
  readonly seq: number;
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly audit_id: string;
  readonly changed: string;
  readonly reason: string | null;
}

export const RELATION_COLUMNS = [
  'id',
  'subject',
  'administration',
  'capacity',
  'case_ref',
  'caseworker',
  'valid_from',
  'valid_to',
  'end_reason',
  'version',
  'registered_at',
  'updated_at',
] as const;
export const RELATION_EVENT_COLUMNS = ['relation_id', 'seq', 'type', 'at', 'actor', 'audit_id', 'changed', 'reason'] as const;

export function toRelationRow(r: Relation): RelationRow {
  return {
    id: r.id,
    subject: r.subject,
    administration: r.administration,
    capacity: r.capacity,
    case_ref: r.caseRef,
    caseworker: r.caseworker,
    valid_from: r.from,
    valid_to: r.to,
    end_reason: r.endReason,
    version: r.version,
    registered_at: r.registeredAt,
    updated_at: r.updatedAt,
  };
}

export function fromRelationRow(r: RelationRow): Relation {
  return {
    id: r.id,
    subject: r.subject,
    administration: r.administration,
    capacity: r.capacity,
    caseRef: r.case_ref,
    caseworker: r.caseworker ?? null,
    from: r.valid_from,
    to: r.valid_to ?? null,
    endReason: (r.end_reason ?? null) as Relation['endReason'],
    version: Number(r.version),
    registeredAt: r.registered_at,
    updatedAt: r.updated_at,
  };
}

export function toRelationEventRow(relationId: string, seq: number, e: RelationEvent): RelationEventRow {
  return {
    relation_id: relationId,
    seq,
    type: e.type,
    at: e.at,
    actor: canonicalJson(e.actor),
    audit_id: e.auditId,
    changed: JSON.stringify(e.changed),
    reason: e.reason,
  };
}

function fromEventRow(r: RelationEventRow): RelationEvent {
  return {
    type: r.type as RelationEvent['type'],
    at: r.at,
    actor: JSON.parse(r.actor) as RelationEvent['actor'],
    auditId: r.audit_id,
    changed: JSON.parse(r.changed) as string[],
    reason: (r.reason ?? null) as RelationEvent['reason'],
  };
}

/** Joins relation rows with their event rows (any order) into stored relations, keeping the rows' order. */
export function assembleRelations(rows: readonly RelationRow[], events: readonly RelationEventRow[]): StoredRelation[] {
  const byRelation = new Map<string, RelationEventRow[]>();
  for (const e of events) {
    const list = byRelation.get(e.relation_id);
    if (list) list.push(e);
    else byRelation.set(e.relation_id, [e]);
  }
  return rows.map((r) => ({
    relation: fromRelationRow(r),
    events: (byRelation.get(r.id) ?? []).sort((a, b) => Number(a.seq) - Number(b.seq)).map(fromEventRow),
  }));
}

const DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/** Refuses values that are not what a caller of the store may pass (programming mistakes). */
export function checkRelationSave(r: Relation, event: RelationEvent, expectedVersion: number, priorSubjects: readonly string[]): void {
  if (typeof r?.id !== 'string' || r.id.length === 0) throw new TypeError('RelationStore.save: relation id is required');
  if (typeof r.subject !== 'string' || !PSEUDONYM.test(r.subject)) throw new TypeError('RelationStore.save: subject must be a pseudonym');
  if (
    !Array.isArray(priorSubjects) ||
    priorSubjects.length === 0 ||
    !priorSubjects.every((s) => typeof s === 'string' && PSEUDONYM.test(s))
  )
    throw new TypeError('RelationStore.save: priorSubjects must be pseudonyms');
  if (!DAY.test(r.from) || (r.to !== null && !DAY.test(r.to))) throw new TypeError('RelationStore.save: from and to must be YYYY-MM-DD');
  if (!Number.isInteger(expectedVersion) || expectedVersion < 0 || r.version !== expectedVersion + 1)
    throw new TypeError('RelationStore.save: the relation must be one version after expectedVersion');
  if ((expectedVersion === 0) !== (event?.type === 'registered'))
    throw new TypeError('RelationStore.save: a new relation starts with "registered", and only a new one');
}

/** Refuses a page request (RelationStore.byAdministration) that is not what a caller may pass. */
export function checkPageQuery(administration: string, after: string | undefined, limit: number, max: number): void {
  if (typeof administration !== 'string' || administration.length === 0)
    throw new TypeError('RelationStore.byAdministration: administration is required');
  if (after !== undefined && typeof after !== 'string') throw new TypeError('RelationStore.byAdministration: after is a case reference');
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new TypeError(`RelationStore.byAdministration: limit must be a whole number from 1 to ${max}`);
}

/** Refuses a read of many case references (RelationStore.byCaseRefs) that is not what a caller may pass. */
export function checkCaseRefsQuery(administration: string, caseRefs: readonly string[], max: number): void {
  if (typeof administration !== 'string' || administration.length === 0)
    throw new TypeError('RelationStore.byCaseRefs: administration is required');
  if (!Array.isArray(caseRefs) || caseRefs.length > max || !caseRefs.every((r) => typeof r === 'string'))
    throw new TypeError(`RelationStore.byCaseRefs: caseRefs must be at most ${max} strings`);
}

/** Refuses a need-to-know read that is not what a caller may pass. */
export function checkActiveQuery(subjects: readonly string[], administrations: readonly string[], day: string): void {
  if (!Array.isArray(subjects) || !Array.isArray(administrations))
    throw new TypeError('RelationStore.active: subjects and administrations are arrays');
  if (!DAY.test(day)) throw new TypeError('RelationStore.active: day must be YYYY-MM-DD');
}

/**
 * The positions of `writes` in the order a transaction takes their rows' locks: by administration
 * and case reference (the relation's unique key, compared without letter case), so that two
 * commits writing the same relations never wait for each other in opposite orders (a deadlock).
 */
export function lockOrder(writes: readonly RelationWrite[]): number[] {
  const key = (w: RelationWrite) => `${w.relation.administration}\u0000${w.relation.caseRef.toLowerCase()}`;
  return writes.map((_, i) => i).sort((a, b) => (key(writes[a]!) < key(writes[b]!) ? -1 : key(writes[a]!) > key(writes[b]!) ? 1 : a - b));
}

/** Refuses a short-lived read that is not what a caller may pass; answers the limit to use. */
export function checkShortLivedQuery(q: ShortLivedQuery): number {
  for (const t of [q?.endedFrom, q?.endedTo])
    if (typeof t !== 'string' || Number.isNaN(Date.parse(t)))
      throw new TypeError('RelationStore.shortLived: endedFrom and endedTo are ISO times');
  if (!Number.isFinite(q.withinMs) || q.withinMs < 0) throw new TypeError('RelationStore.shortLived: withinMs is a duration');
  if (!Number.isInteger(q.limit) || q.limit < 1) throw new TypeError('RelationStore.shortLived: limit is a positive integer');
  return Math.min(q.limit, MAX_RELATIONS_PER_SEARCH);
}

/** Refuses a shared-citizens read without a Copenhagen day. */
export function checkDay(method: string, day: string): void {
  if (typeof day !== 'string' || !DAY.test(day)) throw new TypeError(`RelationStore.${method}: day must be YYYY-MM-DD`);
}

/**
 * The answer of a shared-citizens query: each row names its administrations as one text joined
 * by commas (administration ids hold none); they are sorted again here and equal combinations
 * summed, so that the answer does not rest on the order in which a dialect aggregates.
 */
export function combinations(rows: readonly { administrations: string; citizens: number | string }[]): AdministrationCombination[] {
  const byKey = new Map<string, { administrations: string[]; citizens: number }>();
  for (const row of rows) {
    const administrations = [...new Set(row.administrations.split(','))].sort();
    const key = administrations.join(',');
    const entry = byKey.get(key) ?? { administrations, citizens: 0 };
    entry.citizens += Number(row.citizens);
    byKey.set(key, entry);
  }
  return [...byKey.values()].sort(
    (a, b) =>
      b.citizens - a.citizens ||
      a.administrations.length - b.administrations.length ||
      (a.administrations.join('+') < b.administrations.join('+') ? -1 : 1),
  );
}
