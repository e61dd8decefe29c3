import path from 'node:path';
import Database from 'better-sqlite3';
import {
  ChainInUseError,
  CheckpointConflictError,
  ErasureConflictError,
  RETENTION_LEASE,
  RetentionInUseError,
  checkCheckpoint,
  checkErasures,
  fromCheckpointRow,
  fromErasureRow,
  fromExportRow,
  fromRetentionRow,
  type AuditCheckpointStore,
  type ChainLease,
  type CheckpointRow,
  type ErasureRow,
  type ExportRow,
  type RetentionRow,
} from './audit-checkpoints.js';
import { AUDIT_COLUMNS, parseRecord, toRow } from './rows.js';

/**
 * The checkpoint store on the embedded SQLite database. `write` runs its function in an
 * IMMEDIATE transaction of the store (and counts the commit).
 */
export function sqliteCheckpointStore(db: Database.Database, write: <T>(fn: () => T) => T): AuditCheckpointStore {
  const sql = {
    insert: db.prepare(
      'INSERT INTO audit_checkpoint (chain, seq, time, head, root, prev, jws, frontier) VALUES (@chain, @seq, @time, @head, @root, @prev, @jws, @frontier) ON CONFLICT DO NOTHING',
    ),
    node: db.prepare(
      'INSERT INTO audit_merkle_node (chain, level, idx, hash) VALUES (?, ?, ?, ?) ON CONFLICT (chain, level, idx) DO UPDATE SET hash = excluded.hash',
    ),
    latest: db.prepare('SELECT * FROM audit_checkpoint WHERE chain = ? ORDER BY seq DESC LIMIT 1'),
    chains: db.prepare('SELECT DISTINCT chain FROM audit_checkpoint ORDER BY chain').pluck(),
    list: db.prepare('SELECT * FROM audit_checkpoint WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?'),
    atOrBefore: db.prepare('SELECT * FROM audit_checkpoint WHERE chain = ? AND seq <= ? ORDER BY seq DESC LIMIT 1'),
    lastBefore: db.prepare('SELECT * FROM audit_checkpoint WHERE chain = ? AND time < ? ORDER BY time DESC, seq DESC LIMIT 1'),
    getNode: db.prepare('SELECT level, idx, hash FROM audit_merkle_node WHERE chain = ? AND level = ? AND idx = ?'),
    addExport: db.prepare(
      'INSERT INTO audit_export (id, chain, from_seq, to_seq, time, location, manifest_digest) VALUES (@id, @chain, @fromSeq, @toSeq, @time, @location, @manifestDigest)',
    ),
    exports: db.prepare('SELECT * FROM audit_export WHERE chain = ? ORDER BY to_seq, time'),
    retention: db.prepare('SELECT * FROM audit_retention WHERE chain = ?'),
    mark: db.prepare(
      'INSERT INTO audit_retention (chain, through_seq, audit_id, export_id, time) VALUES (@chain, @throughSeq, @auditId, @exportId, @time) ' +
        'ON CONFLICT (chain) DO UPDATE SET through_seq = excluded.through_seq, audit_id = excluded.audit_id, export_id = excluded.export_id, time = excluded.time ' +
        'WHERE excluded.through_seq > audit_retention.through_seq',
    ),
    deleteThrough: db.prepare(
      'DELETE FROM audit_record WHERE chain = ? AND seq IN (SELECT seq FROM audit_record WHERE chain = ? AND seq <= ? ORDER BY seq LIMIT ?)',
    ),
    expiring: db
      .prepare('SELECT record FROM audit_record WHERE purpose = ? AND time < ? AND chain = ? ORDER BY time, chain, seq LIMIT ?')
      .pluck(),
    expiringAfter: db
      .prepare(
        'SELECT record FROM audit_record WHERE purpose = ? AND time < ? AND chain = ? AND (time, chain, seq) > (?, ?, ?) ORDER BY time, chain, seq LIMIT ?',
      )
      .pluck(),
    erase: db.prepare(
      `UPDATE audit_record SET ${AUDIT_COLUMNS.filter((c) => c !== 'chain' && c !== 'seq')
        .map((c) => `${c} = @${c}`)
        .join(', ')} WHERE chain = @chain AND seq = @seq AND id = @id`,
    ),
    addErasure: db.prepare('INSERT INTO audit_erasure (chain, seq, audit_id, digest) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    forgetErasures: db.prepare(
      'DELETE FROM audit_erasure WHERE chain = @chain AND audit_id IN (SELECT e.audit_id FROM audit_erasure e WHERE e.chain = @chain AND e.seq <= @throughSeq ' +
        'AND NOT EXISTS (SELECT 1 FROM audit_erasure f WHERE f.audit_id = e.audit_id AND (f.chain <> e.chain OR f.seq > @throughSeq)))',
    ),
    erasures: db.prepare('SELECT * FROM audit_erasure WHERE chain = ? AND seq >= ? AND seq < ? ORDER BY seq'),
    erasedBy: db.prepare('SELECT * FROM audit_erasure WHERE audit_id = ? ORDER BY chain, seq LIMIT ?'),
    erasedByAfter: db.prepare('SELECT * FROM audit_erasure WHERE audit_id = ? AND (chain, seq) > (?, ?) ORDER BY chain, seq LIMIT ?'),
    addErasureSignature: db.prepare('INSERT INTO audit_erasure_signature (audit_id, jws) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    erasureSignature: db.prepare('SELECT jws FROM audit_erasure_signature WHERE audit_id = ?').pluck(),
    erasureMarks: db.prepare('SELECT purpose, through_time FROM audit_erasure_mark WHERE chain = ?'),
    markErasure: db.prepare(
      'INSERT INTO audit_erasure_mark (chain, purpose, through_time) VALUES (?, ?, ?) ' +
        'ON CONFLICT (chain, purpose) DO UPDATE SET through_time = excluded.through_time WHERE excluded.through_time > audit_erasure_mark.through_time',
    ),
  };

  return {
    async add(checkpoint, nodes) {
      // A fence has nothing to prove here: the chain's lease is a lock this process holds while it lives (fileLease).
      checkCheckpoint(checkpoint);
      write(() => {
        if (sql.insert.run(checkpoint).changes !== 1) throw new CheckpointConflictError(checkpoint.chain, checkpoint.seq);
        for (const n of nodes) sql.node.run(checkpoint.chain, n.level, n.index, n.hash);
      });
    },
    async chains() {
      return sql.chains.all() as string[];
    },
    async latest(chain) {
      const row = sql.latest.get(chain) as CheckpointRow | undefined;
      return row === undefined ? undefined : fromCheckpointRow(row);
    },
    async list(chain, afterSeq, limit) {
      return (sql.list.all(chain, afterSeq, limit) as CheckpointRow[]).map(fromCheckpointRow);
    },
    async atOrBefore(chain, seq) {
      const row = sql.atOrBefore.get(chain, seq) as CheckpointRow | undefined;
      return row === undefined ? undefined : fromCheckpointRow(row);
    },
    async lastBefore(chain, time) {
      const row = sql.lastBefore.get(chain, new Date(time).toISOString()) as CheckpointRow | undefined;
      return row === undefined ? undefined : fromCheckpointRow(row);
    },
    async nodes(chain, wanted) {
      const out = [];
      for (const w of wanted) {
        const row = sql.getNode.get(chain, w.level, w.index) as { level: number; idx: number; hash: string } | undefined;
        if (row !== undefined) out.push({ level: row.level, index: row.idx, hash: row.hash });
      }
      return out;
    },
    async recordExport(entry) {
      write(() => sql.addExport.run(entry));
    },
    async exports(chain) {
      return (sql.exports.all(chain) as ExportRow[]).map(fromExportRow);
    },
    async retention(chain) {
      const row = sql.retention.get(chain) as RetentionRow | undefined;
      return row === undefined ? undefined : fromRetentionRow(row);
    },
    async markRetention(mark) {
      write(() => sql.mark.run(mark));
    },
    async deleteThrough(chain, throughSeq, limit) {
      return write(() => sql.deleteThrough.run(chain, chain, throughSeq, limit).changes);
    },
    async expiring(q) {
      const before = new Date(q.before).toISOString();
      const texts = (
        q.after === undefined
          ? sql.expiring.all(q.purpose, before, q.chain, q.limit)
          : sql.expiringAfter.all(q.purpose, before, q.chain, new Date(q.after.time).toISOString(), q.chain, q.after.seq, q.limit)
      ) as string[];
      return texts.map(parseRecord);
    },
    async erase(erasures) {
      // The retention lease is a lock this process holds while it lives (fileLease): a fence has nothing to prove.
      checkErasures(erasures);
      if (erasures.length === 0) return;
      // The connection overwrites what a write frees with zeros (secure_delete, set when the store opens).
      write(() => {
        for (const { record, digest } of erasures) {
          if (
            sql.addErasure.run(record.chain, record.seq, record.erasedBy, digest).changes !== 1 ||
            sql.erase.run(toRow(record)).changes !== 1
          )
            throw new ErasureConflictError(
              record.chain,
              `chain ${record.chain}, seq ${record.seq}: the record was erased already, or is not the one read; nothing was erased`,
            );
        }
      });
      // The pages as they were before the erasure are still in the write-ahead log: write it back and empty it.
      // Best effort, without waiting: another process's reader in the middle of a transaction lets it go only
      // as far as it can, and the log's older frames are overwritten as it is used again.
      const timeout = db.pragma('busy_timeout', { simple: true }) as number;
      db.pragma('busy_timeout = 0');
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // The erasure is committed; the log is emptied at a later checkpoint.
      } finally {
        db.pragma(`busy_timeout = ${timeout}`);
      }
    },
    async forgetErasures(chain, throughSeq) {
      return write(() => sql.forgetErasures.run({ chain, throughSeq }).changes);
    },
    async erasures(chain, fromSeq, toSeq) {
      return (sql.erasures.all(chain, fromSeq, toSeq) as ErasureRow[]).map(fromErasureRow);
    },
    async erasedBy(auditId, after, limit) {
      const rows = (
        after === undefined ? sql.erasedBy.all(auditId, limit) : sql.erasedByAfter.all(auditId, after.chain, after.seq, limit)
      ) as ErasureRow[];
      return rows.map(fromErasureRow);
    },
    async erasureMarks(chain) {
      const rows = sql.erasureMarks.all(chain) as { purpose: string; through_time: string }[];
      return new Map(rows.map((r) => [r.purpose, r.through_time]));
    },
    async markErasure(chain, purpose, throughTime) {
      write(() => sql.markErasure.run(chain, purpose, new Date(throughTime).toISOString()));
    },
    async addErasureSignature(chain, auditId, jws) {
      if (write(() => sql.addErasureSignature.run(auditId, jws).changes) !== 1)
        throw new ErasureConflictError(
          chain,
          `chain ${chain}: the erasure documented by admin record ${auditId} is signed already; nothing was written`,
        );
    },
    async erasureSignature(auditId) {
      return (sql.erasureSignature.get(auditId) as string | undefined) ?? undefined;
    },
    async lockChain(chain) {
      return sqliteChainLease(db, chain);
    },
    async lockRetention() {
      return sqliteRetentionLease(db);
    },
  };
}

