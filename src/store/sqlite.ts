import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AuditRecord } from '../audit/types.js';
import { Batcher } from './batch.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { sqliteDpo } from './sqlite-dpo.js';
import { sqliteConsents } from './sqlite-consents.js';
import { sqlitePolicyHistory } from './sqlite-policy-history.js';
import { lockOrder } from './relations.js';
import { sqliteRelations } from './sqlite-relations.js';
import { sqliteOutbox } from './sqlite-outbox.js';
import { IdempotencyKeyTakenError, OutboxWriteError } from '../outbox/types.js';
import { RelationConflictError } from '../relations/types.js';
import { sqliteCheckpointStore } from './sqlite-audit-checkpoints.js';
import { openSqliteWorkerStore } from './sqlite-worker.js';
import type { AuditCheckpointStore } from './audit-checkpoints.js';
import {
  AUDIT_COLUMNS,
  CHAINS_SQL,
  byChain,
  checkContinues,
  parseRecord,
  scanPageSql,
  searchPage,
  searchSql,
  toRow,
  toStoredPage,
  toStoredRow,
  type AuditRow,
  type SearchDialect,
} from './rows.js';
import {
  ReplayedClaimError,
  replayedClaims,
  type AuditQuery,
  type AuditStore,
  type ReplayCache,
  type Store,
  type StoreDurability,
  type StoreStats,
  type StoredAuditPage,
  type StoredAuditRow,
} from './types.js';

export interface SqliteStoreOptions {
  /** The database file; its folder is created if missing. */
  readonly file: string;
  /**
   * How long a write waits for another connection's lock before it fails (SQLITE_BUSY), in ms.
   * better-sqlite3 is synchronous, so the wait blocks the thread that runs the store (its worker
   * thread, or the event loop with `thread: false`): keep it short. Default 2000.
   */
  readonly busyTimeoutMs?: number;
  /**
   * Where the database work runs. Default true: in a worker thread of its own (sqlite-worker.ts),
   * so that no statement and no fsync stalls the event loop, which serves TLS, HTTP and token
   * checks. false: in the calling thread, synchronously (what the worker itself uses inside).
   */
  readonly thread?: boolean;
}

const dialect: SearchDialect = {
  param: () => '?',
  time: (placeholder) => placeholder,
  hasReason: (placeholder) => `EXISTS (SELECT 1 FROM json_each(audit_record.reasons) WHERE json_each.value = ${placeholder})`,
};

const SYNCHRONOUS_LEVELS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

interface Claim {
  readonly key: string;
  readonly expiresAt: number;
}

