/**
 * Tables of the DPO review pages (see dpo-types.ts), appended to both migration lists in
 * migrations.ts. The rollup tables' primary keys start with the day, so every aggregate the
 * pages read is one index range scan over the period asked for. dpo_rollup_state is the
 * watermark: per chain, the seq up to which its records are counted in the rollups. The audit
 * append never writes these tables; the catch-up pass (src/audit/rollups.ts) counts from the
 * watermark, every few seconds while a gateway runs and before a DPO page reads the rollups.
 */

interface Dialect {
  readonly int: string;
  readonly bigint: string;
  readonly text: string;
  readonly withoutRowid: string;
}

function statements(d: Dialect): string[] {
  return [
    `CREATE TABLE dpo_rollup_state (chain ${d.text} NOT NULL PRIMARY KEY, seq ${d.bigint} NOT NULL)`,
    `CREATE TABLE dpo_daily_traffic (
      day TEXT NOT NULL, caller_system ${d.text} NOT NULL, contract ${d.text} NOT NULL, purpose ${d.text} NOT NULL,
      requests ${d.bigint} NOT NULL, refused ${d.bigint} NOT NULL,
      PRIMARY KEY (day, caller_system, contract, purpose)
    )${d.withoutRowid}`,
    `CREATE TABLE dpo_daily_reason (
      day TEXT NOT NULL, caller_system ${d.text} NOT NULL, reason ${d.text} NOT NULL, n ${d.bigint} NOT NULL,
      PRIMARY KEY (day, caller_system, reason)
    )${d.withoutRowid}`,
    `CREATE TABLE dpo_daily_caseworker (
      day TEXT NOT NULL, caller_system ${d.text} NOT NULL, caseworker ${d.text} NOT NULL,
      requests ${d.bigint} NOT NULL, refused ${d.bigint} NOT NULL, off_hours ${d.bigint} NOT NULL,
      asked ${d.bigint} NOT NULL, asked_withheld ${d.bigint} NOT NULL,
      PRIMARY KEY (day, caller_system, caseworker)
    )${d.withoutRowid}`,
    `CREATE TABLE dpo_daily_citizen (
      day TEXT NOT NULL, caller_system ${d.text} NOT NULL, caseworker ${d.text} NOT NULL, subject ${d.text} NOT NULL,
      PRIMARY KEY (day, caller_system, caseworker, subject)
    )${d.withoutRowid}`,
    `CREATE TABLE dpo_daily_withheld (
      day TEXT NOT NULL, caller_system ${d.text} NOT NULL, contract ${d.text} NOT NULL, field ${d.text} NOT NULL, n ${d.bigint} NOT NULL,
      PRIMARY KEY (day, caller_system, contract, field)
    )${d.withoutRowid}`,
    `CREATE TABLE dpo_off_hours (
      record_id ${d.text} NOT NULL PRIMARY KEY, time ${d.text} NOT NULL, caller_system ${d.text} NOT NULL, caseworker ${d.text} NOT NULL
    )`,
    'CREATE INDEX dpo_off_hours_time ON dpo_off_hours (time)',
    `CREATE TABLE dpo_consent_use (
      consent ${d.text} NOT NULL, record_id ${d.text} NOT NULL, time ${d.text} NOT NULL, caller_system ${d.text} NOT NULL, contract ${d.text} NOT NULL,
      PRIMARY KEY (consent, record_id)
    )${d.withoutRowid}`,
    `CREATE TABLE dpo_consent_withdrawal (
      consent ${d.text} NOT NULL PRIMARY KEY, record_id ${d.text} NOT NULL, time ${d.text} NOT NULL, subject ${d.text} NOT NULL
    )`,
    'CREATE INDEX dpo_consent_withdrawal_time ON dpo_consent_withdrawal (time)',
    `CREATE TABLE dpo_session (
      id_hash ${d.text} NOT NULL PRIMARY KEY, client_id ${d.text} NOT NULL, fingerprint ${d.text} NOT NULL, csrf ${d.text} NOT NULL,
      lang ${d.text} NOT NULL, created_at ${d.bigint} NOT NULL, last_seen_at ${d.bigint} NOT NULL
    )`,
    `CREATE TABLE dpo_search (
      id ${d.text} NOT NULL PRIMARY KEY, session_hash ${d.text} NOT NULL, created_at ${d.bigint} NOT NULL, query ${d.text} NOT NULL
    )`,
    'CREATE INDEX dpo_search_session ON dpo_search (session_hash)',
  ];
}

export const DPO_MIGRATION_NAME = 'DPO review pages: rollups, sessions, saved searches';

/**
 * The consent rules' rollups (migration 11): each consent recorded (from its CONSENT_RECORDED
 * record: who recorded it, on which evidence level, back-dated or not) and each permit that relied
 * on a consent (a permitted decision, a notice queued or delivered: who received it). Their keys
 * are the receipt digest the records cite, so a rule reads a period's recordings by time and the
 * permits of those consents by key. Counted by the catch-up pass like the other rollups, from the
 * records it counts after this migration: records counted before it are not in these tables.
 */
function consentStatements(d: Dialect): string[] {
  return [
    `CREATE TABLE dpo_consent_recorded (
      consent ${d.text} NOT NULL PRIMARY KEY, record_id ${d.text} NOT NULL, time ${d.text} NOT NULL, subject ${d.text} NOT NULL,
      caller_system ${d.text} NOT NULL, administration ${d.text} NOT NULL, caseworker ${d.text} NOT NULL,
      level ${d.text} NOT NULL, backdated ${d.int} NOT NULL, representative ${d.int} NOT NULL
    )`,
    'CREATE INDEX dpo_consent_recorded_time ON dpo_consent_recorded (time)',
    `CREATE TABLE dpo_consent_permit (
      consent ${d.text} NOT NULL, record_id ${d.text} NOT NULL, audit_id ${d.text} NOT NULL, time ${d.text} NOT NULL, kind ${d.text} NOT NULL,
      recipient_system ${d.text} NOT NULL, recipient_administration ${d.text} NOT NULL, contract ${d.text} NOT NULL,
      PRIMARY KEY (consent, record_id)
    )${d.withoutRowid}`,
  ];
}

export const DPO_CONSENT_MIGRATION_NAME = 'DPO rollups of consent recordings and the permits relying on consents';

export const DPO_CONSENT_SQLITE_STATEMENTS: readonly string[] = consentStatements({
  int: 'INTEGER',
  bigint: 'INTEGER',
  text: 'TEXT',
  withoutRowid: ' WITHOUT ROWID',
});

export const DPO_CONSENT_POSTGRES_STATEMENTS: readonly string[] = consentStatements({
  int: 'INTEGER',
  bigint: 'BIGINT',
  text: 'TEXT COLLATE "C"',
  withoutRowid: '',
});

export const DPO_SQLITE_STATEMENTS: readonly string[] = statements({
  int: 'INTEGER',
  bigint: 'INTEGER',
  text: 'TEXT',
  withoutRowid: ' WITHOUT ROWID',
});

export const DPO_POSTGRES_STATEMENTS: readonly string[] = statements({
  int: 'INTEGER',
  bigint: 'BIGINT',
  text: 'TEXT COLLATE "C"',
  withoutRowid: '',
});
