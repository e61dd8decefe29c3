import type Database from 'better-sqlite3';
import {
  MAX_RELATIONS_PER_PAGE,
  MAX_RELATIONS_PER_SEARCH,
  VOIDING_END_REASON,
  type Relation,
  type RelationSaveOutcome,
  type RelationStore,
  type RelationWrite,
} from '../relations/types.js';
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
  toRelationEventRow,
  toRelationRow,
  type RelationEventRow,
  type RelationRow,
} from './relations.js';

const COLUMNS = RELATION_COLUMNS.join(', ');
const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * The relations register on SQLite. `write` runs a function in one IMMEDIATE transaction;
 * `saveIn` stores a relation write inside a transaction already open (the audit append's).
 */
export function sqliteRelations(
  db: Database.Database,
  write: <T>(fn: () => T) => T,
): { relations: RelationStore; saveIn: (w: RelationWrite) => RelationSaveOutcome } {
  const sql = {
    insert: db.prepare(`INSERT INTO relation (${COLUMNS}) VALUES (${RELATION_COLUMNS.map((c) => `@${c}`).join(', ')})`),
    caseRefTaken: db.prepare('SELECT 1 FROM relation WHERE administration = ? AND lower(case_ref) = lower(?)').pluck(),
    insertEvent: db.prepare(
      `INSERT INTO relation_event (${RELATION_EVENT_COLUMNS.join(', ')}) VALUES (${RELATION_EVENT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
    ),
    get: db.prepare(`SELECT ${COLUMNS} FROM relation WHERE id = ?`),
    byCaseRef: db.prepare(`SELECT ${COLUMNS} FROM relation WHERE administration = ? AND lower(case_ref) = lower(?)`),
    events: db.prepare(`SELECT ${RELATION_EVENT_COLUMNS.join(', ')} FROM relation_event WHERE relation_id = ? ORDER BY seq`),
    sharedCitizens: db.prepare(SHARED_CITIZENS_SQL),
    shortLived: db.prepare(SHORT_LIVED_SQL),
    // One range of relation_case_ref (administration, lower(case_ref)).
    page: db.prepare(
      `SELECT ${COLUMNS} FROM relation INDEXED BY relation_case_ref
        WHERE administration = ? AND lower(case_ref) > lower(?) ORDER BY lower(case_ref) LIMIT ?`,
    ),
  };
  const activeStatements = new Map<string, Database.Statement>();
  const withEvents = (rows: readonly RelationRow[]) =>
    assembleRelations(
      rows,
      rows.flatMap((r) => sql.events.all(r.id) as RelationEventRow[]),
    );
  const one = (row: RelationRow | undefined) => (row === undefined ? undefined : db.transaction(() => withEvents([row]))()[0]);

  /** Stores one write inside the caller's transaction; 'conflict' when it lost (nothing of it written). */
  const saveIn = ({ relation, event, expectedVersion, priorSubjects = [relation.subject] }: RelationWrite): RelationSaveOutcome => {
    checkRelationSave(relation, event, expectedVersion, priorSubjects);
    const row = toRelationRow(relation);
    if (expectedVersion === 0) {
      if (sql.caseRefTaken.get(row.administration, row.case_ref) !== undefined || sql.get.get(row.id) !== undefined) return 'conflict';
      sql.insert.run(row);
    } else {
      // Under any of the citizen's pseudonyms (a key rotated since), re-keyed to the current one.
      const updated = db
        .prepare(
          `UPDATE relation SET subject = ?, capacity = ?, caseworker = ?, valid_from = ?, valid_to = ?, end_reason = ?, version = ?, updated_at = ?
            WHERE id = ? AND version = ? AND administration = ? AND case_ref = ? AND subject IN (${marks(priorSubjects.length)})`,
        )
        .run(
          row.subject,
          row.capacity,
          row.caseworker,
          row.valid_from,
          row.valid_to,
          row.end_reason,
          row.version,
          row.updated_at,
          row.id,
          expectedVersion,
          row.administration,
          row.case_ref,
          ...priorSubjects,
        );
      if (updated.changes !== 1) return 'conflict';
    }
    sql.insertEvent.run(toRelationEventRow(relation.id, relation.version, event));
    return 'saved';
  };

  const relations: RelationStore = {
    async save(relation, event, expectedVersion, priorSubjects = [relation.subject]) {
      return write(() => saveIn({ relation, event, expectedVersion, priorSubjects }));
    },
    async get(id) {
      return one(sql.get.get(id) as RelationRow | undefined);
    },
    async byCaseRef(administration, caseRef) {
      return one(sql.byCaseRef.get(administration, caseRef) as RelationRow | undefined);
    },
    async byCaseRefs(administration, caseRefs) {
      checkCaseRefsQuery(administration, caseRefs, MAX_RELATIONS_PER_PAGE);
      // One read transaction: every answer as of one moment.
      return db.transaction(() =>
        caseRefs.map((ref) => {
          const row = sql.byCaseRef.get(administration, ref) as RelationRow | undefined;
          return row === undefined ? undefined : withEvents([row])[0];
        }),
      )();
    },
    async byAdministration(administration, after, limit) {
      checkPageQuery(administration, after, limit, MAX_RELATIONS_PER_PAGE);
      // Every case reference is at least one character: after '' is from the first.
      return (sql.page.all(administration, after ?? '', limit) as RelationRow[]).map(fromRelationRow);
    },
    async search(query) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (query.subjects !== undefined) {
        if (query.subjects.length === 0) return [];
        where.push(`subject IN (${marks(query.subjects.length)})`);
        values.push(...query.subjects);
      }
      if (query.caseRef !== undefined) {
        where.push('lower(case_ref) = lower(?)');
        values.push(query.caseRef);
      }
      if (where.length === 0) throw new TypeError('RelationStore.search: give subjects or caseRef');
      if (query.administrations !== undefined) {
        if (query.administrations.length === 0) return [];
        where.push(`administration IN (${marks(query.administrations.length)})`);
        values.push(...query.administrations);
      }
      // One read transaction: the relations and their events as of one moment.
      return db.transaction(() =>
        withEvents(
          db
            .prepare(`SELECT ${COLUMNS} FROM relation WHERE ${where.join(' AND ')} ORDER BY registered_at DESC, id DESC LIMIT ?`)
            .all(...values, MAX_RELATIONS_PER_SEARCH) as RelationRow[],
        ),
      )();
    },
    async active(subjects, administrations, day): Promise<Relation[]> {
      checkActiveQuery(subjects, administrations, day);
      if (subjects.length === 0 || administrations.length === 0) return [];
      // One statement per shape (pseudonym keys × administrations), prepared once: preparing it
      // would cost more than running it.
      const shape = `${subjects.length}:${administrations.length}`;
      let statement = activeStatements.get(shape);
      if (statement === undefined) {
        statement = db.prepare(
          `SELECT ${COLUMNS} FROM relation INDEXED BY relation_active
            WHERE subject IN (${marks(subjects.length)}) AND administration IN (${marks(administrations.length)})
              AND valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?)
              AND (end_reason IS NULL OR end_reason <> ?)
            ORDER BY id`,
        );
        if (activeStatements.size < 64) activeStatements.set(shape, statement);
      }
      const rows = statement.all(...subjects, ...administrations, day, day, VOIDING_END_REASON) as RelationRow[];
      return rows.map(fromRelationRow);
    },
    async sharedCitizens(day) {
      checkDay('sharedCitizens', day);
      return combinations(sql.sharedCitizens.all(day, day, VOIDING_END_REASON) as { administrations: string; citizens: number }[]);
    },
    async shortLived(query) {
      const limit = checkShortLivedQuery(query);
      return db.transaction(() =>
        withEvents(
          sql.shortLived.all({
            from: new Date(query.endedFrom).toISOString(),
            to: new Date(query.endedTo).toISOString(),
            within: query.withinMs,
            limit,
          }) as RelationRow[],
        ),
      )();
    },
  };
  return { relations, saveIn };
}

/**
 * Citizens per combination of administrations holding relations in force on a day (?1, ?2) that
 * are not voided (?3): each pseudonym's administrations in order, then counted per combination.
 */
const SHARED_CITIZENS_SQL = `SELECT administrations, COUNT(*) AS citizens FROM (
    SELECT subject, group_concat(DISTINCT administration ORDER BY administration) AS administrations
      FROM relation
     WHERE valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?) AND (end_reason IS NULL OR end_reason <> ?)
     GROUP BY subject)
  GROUP BY administrations`;

/**
 * Ended relations (end_reason set; updated_at is at or after the end) with an end event in
 * [@from, @to) at most @within ms after the registration, latest change first, at most @limit.
 */
const SHORT_LIVED_SQL = `SELECT ${COLUMNS} FROM relation r
  WHERE r.end_reason IS NOT NULL AND r.updated_at >= @from AND r.registered_at < @to
    AND EXISTS (SELECT 1 FROM relation_event e
                 WHERE e.relation_id = r.id AND e.type = 'ended' AND e.at >= @from AND e.at < @to
                   AND (julianday(e.at) - julianday(r.registered_at)) * 86400000.0 <= @within)
  ORDER BY r.updated_at DESC, r.id DESC LIMIT @limit`;
