/**
 * The schema of the audit checkpoint store (audit-checkpoints.ts), one migration in
 * migrations.ts. Kept apart from the two implementations so that loading the migrations does not
 * load a database driver: the SQLite store's worker thread never needs pg.
 */

/** The checkpoint store's tables on SQLite (sqlite-audit-checkpoints.ts). */
export const SQLITE_CHECKPOINT_SCHEMA: readonly string[] = [
  `CREATE TABLE audit_checkpoint (
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    time TEXT NOT NULL,
    head TEXT NOT NULL,
    root TEXT NOT NULL,
    prev INTEGER NOT NULL,
    jws TEXT NOT NULL,
    frontier TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
  )`,
  'CREATE INDEX audit_checkpoint_time ON audit_checkpoint (chain, time)',
  `CREATE TABLE audit_merkle_node (
    chain TEXT NOT NULL,
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (chain, level, idx)
  )`,
  `CREATE TABLE audit_export (
    id TEXT NOT NULL PRIMARY KEY,
    chain TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    time TEXT NOT NULL,
    location TEXT NOT NULL,
    manifest_digest TEXT NOT NULL
  )`,
  'CREATE INDEX audit_export_chain ON audit_export (chain, to_seq)',
  `CREATE TABLE audit_retention (
    chain TEXT NOT NULL PRIMARY KEY,
    through_seq INTEGER NOT NULL,
    audit_id TEXT NOT NULL,
    export_id TEXT NOT NULL,
    time TEXT NOT NULL
  )`,
];

/** The checkpoint store's tables on PostgreSQL (postgres-audit-checkpoints.ts). */
export const POSTGRES_CHECKPOINT_SCHEMA: readonly string[] = [
  `CREATE TABLE audit_checkpoint (
    chain TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL CHECK (seq >= 1),
    time TIMESTAMPTZ(3) NOT NULL,
    head TEXT NOT NULL,
    root TEXT NOT NULL,
    prev BIGINT NOT NULL,
    jws TEXT NOT NULL,
    frontier TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
  )`,
  'CREATE INDEX audit_checkpoint_time ON audit_checkpoint (chain, time)',
  `CREATE TABLE audit_merkle_node (
    chain TEXT COLLATE "C" NOT NULL,
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (chain, level, idx)
  )`,
  `CREATE TABLE audit_export (
    id TEXT NOT NULL PRIMARY KEY,
    chain TEXT COLLATE "C" NOT NULL,
    from_seq BIGINT NOT NULL,
    to_seq BIGINT NOT NULL,
    time TIMESTAMPTZ(3) NOT NULL,
    location TEXT NOT NULL,
    manifest_digest TEXT NOT NULL
  )`,
  'CREATE INDEX audit_export_chain ON audit_export (chain, to_seq)',
  `CREATE TABLE audit_retention (
    chain TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    through_seq BIGINT NOT NULL,
    audit_id TEXT NOT NULL,
    export_id TEXT NOT NULL,
    time TIMESTAMPTZ(3) NOT NULL
  )`,
];
