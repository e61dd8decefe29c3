/**
 * The schema, as numbered migrations applied once each, in order, when a store opens. Both
 * dialects carry the same tables, columns and indexes; only the types differ. Add a migration
 * at the end of both lists; never edit one that has shipped.
 *
 * audit_record: one row per record. `record` is the canonical JSON that was hashed (the source
 * of truth); the other columns repeat the searchable attributes so that searches use indexes.
 * The verifier checks that they agree with `record`. Search indexes end in (time, chain, seq),
 * the search order, so a filtered page is one index range scan even at hundreds of millions
 * of rows.
 */

import {
  DPO_CONSENT_MIGRATION_NAME,
  DPO_CONSENT_POSTGRES_STATEMENTS,
  DPO_CONSENT_SQLITE_STATEMENTS,
  DPO_MIGRATION_NAME,
  DPO_POSTGRES_STATEMENTS,
  DPO_SQLITE_STATEMENTS,
} from './dpo-schema.js';
import {
  CHAIN_LEASE_MIGRATION_NAME,
  ERASURE_MIGRATION_NAME,
  POSTGRES_CHAIN_LEASE_SCHEMA,
  POSTGRES_CHECKPOINT_SCHEMA,
  POSTGRES_ERASURE_SCHEMA,
  SQLITE_CHECKPOINT_SCHEMA,
  SQLITE_ERASURE_SCHEMA,
} from './audit-checkpoint-schema.js';
import {
  CONSENT_OUTBOX_MIGRATION_NAME,
  CONSENT_OUTBOX_POSTGRES_STATEMENTS,
  CONSENT_OUTBOX_SQLITE_STATEMENTS,
  NOTIFICATION_REQUEST_MIGRATION_NAME,
  NOTIFICATION_REQUEST_POSTGRES_STATEMENTS,
  NOTIFICATION_REQUEST_SQLITE_STATEMENTS,
  NOTIFICATION_REQUEST_AGE_MIGRATION_NAME,
  NOTIFICATION_REQUEST_AGE_STATEMENTS,
} from './consent-outbox-schema.js';
import { POLICY_HISTORY_MIGRATION_NAME, POLICY_HISTORY_POSTGRES_STATEMENTS, POLICY_HISTORY_SQLITE_STATEMENTS } from './policy-history.js';
import { RELATIONS_MIGRATION_NAME, RELATIONS_POSTGRES_STATEMENTS, RELATIONS_SQLITE_STATEMENTS } from './relations-schema.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

const SEARCH_INDEXES = [
  ['audit_record_subject_time', 'subject'],
  ['audit_record_caller_time', 'caller_system'],
  ['audit_record_caseworker_time', 'caseworker'],
  ['audit_record_purpose_time', 'purpose'],
  ['audit_record_contract_time', 'contract'],
  ['audit_record_policy_time', 'policy_id'],
] as const;

