/**
 * Tables of the consent registry and the notification outbox (issue 4), appended to both
 * migration lists in migrations.ts as one migration. Same tables, columns and indexes in both
 * dialects; only the types differ. Times of the outbox are ms since the epoch (the worker does
 * arithmetic on them); consent times are ISO 8601 text and dates are YYYY-MM-DD text.
 */

interface Dialect {
  readonly bigint: string;
  readonly int: string;
  /** Text compared byte by byte (ids used in keyset paging). */
  readonly key: string;
}

function statements(d: Dialect): string[] {
  return [
    `CREATE TABLE consent (
      id ${d.key} NOT NULL PRIMARY KEY,
      subject ${d.key} NOT NULL, -- keyed pseudonym of the CPR number; never the number
      state TEXT NOT NULL CHECK (state IN ('active', 'withdrawn')),
      valid_from TEXT NOT NULL,
      valid_to TEXT NOT NULL,
      recorded_at TEXT NOT NULL,
      receipt_digest TEXT NOT NULL,
      record TEXT NOT NULL -- canonical JSON of the consent as recorded (the receipt's content and the receipt)
    )`,
    'CREATE INDEX consent_subject ON consent (subject, recorded_at)',
    `CREATE TABLE consent_event (
      consent_id ${d.key} NOT NULL REFERENCES consent (id),
      seq ${d.int} NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('given', 'withdrawn')),
      at TEXT NOT NULL,
      actor TEXT NOT NULL, -- JSON
      audit_id TEXT NOT NULL,
      reason TEXT,
      PRIMARY KEY (consent_id, seq)
    )`,
    `CREATE TABLE outbox (
      id ${d.key} NOT NULL PRIMARY KEY,
      audit_id TEXT NOT NULL,
      request_id TEXT NOT NULL,
      contract TEXT NOT NULL,
      recipient_system TEXT NOT NULL,
      recipient_administration TEXT NOT NULL,
      subject TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'delivering', 'delivered', 'dead', 'cancelled')),
      attempts ${d.int} NOT NULL,
      next_attempt_at ${d.bigint} NOT NULL,
      lease_owner TEXT,
      lease_id TEXT,
      lease_until ${d.bigint},
      last_error TEXT,
      last_status ${d.int},
      created_at ${d.bigint} NOT NULL,
      updated_at ${d.bigint} NOT NULL,
      finished_at ${d.bigint},
      meta TEXT NOT NULL, -- JSON: purpose, policy, fields, sender; no data values
      payload TEXT -- the minimised body; NULL once delivered, cancelled or expired
    )`,
    // The worker's claim: due pending rows and expired leases, by time.
    'CREATE INDEX outbox_due ON outbox (state, next_attempt_at)',
    'CREATE INDEX outbox_lease ON outbox (state, lease_until)',
    'CREATE INDEX outbox_created ON outbox (created_at, id)',
    'CREATE INDEX outbox_state_created ON outbox (state, created_at, id)',
    'CREATE INDEX outbox_audit_id ON outbox (audit_id)',
  ];
}

export const CONSENT_OUTBOX_MIGRATION_NAME = 'consent registry and notification outbox';
export const CONSENT_OUTBOX_SQLITE_STATEMENTS: readonly string[] = statements({ bigint: 'INTEGER', int: 'INTEGER', key: 'TEXT' });
export const CONSENT_OUTBOX_POSTGRES_STATEMENTS: readonly string[] = statements({
  bigint: 'BIGINT',
  int: 'INTEGER',
  key: 'TEXT COLLATE "C"',
});

/**
 * Notifications a provider sent with an Idempotency-Key (migration 7): one row per sender and
 * key, written in the commit that queues the notification's deliveries, holding the 202 answer
 * it got. A provider that sends the same event again with the same key (say, after losing the
 * answer) gets that answer again and nothing is queued twice. The key is kept as a digest
 * (with the sender), so nothing a caller chose is stored as text.
 */
function notificationRequestStatements(d: Dialect): string[] {
  return [
    `CREATE TABLE notification_request (
      key_digest ${d.key} NOT NULL PRIMARY KEY,
      sender TEXT NOT NULL,
      body_digest TEXT NOT NULL,
      audit_id TEXT NOT NULL,
      result TEXT NOT NULL,
      created_at ${d.bigint} NOT NULL
    )`,
  ];
}

export const NOTIFICATION_REQUEST_MIGRATION_NAME = 'notifications accepted under an Idempotency-Key';
export const NOTIFICATION_REQUEST_SQLITE_STATEMENTS: readonly string[] = notificationRequestStatements({
  bigint: 'INTEGER',
  int: 'INTEGER',
  key: 'TEXT',
});
export const NOTIFICATION_REQUEST_POSTGRES_STATEMENTS: readonly string[] = notificationRequestStatements({
  bigint: 'BIGINT',
  int: 'INTEGER',
  key: 'TEXT COLLATE "C"',
});

/**
 * Migration 8: answers to Idempotency-Keys are forgotten after `notifications.finishedRetentionMs`
 * (OutboxStore.forget), by their time of acceptance.
 */
export const NOTIFICATION_REQUEST_AGE_MIGRATION_NAME = 'Idempotency-Key answers by age, to forget them';
export const NOTIFICATION_REQUEST_AGE_STATEMENTS: readonly string[] = [
  'CREATE INDEX notification_request_created ON notification_request (created_at)',
];
