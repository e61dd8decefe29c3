import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
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
    insert: db.prepare('INSERT INTO audit_checkpoint (chain, seq, time, head, root, prev, jws, frontier) VALUES (@chain, @seq, @time, @head, @root, @prev, @jws, @frontier) ON CONFLICT DO NOTHING'),
    node: db.prepare('INSERT INTO audit_merkle_node (chain, level, idx, hash) VALUES (?, ?, ?, ?) ON CONFLICT (chain, level, idx) DO UPDATE SET hash = excluded.hash'),
    latest: db.prepare('SELECT * FROM audit_checkpoint WHERE chain = ? ORDER BY seq DESC LIMIT 1'),
    chains: db.prepare('SELECT DISTINCT chain FROM audit_checkpoint ORDER BY chain').pluck(),
    list: db.prepare('SELECT * FROM audit_checkpoint WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?'),
    atOrBefore: db.prepare('SELECT * FROM audit_checkpoint WHERE chain = ? AND seq <= ? ORDER BY seq DESC LIMIT 1'),
    lastBefore: db.prepare('SELECT * FROM audit_checkpoint WHERE chain = ? AND time < ? ORDER BY time DESC, seq DESC LIMIT 1'),
    getNode: db.prepare('SELECT level, idx, hash FROM audit_merkle_node WHERE chain = ? AND level = ? AND idx = ?'),
    addExport: db.prepare('INSERT INTO audit_export (id, chain, from_seq, to_seq, time, location, manifest_digest) VALUES (@id, @chain, @fromSeq, @toSeq, @time, @location, @manifestDigest)'),
    exports: db.prepare('SELECT * FROM audit_export WHERE chain = ? ORDER BY to_seq, time'),
    retention: db.prepare('SELECT * FROM audit_retention WHERE chain = ?'),
    mark: db.prepare(
      'INSERT INTO audit_retention (chain, through_seq, audit_id, export_id, time) VALUES (@chain, @throughSeq, @auditId, @exportId, @time) ' +
        'ON CONFLICT (chain) DO UPDATE SET through_seq = excluded.through_seq, audit_id = excluded.audit_id, export_id = excluded.export_id, time = excluded.time ' +
        'WHERE excluded.through_seq > audit_retention.through_seq',
    ),
    deleteThrough: db.prepare('DELETE FROM audit_record WHERE chain = ? AND seq IN (SELECT seq FROM audit_record WHERE chain = ? AND seq <= ? ORDER BY seq LIMIT ?)'),
  };

  return {
    async add(checkpoint, nodes) {
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
 * in-memory one) for the calling thread, as AuditCheckpointStore.lockChain does. The worker-backed
 * store (sqlite-worker.ts) calls it in the gateway's thread: the set of chains held here is per
 * thread, so the lease must be taken where it is used.
 */
export function sqliteChainLease(database: { readonly name: string; readonly memory: boolean }, chain: string): ChainLease {
  if (database.memory) return processLease(`:memory:${chain}`, chain);
  return fileLease(`${database.name}.chain-${encodeURIComponent(chain)}.lock`, chain);
}

/** Leases held by this process, so that two gateways in one process cannot share a chain either. */
const held = new Set<string>();

/**
 * A lock file naming the holding process. A file left by a process that is gone (crash) is
 * taken over; one whose process still runs on this host refuses.
 */
function fileLease(file: string, chain: string): ChainLease {
  if (held.has(file)) throw new ChainInUseError(chain, `chain ${chain} is already held by another gateway in this process`);
  const me = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: { pid?: unknown; host?: unknown } = {};
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as typeof holder;
      } catch {
        holder = {};
      }
      if (typeof holder.pid === 'number' && holder.host === me.host && holder.pid !== process.pid && alive(holder.pid)) {
        throw new ChainInUseError(chain, `chain ${chain} is held by process ${holder.pid} on this host (${file}); each running instance needs its own instance id`);
      }
      if (typeof holder.pid === 'number' && holder.host !== me.host) {
        throw new ChainInUseError(chain, `chain ${chain} is held by a process on host ${String(holder.host)} (${file}); remove the file only if that process is gone`);
      }
      unlinkSync(file); // stale: its process is gone
      continue;
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    held.add(file);
    let released = false;
    return {
      chain,
      lost: false,
      async release() {
        if (released) return;
        released = true;
        held.delete(file);
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      },
    };
  }
  throw new ChainInUseError(chain, `chain ${chain}: could not take the lock file ${file}`);
}

/** An in-memory database lives in this process only: the lease need not leave it. */
function processLease(key: string, chain: string): ChainLease {
  if (held.has(key)) throw new ChainInUseError(chain, `chain ${chain} is already held by another gateway in this process`);
  held.add(key);
  return {
    chain,
    lost: false,
    async release() {
      held.delete(key);
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