/**
 * The retention job's lease on the SQLite database `database` (see AuditCheckpointStore.lockRetention):
 * a lock file of its own beside the store, held as a chain's lease is.
 */
export function sqliteRetentionLease(database: { readonly name: string; readonly memory: boolean }): ChainLease {
  const busy = (): RetentionInUseError =>
    new RetentionInUseError(RETENTION_LEASE, 'another gateway process on this data folder is applying the retention rules');
  try {
    return database.memory
      ? processLease(`:memory:${RETENTION_LEASE}`, RETENTION_LEASE)
      : fileLease(`${database.name}.retention.lease`, RETENTION_LEASE);
  } catch (err) {
    if (err instanceof ChainInUseError) throw busy();
    throw err;
  }
}

/**
 * Takes a chain of the SQLite database `database` (its file name as opened, and whether it is an
 * in-memory one) for this process, as AuditCheckpointStore.lockChain does. The worker-backed
 * store (sqlite-worker.ts) calls it in the gateway's thread, so that the lease's connection
 * lives as long as the gateway, not as long as the store's thread.
 */
export function sqliteChainLease(database: { readonly name: string; readonly memory: boolean }, chain: string): ChainLease {
  if (database.memory) return processLease(`:memory:${chain}`, chain);
  return fileLease(`${database.name}.chain-${encodeURIComponent(chain)}.lease`, chain);
}