/**
 * The embedded store: one SQLite file in WAL mode.
 *
 * Durability: `synchronous = FULL`. In WAL mode the default NORMAL does not fsync the WAL on
 * each commit, so the last commits can be lost on power failure even though they "succeeded";
 * the trail promises that a record is durable before anything is released (invariant 2), so
 * every commit is fsynced. Group commit (Batcher, AuditTrail) keeps that cost per batch, not
 * per record.
 *
 * The database work runs in a worker thread unless `thread: false` (see SqliteStoreOptions);
 * opening fails as it would in this thread, with the same error (class, message and code).
 *
 * @example
 * const store = await openSqliteStore({ file: 'data/snitflade.db' });
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  if (typeof options.file !== 'string' || options.file.length === 0) throw new TypeError('openSqliteStore: file is required');
  const busyTimeoutMs = options.busyTimeoutMs ?? 2000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0)
    throw new TypeError('openSqliteStore: busyTimeoutMs must be a non-negative integer');
  if (options.thread !== undefined && typeof options.thread !== 'boolean') throw new TypeError('openSqliteStore: thread must be a boolean');
  if (options.thread === false) return openInThread(options.file, busyTimeoutMs);
  return openSqliteWorkerStore({ file: options.file, busyTimeoutMs });
}

/** Opens the store in the calling thread: what the worker thread does (sqlite-thread.ts). */
async function openInThread(file: string, busyTimeoutMs: number): Promise<Store> {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });

  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && file !== ':memory:')
      throw new Error(`openSqliteStore: could not switch the database to WAL mode (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    // What a write frees (a record erased or deleted under retention, a page rebalanced) is overwritten
    // with zeros, so that erased content does not stay behind in the file's unused space.
    db.pragma('secure_delete = ON');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteStore(db);
}

function migrate(db: Database.Database): void {
  // IMMEDIATE: two processes opening the same file at once take turns instead of racing.
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of SQLITE_MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const statement of m.statements) db.exec(statement);
      record.run(m.version, m.name, new Date().toISOString());
    }
  }).immediate();
}

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly audit: AuditStore;
  readonly replay: ReplayCache;
  readonly dpo: Store['dpo'];
  readonly consents: Store['consents'];
  readonly relations: Store['relations'];
  readonly outbox: Store['outbox'];
  readonly checkpoints: AuditCheckpointStore;
  readonly policyHistory: Store['policyHistory'];
  readonly #db: Database.Database;
  readonly #stats = { commits: 0, auditRecords: 0, replayClaims: 0 };
  readonly #claims: Batcher<Claim, boolean>;
  #closed = false;

  constructor(db: Database.Database) {
    this.#db = db;
    const sql = {
      head: db.prepare('SELECT record FROM audit_record WHERE chain = ? ORDER BY seq DESC LIMIT 1').pluck(),
      insert: db.prepare(`INSERT INTO audit_record (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map((c) => `@${c}`).join(', ')})`),
      range: db.prepare('SELECT record FROM audit_record WHERE chain = ? AND seq >= ? ORDER BY seq LIMIT ?').pluck(),
      scan: db.prepare(`SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_record WHERE chain = ? AND seq >= ? ORDER BY seq LIMIT ?`),
      scanPage: db.prepare(scanPageSql('sqlite')).raw(),
      chains: db.prepare(CHAINS_SQL).pluck(),
      claim: db.prepare('INSERT INTO replay_key (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
      prune: db.prepare('DELETE FROM replay_key WHERE expires_at < ?'),
    };
    const stats = this.#stats;
    const write = <T>(fn: () => T): T => {
      this.#open();
      const result = db.transaction(fn).immediate();
      stats.commits += 1;
      return result;
    };
    const headOf = (chain: string): AuditRecord | undefined => {
      const json = sql.head.get(chain) as string | undefined;
      return json === undefined ? undefined : parseRecord(json);
    };
    const dpo = sqliteDpo(db, write);
    this.consents = sqliteConsents(db, write);
    const relations = sqliteRelations(db, write);
    this.relations = relations.relations;
    const outbox = sqliteOutbox(db, write);
    this.outbox = outbox.outbox;
    this.dpo = dpo.dpo;
    this.checkpoints = sqliteCheckpointStore(db, write);
    this.policyHistory = sqlitePolicyHistory(db, write);

    this.audit = {
      async head(chain) {
        return headOf(chain);
      },
      async append(records, claims = [], notifications = [], _fence, relationWrites = []) {
        if (records.length === 0) return;
        const groups = byChain(records);
        const rows = records.map(toRow);
        write(() => {
          if (claims.length > 0) {
            const fresh = new Set(claims.filter((c) => sql.claim.run(c.key, c.expiresAt).changes === 1).map((c) => c.key));
            const replayed = replayedClaims(claims, fresh);
            if (replayed.length > 0) throw new ReplayedClaimError(replayed); // rolls the transaction back
          }
          for (const [chain, group] of groups) checkContinues(chain, headOf(chain), group);
          for (const row of rows) sql.insert.run(row);
          if (notifications.length > 0) {
            let taken: number[];
            try {
              taken = outbox.queue(notifications);
            } catch (err) {
              throw new OutboxWriteError(err);
            }
            if (taken.length > 0) throw new IdempotencyKeyTakenError(taken);
          }
          const lost = lockOrder(relationWrites).filter((i) => relations.saveIn(relationWrites[i]!) === 'conflict');
          if (lost.length > 0) throw new RelationConflictError(lost);
        });
        stats.auditRecords += records.length;
        stats.replayClaims += claims.length;
      },
      async range(chain, fromSeq, limit) {
        return (sql.range.all(chain, fromSeq, limit) as string[]).map(parseRecord);
      },
      async scan(chain, fromSeq, limit): Promise<StoredAuditRow[]> {
        return (sql.scan.all(chain, fromSeq, limit) as AuditRow[]).map(toStoredRow);
      },
      async scanPage(chain, fromSeq, limit): Promise<StoredAuditPage> {
        return toStoredPage(sql.scanPage.all(chain, fromSeq, limit) as [number, string, string | null, string, string | null][]);
      },
      async chains() {
        return sql.chains.all() as string[];
      },
      async search(query: AuditQuery) {
        const s = searchSql(dialect, query);
        if (s.empty) return { records: [] };
        const rows = db.prepare(s.sql).all(...s.params) as { time: string; chain: string; seq: number; record: string }[];
        return searchPage(
          rows.map((r) => ({ position: { time: r.time, chain: r.chain, seq: r.seq }, record: r.record })),
          s.limit,
        );
      },
    };

    this.#claims = new Batcher<Claim, boolean>((batch) => {
      const fresh = write(() => batch.map((c) => sql.claim.run(c.key, c.expiresAt).changes === 1));
      stats.replayClaims += batch.length;
      return fresh;
    });
    const claims = this.#claims;
    this.replay = {
      claim(key, expiresAt) {
        if (typeof key !== 'string' || key.length === 0)
          return Promise.reject(new TypeError('ReplayCache.claim: key must be a non-empty string'));
        const ms = expiresAt instanceof Date ? expiresAt.getTime() : Number.NaN;
        if (Number.isNaN(ms)) return Promise.reject(new TypeError('ReplayCache.claim: expiresAt must be a valid Date'));
        return claims.submit({ key, expiresAt: ms });
      },
      async prune(now) {
        return write(() => sql.prune.run(now.getTime()).changes);
      },
    };
  }

  get stats(): StoreStats {
    return { ...this.#stats };
  }

  async checkWritable(): Promise<StoreDurability> {
    this.#open();
    // Takes (and gives back) the write lock: fails like a write would if another connection holds it.
    this.#db.exec('BEGIN IMMEDIATE');
    this.#db.exec('ROLLBACK');
    // 2 = FULL, 3 = EXTRA: each commit fsyncs the WAL. Set on this connection at open; nothing outside it can change it.
    const level = Number(this.#db.pragma('synchronous', { simple: true }));
    return { setting: 'synchronous', value: SYNCHRONOUS_LEVELS[level] ?? String(level), durable: level >= 2 };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#claims.close();
    this.#closed = true;
    this.#db.close();
  }

  #open(): void {
    if (this.#closed) throw new Error('store is closed');
  }
}
