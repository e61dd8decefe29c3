import pg from 'pg';
import type { AuditRecord } from '../audit/types.js';
import { Batcher } from './batch.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { postgresDpo } from './postgres-dpo.js';
import { postgresConsents, type PgRead } from './postgres-consents.js';
import { postgresRelations, saveRelationsIn } from './postgres-relations.js';
import { postgresOutbox, queueNotifications } from './postgres-outbox.js';
import { postgresPolicyHistory } from './postgres-policy-history.js';
import { IdempotencyKeyTakenError, OutboxWriteError } from '../outbox/types.js';
import { RelationConflictError } from '../relations/types.js';
import { DURABLE_SESSION, postgresCheckpointStore } from './postgres-audit-checkpoints.js';
import { ChainLeaseLostError, leaseMovedOn, type AuditCheckpointStore } from './audit-checkpoints.js';
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
import { INSERT_AUDIT } from './postgres-audit-insert.js';
import {
  ChainConflictError,
  ReplayedClaimError,
  replayedClaims,
  type AuditQuery,
  type AuditStore,
  type ReplayCache,
  type Store,
  type StoreStats,
  type StoreDurability,
  type StoredAuditPage,
  type StoredAuditRow,
} from './types.js';

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  readonly url: string;
  /** Most connections held at once. Default 10. */
  readonly poolSize?: number;
  /** Giving up on a new connection, in ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Server-side limit on any statement, in ms. Default 30000. */
  readonly statementTimeoutMs?: number;
  /** Server-side limit on waiting for a lock (another writer, a DBA's LOCK TABLE), in ms. Default 5000. */
  readonly lockTimeoutMs?: number;
  /** Client-side limit on any query, for a server that stops answering. Default statement timeout + 5 s. */
  readonly queryTimeoutMs?: number;
  /** Errors of idle connections (the database restarted, a backend was terminated), for the operator's log. */
  readonly onError?: (err: Error) => void;
}

const dialect: SearchDialect = {
  param: (n) => `$${n}`,
  time: (placeholder) => `${placeholder}::timestamptz`,
  hasReason: (placeholder) => `reasons @> jsonb_build_array(${placeholder}::text)`,
};

/** pg_advisory_xact_lock key for schema changes: "Snit" and "flad" as two int4. */
const SCHEMA_LOCK = [0x536e6974, 0x666c6164] as const;

/**
 * An append as one statement: it reads each chain's head (its seq and the record's "hash" member,
 * not the whole record) and inserts the batch only if every chain's head is the one the batch
 * continues ($18-$20: chain, seq and hash the first record of each chain expects). Otherwise it
 * inserts nothing and names the heads that differ. A concurrent writer that got in after this
 * statement's snapshot makes the insert fail on the primary key instead (23505).
 *
 * With a fence (the chain lease's generation, see ChainFence), it also locks the chain's lease
 * row FOR SHARE if, and only if, it still holds that generation, and inserts nothing otherwise.
 * Taking the lease increments the generation (an UPDATE of that row), which therefore waits for
 * an append in flight to commit, and an append that starts after it finds the new generation:
 * a holder that lost the lease cannot write a record once the new holder read the head.
 *
 * With replay claims, in the same statement, so a decision record and its token's claim are one
 * round trip. Required keys are inserted without ON CONFLICT: a key already taken (or being
 * taken by a transaction that then commits) fails the whole statement with 23505 on
 * replay_key_pkey, and nothing of it is written. Optional keys are claimed if free. No key is
 * claimed when the chain or fence check fails. Named, so each connection parses and plans each
 * variant once.
 */
