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
  checkPageQuery,
  checkRelationSave,
  fromRelationRow,
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
      const rows = await read<RelationRow>(ACTIVE_SQL, [[...subjects], [...administrations], day, VOIDING_END_REASON]);
      return rows.map(fromRelationRow);
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

/** A page of an administration's relations (RelationStore.byAdministration): one range of relation_case_ref. Exported for the EXPLAIN test. */
export const PAGE_SQL = `SELECT ${COLUMNS} FROM relation
  WHERE administration = $1 AND lower(case_ref) > lower($2) ORDER BY lower(case_ref) LIMIT $3`;

/** The need-to-know read (RelationStore.active): an index scan of relation_active. Exported for the EXPLAIN test. */
export const ACTIVE_SQL = `SELECT ${COLUMNS} FROM relation
  WHERE subject = ANY($1::text[]) AND administration = ANY($2::text[])
    AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3)
    AND (end_reason IS NULL OR end_reason <> $4)
  ORDER BY id`;
