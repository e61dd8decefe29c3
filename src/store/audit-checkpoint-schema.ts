/**
 * The schema of the audit checkpoint store (audit-checkpoints.ts), one migration in
 * migrations.ts. Kept apart from the two implementations so that loading the migrations does not
 * load a database driver: the SQLite store's worker thread never needs pg.
 */

/** Column types that differ between the dialects. */
interface Dialect {
  /** A chain id: compared byte by byte on PostgreSQL. */
  readonly chain: string;
  /** Sequence numbers and Merkle indexes. */
  readonly bigint: string;
  readonly time: string;
}

function statements(d: Dialect): string[] {
  return [
    `CREATE TABLE audit_checkpoint (
    chain ${d.chain} NOT NULL,
    seq ${d.bigint} NOT NULL CHECK (seq >= 1),
    time ${d.time} NOT NULL,
    head TEXT NOT NULL,
    root TEXT NOT NULL,
    prev ${d.bigint} NOT NULL,
    jws TEXT NOT NULL,
    frontier TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
  )`,
    'CREATE INDEX audit_checkpoint_time ON audit_checkpoint (chain, time)',
    `CREATE TABLE audit_merkle_node (
    chain ${d.chain} NOT NULL,
    level INTEGER NOT NULL,
    idx ${d.bigint} NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (chain, level, idx)
  )`,
    `CREATE TABLE audit_export (
    id TEXT NOT NULL PRIMARY KEY,
    chain ${d.chain} NOT NULL,
    from_seq ${d.bigint} NOT NULL,
    to_seq ${d.bigint} NOT NULL,
    time ${d.time} NOT NULL,
    location TEXT NOT NULL,
    manifest_digest TEXT NOT NULL
  )`,
    'CREATE INDEX audit_export_chain ON audit_export (chain, to_seq)',
    `CREATE TABLE audit_retention (
    chain ${d.chain} NOT NULL PRIMARY KEY,
    through_seq ${d.bigint} NOT NULL,
    audit_id TEXT NOT NULL,
    export_id TEXT NOT NULL,
    time ${d.time} NOT NULL
  )`,
  ];
}

/** The checkpoint store's tables on SQLite (sqlite-audit-checkpoints.ts). */
export const SQLITE_CHECKPOINT_SCHEMA: readonly string[] = statements({ chain: 'TEXT', bigint: 'INTEGER', time: 'TEXT' });

/** The checkpoint store's tables on PostgreSQL (postgres-audit-checkpoints.ts). */
export const POSTGRES_CHECKPOINT_SCHEMA: readonly string[] = statements({
  chain: 'TEXT COLLATE "C"',
  bigint: 'BIGINT',
  time: 'TIMESTAMPTZ(3)',
});

export const CHAIN_LEASE_MIGRATION_NAME = 'chain lease generations (fencing)';

/**
 * PostgreSQL only: the generation of each chain's lease. Whoever takes the chain's advisory lock
 * increments it; every append and checkpoint of the holder checks it in its own transaction
 * (postgres.ts, postgres-audit-checkpoints.ts), so a holder that lost the lock can write nothing
 * once another took it. SQLite needs no such row: its lease is a lock the kernel holds for the
 * holding process and that nothing else can take while the process lives.
 */
export const POSTGRES_CHAIN_LEASE_SCHEMA: readonly string[] = [
  `CREATE TABLE audit_chain_lease (
    chain TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    generation BIGINT NOT NULL,
    taken_at TIMESTAMPTZ(3) NOT NULL
  )`,
];

export const ERASURE_MIGRATION_NAME = "audit erasure entries and marks (the purposes' retention)";

/**
 * The erasure under the purposes' retention (src/audit/erasure.ts): an entry per erased record
 * (which admin record documents its erasure, and the digest of what was left of it), looked up
 * by chain and seq while a chain is verified and by admin record when that record is checked;
 * and per chain and purpose how far erasure has gone, so that a run reads the purpose's index
 * from there and not from the start. Entries are kept when the global retention deletes their
 * records: the admin record's digest covers all of its entries. Each erasure's signature (a JWS
 * by the checkpoint key over what its admin record documents) is kept by the admin record's audit id.
 */
function erasureStatements(d: Dialect): string[] {
  return [
    `CREATE TABLE audit_erasure (
    chain ${d.chain} NOT NULL,
    seq ${d.bigint} NOT NULL,
    audit_id ${d.chain} NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
  )`,
    'CREATE INDEX audit_erasure_audit_id ON audit_erasure (audit_id, chain, seq)',
    `CREATE TABLE audit_erasure_mark (
    chain ${d.chain} NOT NULL,
    purpose TEXT NOT NULL,
    through_time ${d.time} NOT NULL,
    PRIMARY KEY (chain, purpose)
  )`,
    `CREATE TABLE audit_erasure_signature (
    audit_id ${d.chain} PRIMARY KEY,
    jws TEXT NOT NULL
  )`,
  ];
}

export const SQLITE_ERASURE_SCHEMA: readonly string[] = erasureStatements({ chain: 'TEXT', bigint: 'INTEGER', time: 'TEXT' });

export const POSTGRES_ERASURE_SCHEMA: readonly string[] = erasureStatements({
  chain: 'TEXT COLLATE "C"',
  bigint: 'BIGINT',
  time: 'TIMESTAMPTZ(3)',
});