function appendStatement(claiming: boolean, fenced: boolean): { readonly name: string; readonly text: string } {
  const fenceAt = claiming ? 25 : 21;
  const go = `NOT EXISTS (SELECT 1 FROM stale)${fenced ? ' AND EXISTS (SELECT 1 FROM fence)' : ''}`;
  const text =
    'WITH expect AS (SELECT * FROM unnest($18::text[], $19::bigint[], $20::text[]) AS e(chain, seq, hash)), ' +
    (fenced
      ? `fence AS (SELECT 1 FROM audit_chain_lease WHERE chain = $${fenceAt}::text AND generation = $${fenceAt + 1}::bigint FOR SHARE), `
      : '') +
    "head AS (SELECT e.chain, e.seq AS expected_seq, e.hash AS expected_hash, coalesce(h.seq, 0) AS seq, coalesce(h.hash, repeat('0', 64)) AS hash " +
    "FROM expect e LEFT JOIN LATERAL (SELECT a.seq, a.record::json->>'hash' AS hash FROM audit_record a WHERE a.chain = e.chain ORDER BY a.seq DESC LIMIT 1) h ON true), " +
    'stale AS (SELECT chain, seq FROM head WHERE seq IS DISTINCT FROM expected_seq OR hash IS DISTINCT FROM expected_hash), ' +
    `ins AS (${INSERT_AUDIT} WHERE ${go} RETURNING 1)` +
    (claiming
      ? `, req AS (INSERT INTO replay_key (key, expires_at) SELECT k, e FROM unnest($21::text[], $22::bigint[]) AS c(k, e) WHERE ${go} RETURNING 1)` +
        `, opt AS (INSERT INTO replay_key (key, expires_at) SELECT k, e FROM unnest($23::text[], $24::bigint[]) AS c(k, e) WHERE ${go} ON CONFLICT (key) DO NOTHING RETURNING 1)`
      : '') +
    ' SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT json_agg(json_build_array(chain, seq)) FROM stale) AS stale' +
    (fenced ? ', EXISTS (SELECT 1 FROM fence) AS fenced' : ', true AS fenced');
  return { name: `snitflade-audit-append${claiming ? '-claiming' : ''}${fenced ? '-fenced' : ''}`, text };
}

const APPEND = [false, true].map((claiming) => [false, true].map((fenced) => appendStatement(claiming, fenced)));

/** Claims replay keys; returns the ones this statement inserted (a key listed twice, once). */
const CLAIM_KEYS =
  'INSERT INTO replay_key (key, expires_at) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (key) DO NOTHING RETURNING key';

interface Claim {
  readonly key: string;
  readonly expiresAt: number;
}

interface PgRow {
  chain: string;
  seq: string;
  id: string;
  audit_id: string;
  time: Date;
  kind: string;
  subject: string | null;
  caller_system: string | null;
  administration: string | null;
  caseworker: string | null;
  contract: string | null;
  purpose: string | null;
  policy_id: string | null;
  policy_version: number | null;
  decision: string | null;
  reasons: unknown;
  record: string;
}

const SCAN_PAGE_SQL = scanPageSql('postgres');
const SCAN_PAGE_RANGE_SQL = scanPageSql('postgres', true);

/**
 * The shared store for several gateway instances: PostgreSQL through a pg Pool.
 *
 * Durability: a write resolves after its commit returned, and a commit waits for the WAL flush:
 * every connection the store opens (the pool's, the chain lease's) asks for
 * synchronous_commit = on in its start-up packet (DURABLE_SESSION). A session's own setting
 * outranks the server's configuration file, ALTER SYSTEM, ALTER DATABASE and ALTER ROLE, so no
 * setting a database administrator changes while the gateway runs (and reloads) can make its
 * commits asynchronous; the readiness detail reports the setting in force on a connection of the
 * store. A write that is one statement (an audit append, a batch of replay claims) is sent on its
 * own, outside BEGIN ... COMMIT, and commits before its result comes back: one round trip. Connection
 * failures reject the operation in progress (never crash the process); broken connections are
 * dropped and the pool opens new ones, so the store recovers by itself once the database is back.
 *
 * @example
 * const store = await openPostgresStore({ url: 'postgres://snitflade@db/snitflade' });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  if (typeof options.url !== 'string' || options.url.length === 0) throw new TypeError('openPostgresStore: url is required');
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeoutMs,
    lock_timeout: options.lockTimeoutMs ?? 5000,
    query_timeout: options.queryTimeoutMs ?? statementTimeoutMs + 5000,
    idle_in_transaction_session_timeout: 60_000,
    application_name: 'snitflade',
    options: DURABLE_SESSION,
  });
  // An idle connection that dies emits 'error' on the pool; unhandled, that would end the process.
  // The pool has already discarded the connection, so there is nothing else to do.
  pool.on('error', (err) => options.onError?.(err));
  const store = new PostgresStore(pool);
  try {
    await store.init();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return store;
}

/** Errors after which a connection must not go back to the pool. */
function breaksConnection(err: unknown): boolean {
  if ((err as { rollbackFailed?: boolean } | null)?.rollbackFailed === true) return true;
  if (
    err instanceof ChainConflictError ||
    err instanceof ChainLeaseLostError ||
    err instanceof TypeError ||
    err instanceof IdempotencyKeyTakenError ||
    err instanceof RelationConflictError
  )
    return false; // ours, the connection is fine
  if (err instanceof OutboxWriteError) return breaksConnection(err.cause);
  if (!(err instanceof pg.DatabaseError)) return true; // network error, client-side timeout, protocol error
  const code = err.code ?? '';
  // 25006: the server is read-only (a standby after failover, or a DBA's switch); a new connection may reach a writable one.
  return code.startsWith('08') || code.startsWith('57P') || code === 'XX000' || code === '25006';
}

