/**
 * Tables of the relations register (src/relations/types.ts), appended to both migration lists in
 * migrations.ts as one migration. Same tables, columns and indexes in both dialects; only the
 * types differ. Times are ISO 8601 text, dates YYYY-MM-DD text (Copenhagen days), so that both
 * compare as text.
 *
 * relation_active serves the need-to-know read (RelationStore.active): the relations of some
 * administrations for some pseudonyms on a day are one range per (subject, administration) pair,
 * with the period checked in the index (a voided relation is filtered out of that range).
 * relation_case_ref keeps a case reference to one relation per administration, compared without
 * regard to case (so that `SOF-7` and `sof-7` cannot become two relations), and serves byCaseRef;
 * administrations' references never collide with each other.
 */

interface Dialect {
  readonly int: string;
  /** Text compared byte by byte (ids, pseudonyms and references used as keys). */
  readonly key: string;
}

function statements(d: Dialect): string[] {
  return [
    `CREATE TABLE relation (
      id ${d.key} NOT NULL PRIMARY KEY,
      subject ${d.key} NOT NULL, -- keyed pseudonym of the CPR number; never the number
      administration ${d.key} NOT NULL,
      capacity TEXT NOT NULL,
      case_ref ${d.key} NOT NULL,
      caseworker TEXT,
      valid_from TEXT NOT NULL,
      valid_to TEXT, -- NULL: open-ended
      end_reason TEXT,
      version ${d.int} NOT NULL CHECK (version >= 1),
      registered_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    'CREATE UNIQUE INDEX relation_case_ref ON relation (administration, lower(case_ref))',
    'CREATE INDEX relation_active ON relation (subject, administration, valid_from, valid_to)',
    `CREATE TABLE relation_event (
      relation_id ${d.key} NOT NULL REFERENCES relation (id),
      seq ${d.int} NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('registered', 'changed', 'ended')),
      at TEXT NOT NULL,
      actor TEXT NOT NULL, -- JSON
      audit_id TEXT NOT NULL,
      changed TEXT NOT NULL, -- JSON array of names
      reason TEXT,
      PRIMARY KEY (relation_id, seq)
    )`,
  ];
}

export const RELATIONS_MIGRATION_NAME = 'relations register: who serves which citizen, in which capacity';
export const RELATIONS_SQLITE_STATEMENTS: readonly string[] = statements({ int: 'INTEGER', key: 'TEXT' });
export const RELATIONS_POSTGRES_STATEMENTS: readonly string[] = statements({ int: 'INTEGER', key: 'TEXT COLLATE "C"' });
