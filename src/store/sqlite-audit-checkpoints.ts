import path from 'node:path';
import Database from 'better-sqlite3';
import {
  ChainInUseError,
  CheckpointConflictError,
  checkCheckpoint,
  fromCheckpointRow,
  fromExportRow,
  fromRetentionRow,
  type AuditCheckpointStore,
  type ChainLease,
  type CheckpointRow,
  type ExportRow,
  type RetentionRow,
} from './audit-checkpoints.js';

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
    async lockChain(chain) {
      return sqliteChainLease(db, chain);
    },
  };
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
