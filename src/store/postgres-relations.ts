import type pg from 'pg';
import {
  MAX_RELATIONS_PER_PAGE,
  MAX_RELATIONS_PER_SEARCH,
  VOIDING_END_REASON,
  type Relation,
  type RelationSaveOutcome,
  type RelationStore,
  type RelationWrite,
  type StoredRelation,
} from '../relations/types.js';
import type { PgRead, PgTransaction } from './postgres-consents.js';
import {
  RELATION_COLUMNS,
  RELATION_EVENT_COLUMNS,
  assembleRelations,
  checkActiveQuery,
  checkDay,
  checkCaseRefsQuery,
  checkPageQuery,
  checkRelationSave,
  checkShortLivedQuery,
  combinations,
  fromRelationRow,
  lockOrder,
  toRelationEventRow,
  toRelationRow,
  type RelationEventRow,
  type RelationRow,
} from './relations.js';

const COLUMNS = RELATION_COLUMNS.join(', ');
const INSERT = `INSERT INTO relation (${COLUMNS}) VALUES (${RELATION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`;
const INSERT_EVENT = `INSERT INTO relation_event (${RELATION_EVENT_COLUMNS.join(', ')}) VALUES (${RELATION_EVENT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;
/** Under any of the citizen's pseudonyms ($10: a key rotated since), re-keyed to the current one ($13). */
const UPDATE = `UPDATE relation SET capacity = $2, caseworker = $3, valid_from = $4, valid_to = $5, end_reason = $6, version = $7, updated_at = $8,
    subject = $13
  WHERE id = $1 AND version = $9 AND subject = ANY($10::text[]) AND administration = $11 AND case_ref = $12`;
/** Each relation's events as one JSON array, so that a read is one statement (one snapshot). */
const WITH_EVENTS = `SELECT ${RELATION_COLUMNS.map((c) => `r.${c}`).join(', ')},
  (SELECT json_agg(json_build_object(${RELATION_EVENT_COLUMNS.map((c) => `'${c}', e.${c}`).join(', ')}) ORDER BY e.seq)
     FROM relation_event e WHERE e.relation_id = r.id) AS events
  FROM relation r`;

type RowWithEvents = RelationRow & { events: RelationEventRow[] | null };

/**
 * The relations register on PostgreSQL. Reads go to the database every time (no cache), so an
 * end committed by one gateway instance is seen by the next request at every other one.
 */
export function postgresRelations(read: PgRead, transaction: PgTransaction): RelationStore {
  const assemble = (rows: RowWithEvents[]): StoredRelation[] =>
    assembleRelations(
      rows,
      rows.flatMap((r) => r.events ?? []),
    );

  const relations: RelationStore = {
    async save(relation, event, expectedVersion, priorSubjects = [relation.subject]) {
      return transaction((c) => saveRelationIn(c, { relation, event, expectedVersion, priorSubjects }));
    },
    async get(id) {
      return assemble(await read<RowWithEvents>(`${WITH_EVENTS} WHERE r.id = $1`, [id]))[0];
    },
    async byCaseRef(administration, caseRef) {
      return assemble(
        await read<RowWithEvents>(`${WITH_EVENTS} WHERE r.administration = $1 AND lower(r.case_ref) = lower($2)`, [
          administration,
          caseRef,
        ]),
      )[0];
    },
    async byCaseRefs(administration, caseRefs) {
      checkCaseRefsQuery(administration, caseRefs, MAX_RELATIONS_PER_PAGE);
      if (caseRefs.length === 0) return [];
      const found = assemble(
        await read<RowWithEvents>(`${WITH_EVENTS} WHERE r.administration = $1 AND lower(r.case_ref) = ANY($2::text[])`, [
          administration,
          caseRefs.map((r) => r.toLowerCase()),
        ]),
      );
      const byKey = new Map(found.map((s) => [s.relation.caseRef.toLowerCase(), s]));
      return caseRefs.map((r) => byKey.get(r.toLowerCase()));
    },
    async byAdministration(administration, after, limit) {
      checkPageQuery(administration, after, limit, MAX_RELATIONS_PER_PAGE);
      // Every case reference is at least one character: after '' is from the first.
      return (await read<RelationRow>(PAGE_SQL, [administration, after ?? '', limit])).map(fromRelationRow);
    },
    async search(query) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (query.subjects !== undefined) {
        if (query.subjects.length === 0) return [];
        values.push([...query.subjects]);
        where.push(`r.subject = ANY($${values.length}::text[])`);
      }
      if (query.caseRef !== undefined) {
        values.push(query.caseRef);
        where.push(`lower(r.case_ref) = lower($${values.length})`);
      }
      if (where.length === 0) throw new TypeError('RelationStore.search: give subjects or caseRef');
      if (query.administrations !== undefined) {
        if (query.administrations.length === 0) return [];
        values.push([...query.administrations]);
        where.push(`r.administration = ANY($${values.length}::text[])`);
      }
      values.push(MAX_RELATIONS_PER_SEARCH);
      return assemble(
        await read<RowWithEvents>(
          `${WITH_EVENTS} WHERE ${where.join(' AND ')} ORDER BY r.registered_at DESC, r.id DESC LIMIT $${values.length}`,
          values,
        ),
      );
    },
    async active(subjects, administrations, day): Promise<Relation[]> {
      checkActiveQuery(subjects, administrations, day);
      if (subjects.length === 0 || administrations.length === 0) return [];
      // A named statement: parsed and planned once per connection, not on every request.
      const rows = await read<RelationRow>({ name: 'relation_active', text: ACTIVE_SQL }, [
        [...subjects],
        [...administrations],
        day,
        VOIDING_END_REASON,
      ]);
      return rows.map(fromRelationRow);
    },
    async sharedCitizens(day) {
      checkDay('sharedCitizens', day);
      return combinations(await read<{ administrations: string; citizens: string }>(SHARED_CITIZENS_SQL, [day, VOIDING_END_REASON]));
    },
    async shortLived(query) {
      const limit = checkShortLivedQuery(query);
      return assemble(
        await read<RowWithEvents>(SHORT_LIVED_SQL, [
          new Date(query.endedFrom).toISOString(),
          new Date(query.endedTo).toISOString(),
          query.withinMs,
          limit,
        ]),
      );
    },
  };
  return relations;
}

/**
 * Stores one relation write on `c`, inside a transaction the caller holds open (its own, or the
 * audit append's); 'conflict' when it lost to another write (nothing of it written).
 */
export async function saveRelationIn(
  c: Pick<pg.PoolClient, 'query'>,
  { relation, event, expectedVersion, priorSubjects = [relation.subject] }: RelationWrite,
): Promise<RelationSaveOutcome> {
  checkRelationSave(relation, event, expectedVersion, priorSubjects);
  const r = toRelationRow(relation);
  if (expectedVersion === 0) {
    const inserted = await c.query(
      INSERT,
      RELATION_COLUMNS.map((k) => r[k]),
    );
    if (inserted.rowCount !== 1) return 'conflict';
  } else {
    const updated = await c.query(UPDATE, [
      r.id,
      r.capacity,
      r.caseworker,
      r.valid_from,
      r.valid_to,
      r.end_reason,
      r.version,
      r.updated_at,
      expectedVersion,
      [...priorSubjects],
      r.administration,
      r.case_ref,
      r.subject,
    ]);
    if (updated.rowCount !== 1) return 'conflict';
  }
  const e = toRelationEventRow(relation.id, relation.version, event);
  await c.query(
    INSERT_EVENT,
    RELATION_EVENT_COLUMNS.map((k) => e[k]),
  );
  return 'saved';
}

const COLUMN_TYPES: Readonly<Record<(typeof RELATION_COLUMNS)[number], string>> = {
  id: 'text',
  subject: 'text',
  administration: 'text',
  capacity: 'text',
  case_ref: 'text',
  caseworker: 'text',
  valid_from: 'text',
  valid_to: 'text',
  end_reason: 'text',
  version: 'int',
  registered_at: 'text',
  updated_at: 'text',
};
const EVENT_COLUMN_TYPES: Readonly<Record<(typeof RELATION_EVENT_COLUMNS)[number], string>> = {
  relation_id: 'text',
  seq: 'int',
  type: 'text',
  at: 'text',
  actor: 'text',
  audit_id: 'text',
  changed: 'text',
  reason: 'text',
};
/** New relations, many in one statement (column arrays); those whose id or case reference is taken are left out. */
const INSERT_MANY = `INSERT INTO relation (${COLUMNS})
  SELECT * FROM unnest(${RELATION_COLUMNS.map((c, i) => `$${i + 1}::${COLUMN_TYPES[c]}[]`).join(', ')})
  ON CONFLICT DO NOTHING RETURNING id`;
const INSERT_EVENTS = `INSERT INTO relation_event (${RELATION_EVENT_COLUMNS.join(', ')})
  SELECT * FROM unnest(${RELATION_EVENT_COLUMNS.map((c, i) => `$${i + 1}::${EVENT_COLUMN_TYPES[c]}[]`).join(', ')})`;

/**
 * Stores relation writes on `c`, inside a transaction the caller holds open (the audit append's):
 * the new relations with two statements for all of them, then the changes one by one (a change
 * may be of a relation inserted just before). Resolves the positions of the writes that lost to
 * another write; the caller rolls back if there are any.
 */
export async function saveRelationsIn(c: Pick<pg.PoolClient, 'query'>, writes: readonly RelationWrite[]): Promise<number[]> {
  const lost: number[] = [];
  // Rows are locked in one order (lockOrder), the inserts' and the updates', so that two commits
  // writing the same relations never wait for each other in opposite orders.
  const order = lockOrder(writes);
  const fresh = order.flatMap((i) => (writes[i]!.expectedVersion === 0 ? [{ w: writes[i]!, i }] : []));
  if (fresh.length === 1) {
    if ((await saveRelationIn(c, fresh[0]!.w)) === 'conflict') lost.push(fresh[0]!.i);
  } else if (fresh.length > 1) {
    for (const { w } of fresh) checkRelationSave(w.relation, w.event, w.expectedVersion, w.priorSubjects ?? [w.relation.subject]);
    const rows = fresh.map(({ w }) => toRelationRow(w.relation));
    const inserted = await c.query<{ id: string }>(
      INSERT_MANY,
      RELATION_COLUMNS.map((k) => rows.map((r) => r[k])),
    );
    const saved = new Set(inserted.rows.map((r) => r.id));
    for (const { w, i } of fresh) if (!saved.has(w.relation.id)) lost.push(i);
    const events = fresh
      .filter(({ w }) => saved.has(w.relation.id))
      .map(({ w }) => toRelationEventRow(w.relation.id, w.relation.version, w.event));
    if (events.length > 0)
      await c.query(
        INSERT_EVENTS,
        RELATION_EVENT_COLUMNS.map((k) => events.map((e) => e[k])),
      );
  }
  for (const i of order) if (writes[i]!.expectedVersion !== 0 && (await saveRelationIn(c, writes[i]!)) === 'conflict') lost.push(i);
  return lost.sort((a, b) => a - b);
}

/** A page of an administration's relations (RelationStore.byAdministration): one range of relation_case_ref. Exported for the EXPLAIN test. */
export const PAGE_SQL = `SELECT ${COLUMNS} FROM relation
  WHERE administration = $1 AND lower(case_ref) > lower($2) ORDER BY lower(case_ref) LIMIT $3`;

/** The need-to-know read (RelationStore.active): an index scan of relation_active. Exported for the EXPLAIN test. */
export const ACTIVE_SQL = `SELECT ${COLUMNS} FROM relation
  WHERE subject = ANY($1::text[]) AND administration = ANY($2::text[])
    AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3)
    AND (end_reason IS NULL OR end_reason <> $4)
  ORDER BY id`;

/** RelationStore.sharedCitizens: each pseudonym's administrations in force on $1 (not voided: $2), counted per combination. */
const SHARED_CITIZENS_SQL = `SELECT administrations, COUNT(*) AS citizens FROM (
    SELECT subject, string_agg(DISTINCT administration, ',' ORDER BY administration) AS administrations
      FROM relation
     WHERE valid_from <= $1 AND (valid_to IS NULL OR valid_to >= $1) AND (end_reason IS NULL OR end_reason <> $2)
     GROUP BY subject) AS held
  GROUP BY administrations`;

/** RelationStore.shortLived: as in SQLite (sqlite-relations.ts), with the events as one JSON array. */
const SHORT_LIVED_SQL = `${WITH_EVENTS}
  WHERE r.end_reason IS NOT NULL AND r.updated_at >= $1 AND r.registered_at < $2
    AND EXISTS (SELECT 1 FROM relation_event x
                 WHERE x.relation_id = r.id AND x.type = 'ended' AND x.at >= $1 AND x.at < $2
                   AND extract(epoch FROM (x.at::timestamptz - r.registered_at::timestamptz)) * 1000 <= $3)
  ORDER BY r.updated_at DESC, r.id DESC LIMIT $4`;
