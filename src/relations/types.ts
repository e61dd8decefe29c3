import { CodedError } from '../errors.js';

/**
 * The relations register: which administration serves which citizen, in which capacity, for
 * which period. A case system declares it for its own administration only; a relation is what
 * a policy with a `relation:` clause, and notification routing, require before data about the
 * citizen reaches an administration (need to know).
 */

/** Who did something to a relation: the case system, its administration and the caseworker of the token. */
export interface RelationActor {
  readonly system: string;
  readonly administration: string;
  readonly caseworker: string | null;
}

/** Why a relation ended (POST /v1/relations/{id}/end); the same words are in the audit record. */
export type RelationEndReason = 'case-closed' | 'transferred' | 'deceased-or-moved' | 'recorded-in-error' | 'other';

/**
 * A relation as the register keeps it. The citizen appears only as `subject`, the keyed pseudonym
 * of the CPR number (the same one the audit trail uses): the register holds no CPR number. Dates
 * are Copenhagen calendar dates (YYYY-MM-DD), both inclusive; `to` null means open-ended.
 */
export interface Relation {
  readonly id: string;
  readonly subject: string;
  readonly administration: string;
  readonly capacity: string;
  /**
   * The administration's own case reference (never a CPR number): one relation per reference
   * within the administration, compared without regard to upper and lower case; other
   * administrations' references are theirs.
   */
  readonly caseRef: string;
  /** The responsible caseworker's id, if the case system named one (never a CPR number). */
  readonly caseworker: string | null;
  readonly from: string;
  readonly to: string | null;
  /**
   * Why it ended, once an end was recorded through POST /v1/relations/{id}/end. `recorded-in-error`
   * voids the relation: it is never in force, whatever its dates.
   */
  readonly endReason: RelationEndReason | null;
  /** 1 when registered, +1 on every change or end: a write names the version it read. */
  readonly version: number;
  /** ISO 8601 UTC. */
  readonly registeredAt: string;
  /** ISO 8601 UTC of the last registration, change or end. */
  readonly updatedAt: string;
}

/** A stored event in a relation's history: who did what, when, under which audit record. */
export interface RelationEvent {
  readonly type: 'registered' | 'changed' | 'ended';
  /** ISO 8601 UTC. */
  readonly at: string;
  readonly actor: RelationActor;
  /** The audit record of the event. */
  readonly auditId: string;
  /** For `changed`: the names of what changed (capacity, caseworker, from, to); empty otherwise. */
  readonly changed: readonly string[];
  readonly reason: RelationEndReason | null;
}

/** A relation with its history, oldest event first. */
export interface StoredRelation {
  readonly relation: Relation;
  readonly events: readonly RelationEvent[];
}

/** What a search reads: by citizen (any of its pseudonyms) and/or case reference, within administrations. */
export interface RelationSearch {
  readonly subjects?: readonly string[];
  readonly caseRef?: string;
  /** Only relations of these administrations; undefined: all (the DPO). */
  readonly administrations?: readonly string[];
}

/** The end reason that voids a relation: registered in error, never in force whatever its dates. */
export const VOIDING_END_REASON = 'recorded-in-error' satisfies RelationEndReason;

/** What a save did: stored, or nothing because another write got there first (the version or the case reference is taken). */
export type RelationSaveOutcome = 'saved' | 'conflict';

/**
 * A relation to store together with its event, as RelationStore.save takes it, or as it rides on
 * an audit append (AuditStore.append) so that the relation and its audit record are one commit.
 */
export interface RelationWrite {
  readonly relation: Relation;
  readonly event: RelationEvent;
  /** 0: insert a new relation; otherwise the version the writer read. */
  readonly expectedVersion: number;
  /** The pseudonyms the stored relation may be under (default: relation.subject). */
  readonly priorSubjects?: readonly string[];
}

/**
 * An audit append whose relation writes (at these positions of its `relations`) lost to another
 * write: the version moved on, or the administration already holds the case reference. Nothing
 * of the append was written.
 */
export class RelationConflictError extends CodedError {
  readonly code = 'ERR_RELATION_CONFLICT';
  readonly positions: readonly number[];
  constructor(positions: readonly number[]) {
    super(`audit append refused: ${positions.length} relation write(s) lost to another write; nothing was written`);
    this.positions = positions;
  }
}

/**
 * The relations register's store (SQLite and PostgreSQL in src/store/). Every read goes to the
 * database: there is no cache, so an end recorded through one gateway instance holds on the very
 * next request at every instance sharing the store.
 */