class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly audit: AuditStore;
  readonly replay: ReplayCache;
  readonly dpo: Store['dpo'];
  readonly consents: Store['consents'];
  readonly relations: Store['relations'];
  readonly outbox: Store['outbox'];
  readonly checkpoints: AuditCheckpointStore;
  readonly policyHistory: Store['policyHistory'];
  readonly #pool: pg.Pool;
  readonly #stats = { commits: 0, auditRecords: 0, replayClaims: 0 };
  readonly #claims: Batcher<Claim, boolean>;
  #closed = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
    const stats = this.#stats;
    const read: PgRead = <T extends pg.QueryResultRow>(
      query: string | { readonly name: string; readonly text: string },
      values: unknown[],
    ) => this.#withClient(async (c) => (await c.query<T>(typeof query === 'string' ? { text: query, values } : { ...query, values })).rows);
    const headOf = async (c: pg.PoolClient, chain: string): Promise<AuditRecord | undefined> => {
      const { rows } = await c.query<{ record: string }>('SELECT record FROM audit_record WHERE chain = $1 ORDER BY seq DESC LIMIT 1', [
        chain,
      ]);
      return rows[0] === undefined ? undefined : parseRecord(rows[0].record);
    };
    const dpo = postgresDpo(read, (fn) => this.#transaction(fn));
    this.consents = postgresConsents(read, (fn) => this.#transaction(fn));
    this.relations = postgresRelations(read, (fn) => this.#transaction(fn));
    this.outbox = postgresOutbox(read, (fn) => this.#transaction(fn));
    this.dpo = dpo.dpo;
    this.policyHistory = postgresPolicyHistory(read, (fn) => this.#transaction(fn));
    this.checkpoints = postgresCheckpointStore(pool, pool.options.connectionString ?? '');

    this.audit = {
      head: (chain) => this.#withClient((c) => headOf(c, chain)),
      append: async (records, claims = [], notifications = [], fence, relationWrites = []) => {
        if (records.length === 0) return;
        const groups = byChain(records);
        // Each chain's records must link to one another here; that the first continues the
        // stored head is checked by the statement itself, against the head it reads.
        const expect: [string[], number[], unknown[]] = [[], [], []];
        for (const [chain, group] of groups) {
          const first = group[0] as AuditRecord;
          checkContinues(chain, { seq: first.seq - 1, hash: first.prevHash }, group);
          expect[0].push(chain);
          expect[1].push(first.seq - 1);
          expect[2].push(first.prevHash);
        }
        const rows = records.map(toRow);
        const values = [...AUDIT_COLUMNS.map((col) => rows.map((r) => r[col])), ...expect];
        type Appended = { inserted: number; stale: [string, string | number][] | null; fenced: boolean };
        // A key required twice in one append is taken by the first; an optional claim of a
        // required key adds nothing.
        const required = [...new Map(claims.filter((c) => c.required).map((c) => [c.key, c.expiresAt])).entries()];
        const requiredKeys = new Set(required.map(([k]) => k));
        const twice = replayedClaims(claims, requiredKeys);
        if (twice.length > 0) throw new ReplayedClaimError(twice);
        const optional = [
          ...new Map(claims.filter((c) => !c.required && !requiredKeys.has(c.key)).map((c) => [c.key, c.expiresAt])).entries(),
        ];
        const claimValues =
          claims.length === 0
            ? []
            : [required.map(([k]) => k), required.map(([, e]) => e), optional.map(([k]) => k), optional.map(([, e]) => e)];
        const fenceValues = fence === undefined ? [] : [fence.chain, fence.generation];
        const statement = APPEND[claims.length === 0 ? 0 : 1]![fence === undefined ? 0 : 1]!;
        const params = [...values, ...claimValues, ...fenceValues];
        const appended = (result: Appended | undefined): void => {
          if (result?.fenced === false) throw leaseMovedOn(fence!);
          if (result?.inserted !== records.length) throw notContinued(result);
        };
        try {
          if (notifications.length === 0 && relationWrites.length === 0) {
            appended((await this.#commitStatement<Appended>(statement, params)).rows[0]);
          } else {
            // The records, the notifications' outbox rows and the relation writes: one transaction.
            await this.#transaction(async (c) => {
              appended((await c.query<Appended>({ ...statement, values: params })).rows[0]);
              if (notifications.length > 0) {
                let taken: number[];
                try {
                  taken = await queueNotifications(c, notifications);
                } catch (err) {
                  throw new OutboxWriteError(err);
                }
                if (taken.length > 0) throw new IdempotencyKeyTakenError(taken);
              }
              const lost = relationWrites.length === 0 ? [] : await saveRelationsIn(c, relationWrites);
              if (lost.length > 0) throw new RelationConflictError(lost);
            });
          }
        } catch (err) {
          if (err instanceof pg.DatabaseError && err.code === '23505' && err.constraint === 'replay_key_pkey') {
            // Which required keys were taken: the statement wrote nothing, so any of them found now was there before.
            const taken = await read<{ key: string }>('SELECT key FROM replay_key WHERE key = ANY($1::text[])', [required.map(([k]) => k)]);
            if (taken.length > 0) throw new ReplayedClaimError(taken.map((r) => r.key));
            throw err; // the other claimant rolled back after all: unknown, fail the batch
          }
          // Another writer appended to the same chain after the statement read the head.
          if (err instanceof pg.DatabaseError && err.code === '23505' && err.constraint === 'audit_record_pkey') {
            throw new ChainConflictError(records[0]?.chain ?? '', 'audit append lost a race for the same seq on its chain; refused');
          }
          throw err;
        }
        stats.auditRecords += records.length;
        stats.replayClaims += claims.length;
      },
      range: async (chain, fromSeq, limit) =>
        (
          await read<{ record: string }>('SELECT record FROM audit_record WHERE chain = $1 AND seq >= $2 ORDER BY seq LIMIT $3', [
            chain,
            fromSeq,
            limit,
          ])
        ).map((r) => parseRecord(r.record)),
      scan: async (chain, fromSeq, limit): Promise<StoredAuditRow[]> =>
        (
          await read<PgRow>(`SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_record WHERE chain = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, [
            chain,
            fromSeq,
            limit,
          ])
        ).map((r) => toStoredRow(fromPg(r))),
      scanPage: async (chain, fromSeq, limit): Promise<StoredAuditPage> => {
        type Row = [string, string, string | null, unknown, string | null];
        const rows = await this.#withClient(async (c) => {
          // The rows of seqs fromSeq .. fromSeq + limit - 1, when all are there, are the first `limit`
          // rows from fromSeq: a range the planner reads by the primary key whatever its statistics.
          // (Without statistics, as right after a bulk load, it may read and sort the whole rest
          // of the chain for each `ORDER BY seq LIMIT` page.) Otherwise (a gap, the chain's end),
          // the rows from fromSeq on, at most `limit`.
          const range = await c.query<Row>({ text: SCAN_PAGE_RANGE_SQL, values: [chain, fromSeq, fromSeq + limit], rowMode: 'array' });
          return range.rows.length === limit
            ? range.rows
            : (await c.query<Row>({ text: SCAN_PAGE_SQL, values: [chain, fromSeq, limit], rowMode: 'array' })).rows;
        });
        return toStoredPage(rows.map((r) => [Number(r[0]), r[1], r[2], JSON.stringify(r[3]), r[4]]));
      },
      chains: async () => (await read<{ chain: string }>(CHAINS_SQL, [])).map((r) => r.chain),
      search: async (query: AuditQuery) => {
        const s = searchSql(dialect, query);
        if (s.empty) return { records: [] };
        const rows = await read<{ time: Date; chain: string; seq: string; record: string }>(s.sql, s.params);
        return searchPage(
          rows.map((r) => ({ position: { time: r.time.toISOString(), chain: r.chain, seq: Number(r.seq) }, record: r.record })),
          s.limit,
        );
      },
    };

    this.#claims = new Batcher<Claim, boolean>(async (batch) => {
      // One row per distinct key; a key claimed twice in one batch is fresh at most once.
      const keys = [...new Map(batch.map((c) => [c.key, c.expiresAt])).entries()];
      const { rows } = await this.#commitStatement<{ key: string }>(CLAIM_KEYS, [keys.map(([k]) => k), keys.map(([, e]) => e)]);
      const inserted = new Set(rows.map((r) => r.key));
      stats.replayClaims += batch.length;
      return batch.map((c) => inserted.delete(c.key));
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
      prune: (now) =>
        this.#transaction(async (c) => (await c.query('DELETE FROM replay_key WHERE expires_at < $1', [now.getTime()])).rowCount ?? 0),
    };
  }

  get stats(): StoreStats {
    return { ...this.#stats };
  }

  /** Creates or upgrades the schema; instances starting together queue on an advisory lock. */
  async init(): Promise<void> {
    await this.#transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...SCHEMA_LOCK]);
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of POSTGRES_MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const statement of m.statements) await c.query(statement);
        await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      }
    });
  }

  async checkWritable(): Promise<StoreDurability> {
    return this.#withClient(async (c) => {
      const { rows } = await c.query<{ recovery: boolean; read_only: string; synchronous_commit: string }>(
        "SELECT pg_is_in_recovery() AS recovery, current_setting('transaction_read_only') AS read_only, current_setting('synchronous_commit') AS synchronous_commit",
      );
      if (rows[0]?.recovery !== false || rows[0]?.read_only !== 'off') throw new Error('the PostgreSQL server is read-only');
      const value = rows[0].synchronous_commit;
      return { setting: 'synchronous_commit', value, durable: value !== 'off' };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#claims.close();
    this.#closed = true;
    await this.#pool.end();
  }

  /** Runs fn on a pooled connection; a connection that broke on the way is destroyed, not reused. */
  async #withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('store is closed');
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    // A checked-out client that loses its connection emits 'error'; without a listener that
    // would be an uncaught exception. The query in progress rejects on its own.
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (err) {
      if (breaksConnection(err)) broken ??= err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * Runs one statement as a transaction of its own and counts the commit: one round trip, since
   * a statement outside BEGIN ... COMMIT commits (and waits for the WAL flush, DURABLE_SESSION)
   * before its result comes back.
   */
  async #commitStatement<T extends pg.QueryResultRow>(
    query: string | { readonly name: string; readonly text: string },
    values: unknown[],
  ): Promise<pg.QueryResult<T>> {
    const config = typeof query === 'string' ? { text: query, values } : { ...query, values };
    const result = await this.#withClient((c) => c.query<T>(config));
    this.#stats.commits += 1;
    return result;
  }

  /** Runs fn in a transaction and counts the commit. */
  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const result = await this.#withClient(async (c) => {
      await c.query('BEGIN');
      try {
        const value = await fn(c);
        await c.query('COMMIT');
        return value;
      } catch (err) {
        try {
          await c.query('ROLLBACK');
        } catch {
          // The connection is gone or unusable; withClient destroys it because err (or the
          // rollback failure) breaks it. Report the original error.
          throw Object.assign(err instanceof Error ? err : new Error(String(err)), { rollbackFailed: true });
        }
        throw err;
      }
    });
    this.#stats.commits += 1;
    return result;
  }
}

/** The refusal of an append whose first record does not continue its chain's stored head. */
function notContinued(result: { stale: [string, string | number][] | null } | undefined): ChainConflictError {
  const [chain, seq] = result?.stale?.[0] ?? ['', '?'];
  return new ChainConflictError(chain, `audit append to chain ${chain} does not continue its head (seq ${seq}); refused`);
}

function fromPg(r: PgRow): AuditRow {
  return {
    chain: r.chain,
    seq: Number(r.seq),
    id: r.id,
    audit_id: r.audit_id,
    time: r.time.toISOString(),
    kind: r.kind,
    subject: r.subject,
    caller_system: r.caller_system,
    administration: r.administration,
    caseworker: r.caseworker,
    contract: r.contract,
    purpose: r.purpose,
    policy_id: r.policy_id,
    policy_version: r.policy_version,
    decision: r.decision,
    reasons: JSON.stringify(r.reasons),
    record: r.record,
  };
}