/** Leases held by this process, so that two gateways in one process cannot share a chain either. */
const held = new Set<string>();

/**
 * An exclusive lock on a small SQLite database of its own beside the store (empty: it holds
 * nothing but the lock), taken by BEGIN EXCLUSIVE on a connection this process keeps open and
 * never commits. SQLite locks the file with POSIX advisory locks, which the kernel releases
 * when the process ends, however it ends (SIGKILL, a crash, the container removed), and which
 * nothing else can take while the process lives, whatever the host name: nothing to clean up,
 * nothing to take over. The file is never deleted, since a process that opened it just before
 * would then lock a file nobody else sees. Lock files of the earlier kind (`*.lock`, naming a
 * process) mean nothing any more and may be deleted.
 */
function fileLease(file: string, chain: string): ChainLease {
  if (held.has(file)) throw new ChainInUseError(chain, `chain ${chain} is already held by another gateway in this process`);
  const lock = new Database(file, { timeout: 0 });
  try {
    lock.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    lock.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new ChainInUseError(
        chain,
        `chain ${chain} is held by another running gateway process on this data folder (${path.basename(file)}); each running instance needs its own instance id (SNITFLADE_INSTANCE_ID)`,
      );
    }
    throw err;
  }
  held.add(file);
  let released = false;
  return {
    chain,
    lost: false,
    fence: undefined,
    async release() {
      if (released) return;
      released = true;
      held.delete(file);
      lock.close(); // rolls back the open transaction and gives the lock back
    },
  };
}

/** An in-memory database lives in this process only: the lease need not leave it. */
function processLease(key: string, chain: string): ChainLease {
  if (held.has(key)) throw new ChainInUseError(chain, `chain ${chain} is already held by another gateway in this process`);
  held.add(key);
  return {
    chain,
    lost: false,
    fence: undefined,
    async release() {
      held.delete(key);
    },
  };
}