export interface RelationStore {
  /**
   * Stores `relation` with `event` appended to its history, together. With `expectedVersion` 0 it
   * inserts a new relation; otherwise it replaces the stored one only if that is still at
   * `expectedVersion` (and `relation.version` is one more) and still under one of the pseudonyms
   * `priorSubjects` (default: `relation.subject`), re-keying it to `relation.subject`: a relation
   * registered before a pseudonym key rotation is updated and moves to the current key. Resolves
   * 'conflict' and writes nothing when the version moved on or the administration already holds
   * the case reference (a concurrent registration).
   *
   * The gateway does not call this: it stores a relation on the audit append of its record
   * (AuditStore.append's `relations`), so that the two are one commit. This is the same write in
   * a commit of its own, for the store's tests and tools.
   */
  save(relation: Relation, event: RelationEvent, expectedVersion: number, priorSubjects?: readonly string[]): Promise<RelationSaveOutcome>;
  /** The relation with its history, or undefined. */
  get(id: string): Promise<StoredRelation | undefined>;
  /**
   * The relation `administration` registered under this case reference, compared without regard
   * to upper and lower case (the stored spelling is in the answer), or undefined.
   */
  byCaseRef(administration: string, caseRef: string): Promise<StoredRelation | undefined>;
  /**
   * byCaseRef for many references of one administration at once, in one read (one snapshot): one
   * answer per reference, in their order (undefined where none). At most MAX_RELATIONS_PER_PAGE
   * references. The import reads its rows' relations with it, many rows a round trip.
   */
  byCaseRefs(administration: string, caseRefs: readonly string[]): Promise<(StoredRelation | undefined)[]>;
  /**
   * One page of the relations `administration` holds, every one of them whatever its state, in the
   * order of their case references compared without regard to upper and lower case, starting after
   * the reference `after` (undefined: from the first), at most `limit` (1 to MAX_RELATIONS_PER_PAGE);
   * no history. One range of the relation_case_ref index; the reconciliation (src/relations/import.ts)
   * pages through an administration's relations with it.
   *
   * @example
   *   let page = await store.relations.byAdministration('SOF', undefined, 1000);
   *   while (page.length > 0) page = await store.relations.byAdministration('SOF', page.at(-1)!.caseRef, 1000);
   */
  byAdministration(administration: string, after: string | undefined, limit: number): Promise<Relation[]>;
  /**
   * Relations matching every given filter (at least subjects or caseRef), newest registration
   * first, at most MAX_RELATIONS_PER_SEARCH.
   */
  search(query: RelationSearch): Promise<StoredRelation[]>;
  /**
   * The need-to-know read, one indexed query: the relations that administrations `administrations`
   * hold for any of the pseudonyms `subjects` (one citizen under every pseudonym key) that are
   * in force on the Copenhagen day `day` (from <= day, to null or >= day, and not voided: end
   * reason `recorded-in-error`). A relation whose `to` is before its `from` is never in force. No history.
   *
   * @example
   *   await store.relations.active(pseudonyms.all(cpr), ['SOF'], copenhagenDate(new Date()));
   */
  active(subjects: readonly string[], administrations: readonly string[], day: string): Promise<Relation[]>;
  /**
   * The DPO's count of shared citizens, one aggregate query (no relation is loaded): for each
   * combination of administrations, how many citizens (pseudonyms) hold relations in force on the
   * Copenhagen day `day` with exactly those administrations, largest first. A citizen counts once
   * per pseudonym: one whose relations sit under two pseudonym keys (registered before a key
   * rotation and not updated since) counts once under each key's combination.
   */
  sharedCitizens(day: string): Promise<AdministrationCombination[]>;
  /**
   * Relations ended (or voided) through an end event at a time in [query.endedFrom,
   * query.endedTo) (ISO 8601 UTC) at most `query.withinMs` after their registration, with their
   * history, latest end first, at most `query.limit`: the short-lived relations the DPO's anomaly
   * rule looks into. One statement over the ended relations; its cost grows with the register,
   * not with the audit trail.
   */
  shortLived(query: ShortLivedQuery): Promise<StoredRelation[]>;
}

/** No search answers more relations than this. */
export const MAX_RELATIONS_PER_SEARCH = 500;

/** Citizens held by exactly these administrations (sorted, at least one). */
export interface AdministrationCombination {
  readonly administrations: readonly string[];
  readonly citizens: number;
}

/** What RelationStore.shortLived reads. */
export interface ShortLivedQuery {
  /** ISO 8601 UTC, inclusive. */
  readonly endedFrom: string;
  /** ISO 8601 UTC, exclusive. */
  readonly endedTo: string;
  /** The longest time from registration to end, in milliseconds. */
  readonly withinMs: number;
  /** At most this many relations (1..MAX_RELATIONS_PER_SEARCH). */
  readonly limit: number;
}
/** No page of RelationStore.byAdministration holds more relations than this. */
export const MAX_RELATIONS_PER_PAGE = 10_000;