function searchIndexes(): string[] {
  return [
    ...SEARCH_INDEXES.map(([name, column]) => `CREATE INDEX ${name} ON audit_record (${column}, time, chain, seq)`),
    'CREATE INDEX audit_record_time ON audit_record (time, chain, seq)',
    'CREATE INDEX audit_record_audit_id ON audit_record (audit_id)',
    'CREATE INDEX replay_key_expires_at ON replay_key (expires_at)',
  ];
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit trail and replay cache',
    statements: [
      `CREATE TABLE audit_record (
        chain TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 1),
        id TEXT NOT NULL UNIQUE,
        audit_id TEXT NOT NULL,
        time TEXT NOT NULL, -- ISO 8601 UTC with milliseconds: sorts as text
        kind TEXT NOT NULL,
        subject TEXT,
        caller_system TEXT,
        administration TEXT,
        caseworker TEXT,
        contract TEXT,
        purpose TEXT,
        policy_id TEXT,
        policy_version INTEGER,
        decision TEXT,
        reasons TEXT NOT NULL, -- JSON array of strings
        record TEXT NOT NULL, -- canonical JSON of the whole record, hash included
        PRIMARY KEY (chain, seq)
      )`,
      `CREATE TABLE replay_key (
        key TEXT NOT NULL PRIMARY KEY,
        expires_at INTEGER NOT NULL -- ms since the epoch
      )`,
      ...searchIndexes(),
    ],
  },
  { version: 3, name: 'audit checkpoints, Merkle nodes, exports and retention', statements: SQLITE_CHECKPOINT_SCHEMA },
  { version: 4, name: CONSENT_OUTBOX_MIGRATION_NAME, statements: CONSENT_OUTBOX_SQLITE_STATEMENTS },
  { version: 6, name: DPO_MIGRATION_NAME, statements: DPO_SQLITE_STATEMENTS },
  { version: 7, name: NOTIFICATION_REQUEST_MIGRATION_NAME, statements: NOTIFICATION_REQUEST_SQLITE_STATEMENTS },
  { version: 8, name: NOTIFICATION_REQUEST_AGE_MIGRATION_NAME, statements: NOTIFICATION_REQUEST_AGE_STATEMENTS },
  { version: 10, name: RELATIONS_MIGRATION_NAME, statements: RELATIONS_SQLITE_STATEMENTS },
  { version: 11, name: DPO_CONSENT_MIGRATION_NAME, statements: DPO_CONSENT_SQLITE_STATEMENTS },
  { version: 12, name: ERASURE_MIGRATION_NAME, statements: SQLITE_ERASURE_SCHEMA },
  { version: 13, name: POLICY_HISTORY_MIGRATION_NAME, statements: POLICY_HISTORY_SQLITE_STATEMENTS },
];

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit trail and replay cache',
    statements: [
      `CREATE TABLE audit_record (
        chain TEXT COLLATE "C" NOT NULL,
        seq BIGINT NOT NULL CHECK (seq >= 1),
        id TEXT NOT NULL UNIQUE,
        audit_id TEXT NOT NULL,
        time TIMESTAMPTZ(3) NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT,
        caller_system TEXT,
        administration TEXT,
        caseworker TEXT,
        contract TEXT,
        purpose TEXT,
        policy_id TEXT,
        policy_version INTEGER,
        decision TEXT,
        reasons JSONB NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (chain, seq)
      )`,
      `CREATE TABLE replay_key (
        key TEXT NOT NULL PRIMARY KEY,
        expires_at BIGINT NOT NULL
      )`,
      ...searchIndexes(),
    ],
  },
  { version: 3, name: 'audit checkpoints, Merkle nodes, exports and retention', statements: POSTGRES_CHECKPOINT_SCHEMA },
  { version: 4, name: CONSENT_OUTBOX_MIGRATION_NAME, statements: CONSENT_OUTBOX_POSTGRES_STATEMENTS },
  { version: 6, name: DPO_MIGRATION_NAME, statements: DPO_POSTGRES_STATEMENTS },
  { version: 7, name: NOTIFICATION_REQUEST_MIGRATION_NAME, statements: NOTIFICATION_REQUEST_POSTGRES_STATEMENTS },
  { version: 8, name: NOTIFICATION_REQUEST_AGE_MIGRATION_NAME, statements: NOTIFICATION_REQUEST_AGE_STATEMENTS },
  { version: 9, name: CHAIN_LEASE_MIGRATION_NAME, statements: POSTGRES_CHAIN_LEASE_SCHEMA },
  { version: 10, name: RELATIONS_MIGRATION_NAME, statements: RELATIONS_POSTGRES_STATEMENTS },
  { version: 11, name: DPO_CONSENT_MIGRATION_NAME, statements: DPO_CONSENT_POSTGRES_STATEMENTS },
  { version: 12, name: ERASURE_MIGRATION_NAME, statements: POSTGRES_ERASURE_SCHEMA },
  { version: 13, name: POLICY_HISTORY_MIGRATION_NAME, statements: POLICY_HISTORY_POSTGRES_STATEMENTS },
];
